"""The README's quick start and its sandbox story, run as a reader pastes them: the commands are taken from
the README's code blocks (not copied here), on a fresh data directory, against `openwa up --sandbox` on the
ports the README names. What each block prints is what the README says the reader will see."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
API, SANDBOX = "http://127.0.0.1:2785", "http://127.0.0.1:2786"


def section(markdown: str, heading: str) -> str:
    start = markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.DOTALL)


@pytest.fixture(scope="module")
def blocks() -> dict[str, list[str]]:
    markdown = README.read_text()
    return {
        "quick start": code_blocks(section(markdown, "Quick start")),
        "sandbox": code_blocks(section(markdown, "Try it without a phone")),
    }


@pytest.fixture(scope="module")
def gateway(blocks: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`openwa up --sandbox` as the story's first block says, in a fresh directory (so `data/` is new)."""
    (command,) = [line for line in blocks["sandbox"][0].splitlines() if line.strip()]
    assert command == "openwa up --sandbox"
    for url in (API, SANDBOX):  # the README's ports: say so plainly when this machine already uses one
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=1)
    cwd = tmp_path_factory.mktemp("readme")
    env = {
        k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PORT", "DATA_DIR", "API_MASTER_KEY"}
    }
    env.update(PATH=f"{Path(sys.executable).parent}:{env['PATH']}", LOG_LEVEL="warning")
    up = subprocess.Popen(
        shlex.split(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    assert up.stdout is not None
    stream = up.stdout
    reader = threading.Thread(target=lambda: output.extend(stream), daemon=True)  # never lets the pipe fill
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("openwa: ready in" in line for line in list(output)):
            assert up.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "".join(output)
            time.sleep(0.2)
        yield cwd
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()


def run(script: str, cwd: Path, timeout: float = 120) -> str:
    """`script` in bash with errexit and pipefail: any command that fails fails the story."""
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (
        f"exit {done.returncode}\n{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )
    return done.stdout


def test_the_quick_start_and_the_sandbox_story_work_as_written(
    blocks: dict[str, list[str]], gateway: Path
) -> None:
    quick = blocks["quick start"]
    assert "make run" in quick[0]  # the first block installs and starts; `gateway` is what it starts
    listed = run(quick[1], gateway)
    assert '"name":"sales"' in listed.replace(" ", "")

    setup, send, answer, pairing = blocks["sandbox"][1:5]
    story = "\n".join((setup, send, answer))
    printed = run(story, gateway).strip().splitlines()
    # Bob's phone shows the API's message; then the session's newest message is Bob's answer.
    assert printed.index("Hello from the API") < len(printed) - 1, printed
    assert printed[-1] == "Hi Alice", printed

    run("\n".join((setup.split("# Two phones")[0], pairing)), gateway)
    key = (gateway / "data" / ".api-key").read_text().strip()
    deadline = time.monotonic() + 90  # a link takes a few seconds; generous for a loaded 2-core machine
    while time.monotonic() < deadline:
        sessions = httpx.get(f"{API}/api/sessions", headers={"X-API-Key": key}, timeout=5).json()
        if {session["name"]: session["status"] for session in sessions}.get("carol") == "ready":
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the session linked by pairing code never became ready: {sessions}")
