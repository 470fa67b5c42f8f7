"""Auth snapshots (sandbox): the profile's login files via the auth store, against Playwright's storage_state.

    .venv/bin/python -m bench.auth_snapshot [--runs 5] [--restores 3] [--record]

One Chromium with a persistent profile opens the sandbox's WhatsApp Web page (the WPP double injected as the
engine injects it) and is linked by QR. The sandbox keeps the device token sealed with a non-extractable
CryptoKey in IndexedDB plus a salt in localStorage, as WhatsApp Web does; Chromium writes localStorage to disk
lazily, so the bench first waits until the salt is in the profile's files ("salt on disk after link"). Then,
from that same running browser, `--runs` times each:
- `profile files` (what the engine stores): `profile.archive` + `AuthStore.save` (gzip + AES-256-GCM per
  distinct file, only contents not stored yet uploaded; local storage backend). The first save uploads
  everything; the later ones, back to back, are what a periodic snapshot that finds little or nothing new
  costs (their uploads are listed). Stored bytes = the sealed objects.
- `storage_state` (the baseline, what the engine stored before): `context.storage_state(indexed_db=True)` as
  compact JSON, gzipped and sealed. It cannot carry the CryptoKey (Playwright #35946): its restores are
  expected to come back unlinked.
Restore (`--restores` times): `AuthStore.load` + `profile.restore` into a new profile dir (timed), then launch
-> linked without a QR; for the baseline a new context from the state. A restore that shows a QR fails.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from bench.harness import BenchError, machine_info, percentile, record_section, scratch_dir, wait_for_port
from functions.cli.redis_server import free_port
from functions.config import load_settings
from functions.crypto.envelope import Envelope, envelope_from_settings
from functions.storage import BlobStorage, build_storage
from runner.auth_store import AuthStore
from runner.engines.webjs import profile
from runner.engines.webjs.browser import LAUNCH_ARGS, chrome_major_version, user_agent_for
from runner.sandbox import WPP_DOUBLE_SCRIPTS

KEY = "auth_snapshot"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
USER_AGENT = user_agent_for(chrome_major_version(CHROMIUM))
PHONE = "15550009999"
SESSION = "bench"
LINKED = (
    "() => !!(window.WPP && WPP.isReady && WPP.conn.isRegistered()"
    " && WPP.conn.getStreamData().mode === 'MAIN')"
)
QR = "async () => { const c = window.WPP && await WPP.conn.getAuthCode(); return c ? c.fullCode : null; }"
SALT_ON_DISK_TIMEOUT = 120.0


def _launch(playwright: Playwright, profile_dir: Path) -> BrowserContext:
    context = playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, user_agent=USER_AGENT
    )
    _inject(context)
    return context


def _inject(context: BrowserContext) -> None:
    for path in WPP_DOUBLE_SCRIPTS:  # as the engine injects wa-js (runner.engines.webjs.page_setup)
        context.add_init_script(path=str(path))


def _open(context: BrowserContext, url: str) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    return page


def _current_qr(page: Page) -> str | None:
    try:
        return page.evaluate(QR)  # type: ignore[no-any-return]
    except PlaywrightError:  # the page is reloading (after a link): no QR to read this instant
        return None


def link(playwright: Playwright, profile_dir: Path, url: str, sandbox: str) -> tuple[BrowserContext, float]:
    """A browser on the sandbox page, linked to PHONE by QR; and how long after the link its localStorage
    (the salt) reached the profile's files."""
    phone = {"number": PHONE, "name": "Bench"}
    httpx.post(f"{sandbox}/_sandbox/phones", json=phone, timeout=10).raise_for_status()
    context = _launch(playwright, profile_dir)
    page = _open(context, url)
    qr = None
    while not qr:  # the page's current QR (polled: an async predicate would be taken as truthy at once)
        page.wait_for_timeout(50)
        qr = _current_qr(page)
    httpx.post(f"{sandbox}/_sandbox/phones/{PHONE}/link", json={"qr": qr}, timeout=10).raise_for_status()
    linked_at = time.monotonic()
    page.wait_for_function(LINKED, timeout=30_000)
    while b"WebEncKeySalt" not in _local_storage_bytes(profile_dir):
        if time.monotonic() - linked_at > SALT_ON_DISK_TIMEOUT:
            raise RuntimeError("Chromium never wrote the salt to the profile")
        time.sleep(0.1)
    return context, time.monotonic() - linked_at


def _local_storage_bytes(profile_dir: Path) -> bytes:
    files = profile.archive(profile_dir)
    return b"".join(data for name, data in files.items() if name.startswith("Default/Local Storage/"))


def measure_profile_files(
    profile_dir: Path, auth: AuthStore, storage: BlobStorage, runs: int
) -> dict[str, Any]:
    """`runs` snapshots of the running profile through the auth store: sizes after the first, times."""
    archive_times, save_times, uploads = [], [], []
    files: dict[str, bytes] = {}
    first_save_ms = 0.0
    for run in range(runs):
        before = set(storage.list_keys(AuthStore.prefix(SESSION)))
        started = time.monotonic()
        files = profile.archive(profile_dir)
        archived = time.monotonic()
        auth.save(SESSION, files)
        done = time.monotonic()
        archive_times.append(archived - started)
        if run == 0:
            first_save_ms = round((done - started) * 1000, 1)
        else:
            save_times.append(done - started)
            uploads.append(len(set(storage.list_keys(AuthStore.prefix(SESSION))) - before))
    objects = list(storage.list_keys(AuthStore.files_prefix(SESSION)))
    archive_times.sort()
    save_times.sort()
    return {
        "files": len(files),
        "raw_bytes": sum(len(data) for data in files.values()),
        "objects": len(objects),
        "stored_bytes": sum(len(storage.get(key)) for key in objects),
        "archive_p50_ms": round(percentile(archive_times, 50) * 1000, 1),
        "first_save_ms": first_save_ms,
        "resave_p50_ms": round(percentile(save_times, 50) * 1000, 1) if save_times else None,
        "resave_uploads": uploads,
    }


def measure_storage_state(
    context: BrowserContext, envelope: Envelope, runs: int
) -> tuple[dict[str, Any], bytes]:
    times, raw, sealed = [], b"", b""
    for _ in range(runs):
        started = time.monotonic()
        raw = json.dumps(context.storage_state(indexed_db=True), separators=(",", ":")).encode()
        sealed = envelope.encrypt(gzip.compress(raw, mtime=0), context=f"session:{SESSION}".encode())
        times.append(time.monotonic() - started)
    times.sort()
    figures = {
        "raw_bytes": len(raw),
        "stored_bytes": len(sealed),
        "snapshot_p50_ms": round(percentile(times, 50) * 1000, 1),
    }
    return figures, raw


def _linked_or_qr(page: Page, timeout: float = 20.0) -> bool:
    """True once the page is linked; False as soon as it shows a QR (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(LINKED):
            return True
        if _current_qr(page):
            return False
        page.wait_for_timeout(50)
    return False


def restore_profile_files(playwright: Playwright, auth: AuthStore, url: str) -> tuple[float, float] | None:
    """(load + restore seconds, launch -> linked seconds), or None when the page came back unlinked."""
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as name:
        started = time.monotonic()
        files = auth.load(SESSION)  # raises what the store raises: a broken snapshot is an error, not a QR
        if files is None:
            raise BenchError("the snapshot just written is not in storage")
        profile.restore(Path(name), files)
        restored = time.monotonic()
        context = _launch(playwright, Path(name))
        try:
            linked = _linked_or_qr(_open(context, url))
            return (restored - started, time.monotonic() - restored) if linked else None
        finally:
            context.close()


def restore_storage_state(playwright: Playwright, raw: bytes, url: str) -> tuple[float, float] | None:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    try:
        started = time.monotonic()
        context = browser.new_context(user_agent=USER_AGENT, storage_state=json.loads(raw))
        _inject(context)
        linked = _linked_or_qr(_open(context, url))
        return (0.0, time.monotonic() - started) if linked else None
    finally:
        browser.close()


def restores(attempt: Callable[[], tuple[float, float] | None], n: int) -> dict[str, Any]:
    loads, launches, failures = [], [], 0
    for _ in range(n):
        outcome = attempt()
        if outcome is None:
            failures += 1
            continue
        loads.append(outcome[0])
        launches.append(outcome[1])
    loads.sort()
    launches.sort()
    return {
        "restores_ok": len(launches),
        "restores_failed": failures,
        "load_restore_p50_ms": round(percentile(loads, 50) * 1000, 1) if loads else None,
        "launch_to_linked_p50_s": round(percentile(launches, 50), 2) if launches else None,
    }


def run(runs: int, restore_runs: int) -> dict[str, Any]:
    with scratch_dir("bench-auth-") as workdir:
        port = free_port()
        sandbox_url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "runner.sandbox",
            "--port",
            str(port),
            "--data-dir",
            str(workdir / "sb"),
        ]
        sandbox = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, 30, sandbox)
            settings = load_settings(_env_file=None, data_dir=workdir / "data")
            envelope = envelope_from_settings(settings)
            storage = build_storage(settings)
            auth = AuthStore(storage, envelope)
            profile_dir = workdir / "profile"
            results: dict[str, Any] = {"machine": machine_info(), "runs": runs}
            with sync_playwright() as playwright:
                context, salt_delay = link(playwright, profile_dir, sandbox_url + "/", sandbox_url)
                files = measure_profile_files(profile_dir, auth, storage, runs)
                state, state_raw = measure_storage_state(context, envelope, runs)
                context.close()
                files.update(
                    restores(lambda: restore_profile_files(playwright, auth, sandbox_url + "/"), restore_runs)
                )
                state.update(
                    restores(
                        lambda: restore_storage_state(playwright, state_raw, sandbox_url + "/"), restore_runs
                    )
                )
            results["salt_on_disk_after_link_s"] = round(salt_delay, 2)
            results["profile_files"], results["storage_state"] = files, state
            results["stored_bytes_ratio"] = round(files["stored_bytes"] / state["stored_bytes"], 2)
            return results
        finally:
            sandbox.terminate()
            sandbox.wait(30)


def render(results: dict[str, Any]) -> str:
    machine, files, state = results["machine"], results["profile_files"], results["storage_state"]

    def restored(figures: dict[str, Any]) -> str:
        total = figures["restores_ok"] + figures["restores_failed"]
        if not figures["restores_ok"]:
            return f"0/{total} (comes back unlinked: a QR)"
        return f"{figures['restores_ok']}/{total}, p50 {figures['launch_to_linked_p50_s']} s"

    return "\n".join(
        [
            f"Latest run: {machine['date']}, {machine['cores']} cores (load average {machine['loadavg']}), "
            f"Python {machine['python']}.",
            f"`.venv/bin/python -m bench.auth_snapshot --record`; {results['runs']} snapshots of each kind "
            "from one linked sandbox page, local storage backend; stored = gzip then AES-256-GCM (the "
            "gateway's envelope). The salt reached the profile's files "
            f"{results['salt_on_disk_after_link_s']} s after the link.",
            "",
            "| snapshot | files (objects) | raw bytes | stored bytes | snapshot time | load + restore p50 "
            "| restores ok, launch -> linked |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            f"| profile files (auth store) | {files['files']} ({files['objects']}) | {files['raw_bytes']} | "
            f"{files['stored_bytes']} | first save {files['first_save_ms']} ms, later saves p50 "
            f"{files['resave_p50_ms']} ms (uploads {files['resave_uploads']}); archive alone p50 "
            f"{files['archive_p50_ms']} ms | {files['load_restore_p50_ms']} ms | {restored(files)} |",
            f"| baseline: `storage_state(indexed_db=True)` | 1 | {state['raw_bytes']} | "
            f"{state['stored_bytes']} | p50 {state['snapshot_p50_ms']} ms | - | {restored(state)} |",
            "",
            f"Stored bytes, profile files / storage_state: {results['stored_bytes_ratio']}.",
        ]
    )


def main() -> int:
    """Exit 2 when the run is not valid: a restore that raised, or a profile-files restore that came back
    showing a QR (the format the runner relies on lost the link). storage_state's restores are expected to
    fail (no CryptoKey) and are reported, not judged."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--restores", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write the figures into BENCHMARKS.md")
    args = parser.parse_args()
    try:
        results = run(args.runs, args.restores)
    except BenchError as exc:
        print(f"bench.auth_snapshot: not a valid measurement: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2))
    if results["profile_files"]["restores_failed"]:
        print("bench.auth_snapshot: a profile-files restore came back unlinked", file=sys.stderr)
        return 2
    if args.record:
        record_section(KEY, "Runner: auth snapshot format", render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
