"""Auth snapshot formats (sandbox): Playwright `storage_state(indexed_db=True)` vs the profile's folders.

    .venv/bin/python -m bench.auth_snapshot [--runs 5] [--restores 3] [--record]

One Chromium with a persistent profile opens the sandbox's WhatsApp Web page and is linked by QR. Then, from
that same linked browser, each candidate snapshot is taken `--runs` times:
- `storage_state`: `context.storage_state(indexed_db=True)` as compact JSON (what the engine stores today);
- `profile folders`: a tar of the profile's `Default/IndexedDB` and `Default/Local Storage` directories
  (LevelDB files, copied while the browser runs, as a periodic snapshot would have to).
Each is gzipped and sealed with the gateway's AES-256-GCM envelope; size is the sealed bytes. Snapshot time
covers capture + gzip + encrypt. Restore: a fresh browser gets the snapshot back (a new context from the
state, or a new profile directory holding the two folders), opens the page, and must reach "main ready"
without a QR; its time is launch -> ready.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from bench.harness import machine_info, percentile, record_section, scratch_dir, wait_for_port
from functions.cli.redis_server import free_port
from functions.config import load_settings
from functions.crypto.envelope import Envelope, envelope_from_settings
from runner.engines.webjs.browser import DESKTOP_USER_AGENT, LAUNCH_ARGS

KEY = "auth_snapshot"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
PHONE = "15550009999"
FOLDERS = ("Default/IndexedDB", "Default/Local Storage")
READY = "() => !!(window.WPP && WPP.conn.isMainReady())"
QR = "async () => { const c = window.WPP && await WPP.conn.getAuthCode(); return c ? c.fullCode : null; }"


def _launch(playwright: Playwright, profile: Path) -> BrowserContext:
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, user_agent=DESKTOP_USER_AGENT
    )


def _open(context: BrowserContext, url: str) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    return page


def link(playwright: Playwright, profile: Path, url: str, sandbox: str) -> BrowserContext:
    """A browser on the sandbox page, linked to PHONE by QR and main-ready."""
    phone = {"number": PHONE, "name": "Bench"}
    httpx.post(f"{sandbox}/_sandbox/phones", json=phone, timeout=10).raise_for_status()
    context = _launch(playwright, profile)
    page = _open(context, url)
    qr = None
    while not qr:  # the page's current QR (polled: an async predicate would be taken as truthy at once)
        page.wait_for_timeout(50)
        qr = page.evaluate(QR)
    httpx.post(f"{sandbox}/_sandbox/phones/{PHONE}/link", json={"qr": qr}, timeout=10).raise_for_status()
    page.wait_for_function(READY, timeout=30_000)
    page.wait_for_timeout(1000)  # let the page persist its credentials
    return context


def storage_state_snapshot(context: BrowserContext, profile: Path) -> bytes:
    state = context.storage_state(indexed_db=True)
    return json.dumps(state, separators=(",", ":")).encode()


def profile_folders_snapshot(context: BrowserContext, profile: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in FOLDERS:
            if (profile / folder).exists():
                tar.add(profile / folder, arcname=folder)
    return buffer.getvalue()


def restore_storage_state(playwright: Playwright, raw: bytes, url: str) -> float:
    started = time.monotonic()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    try:
        context = browser.new_context(user_agent=DESKTOP_USER_AGENT, storage_state=json.loads(raw))
        _open(context, url).wait_for_function(READY, timeout=20_000)
        return time.monotonic() - started
    finally:
        browser.close()


def restore_profile_folders(playwright: Playwright, raw: bytes, url: str) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as name:
        started = time.monotonic()
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            tar.extractall(name, filter="data")
        context = _launch(playwright, Path(name))
        try:
            _open(context, url).wait_for_function(READY, timeout=20_000)
            return time.monotonic() - started
        finally:
            context.close()


def measure(
    take: Callable[[BrowserContext, Path], bytes],
    context: BrowserContext,
    profile: Path,
    envelope: Envelope,
    runs: int,
) -> tuple[dict[str, Any], bytes]:
    """Snapshot `runs` times; sizes (raw, gzip, sealed) of the last, p50/max of the times."""
    times, raw, packed = [], b"", b""
    for _ in range(runs):
        started = time.monotonic()
        raw = take(context, profile)
        packed = gzip.compress(raw)
        sealed = envelope.encrypt(packed, context=b"session:bench")
        times.append(time.monotonic() - started)
    times.sort()
    figures = {
        "raw_bytes": len(raw),
        "gzip_bytes": len(packed),
        "sealed_bytes": len(sealed),
        "snapshot_p50_ms": round(percentile(times, 50) * 1000, 1),
        "snapshot_max_ms": round(times[-1] * 1000, 1),
    }
    return figures, raw


def restores(
    restore: Callable[[Playwright, bytes, str], float], playwright: Playwright, raw: bytes, url: str, n: int
) -> dict[str, Any]:
    times, failures = [], 0
    for _ in range(n):
        try:
            times.append(restore(playwright, raw, url))
        except Exception:  # a restore that never gets ready (or shows a QR) counts as failed
            failures += 1
    times.sort()
    p50 = round(percentile(times, 50), 2) if times else None
    return {"restores_ok": len(times), "restores_failed": failures, "restore_to_ready_p50_s": p50}


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
            envelope = envelope_from_settings(load_settings(_env_file=None, data_dir=workdir / "data"))
            profile = workdir / "profile"
            results: dict[str, Any] = {"machine": machine_info(), "runs": runs}
            with sync_playwright() as playwright:
                context = link(playwright, profile, sandbox_url + "/", sandbox_url)
                state, state_raw = measure(storage_state_snapshot, context, profile, envelope, runs)
                folders, folders_raw = measure(profile_folders_snapshot, context, profile, envelope, runs)
                context.close()
                state.update(
                    restores(restore_storage_state, playwright, state_raw, sandbox_url + "/", restore_runs)
                )
                folders.update(
                    restores(
                        restore_profile_folders, playwright, folders_raw, sandbox_url + "/", restore_runs
                    )
                )
            results["storage_state"], results["profile_folders"] = state, folders
            return results
        finally:
            sandbox.terminate()
            sandbox.wait(30)


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    rows = []
    for label, key in (
        ("`storage_state(indexed_db=True)`", "storage_state"),
        ("profile folders", "profile_folders"),
    ):
        figures = results[key]
        restore = f"{figures['restores_ok']}/{figures['restores_ok'] + figures['restores_failed']}"
        rows.append(
            f"| {label} | {figures['raw_bytes']} | {figures['gzip_bytes']} | {figures['sealed_bytes']} | "
            f"{figures['snapshot_p50_ms']} ms | {restore}, p50 {figures['restore_to_ready_p50_s']} s |"
        )
    return "\n".join(
        [
            f"Latest run: {machine['date']}, {machine['cores']} cores (load average {machine['loadavg']}), "
            f"Python {machine['python']}.",
            f"`.venv/bin/python -m bench.auth_snapshot --record`; {results['runs']} snapshots of each kind "
            "from one linked sandbox page; sealed = gzip then AES-256-GCM (the gateway's envelope).",
            "",
            "| snapshot | raw bytes | gzip bytes | sealed bytes | snapshot p50 (capture+gzip+seal) "
            "| restores ok, launch -> ready |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--restores", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write the figures into BENCHMARKS.md")
    args = parser.parse_args()
    results = run(args.runs, args.restores)
    print(json.dumps(results, indent=2))
    if args.record:
        record_section(KEY, "Runner: auth snapshot format", render(results))


if __name__ == "__main__":
    main()
