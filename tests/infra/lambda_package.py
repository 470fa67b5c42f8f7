"""Packaging serverless.yml offline with the pinned `osls`, and invoking the packaged handler as Lambda would.

Used by tests/infra/test_serverless.py and bench/lambda_cold_start.py. `osls package` runs on a scratch copy
of the service (serverless.yml, functions/, the Lambda's requirements): serverless-wsgi writes its handler
files into the service directory while it packages, and other work happens in the checkout meanwhile.
Downloaded wheels and built requirement trees are cached in `.cache/serverless-python-requirements`
(git-ignored), so only the first packaging downloads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from tests.infra.entrypoints import REPO_ROOT

OSLS = REPO_ROOT / "infra/serverless/node_modules/.bin/osls"
CACHE = REPO_ROOT / ".cache/serverless-python-requirements"
EVENT_FIXTURE = Path(__file__).parent / "fixtures/http_api_v2_event.json"
SERVICE = "openwa"

# Run by a fresh `python -I -S`: no site-packages, so only the stdlib and the unpacked zip are importable
# (Lambda's task root). Reads {"root", "events"} on stdin; prints {"import_seconds", "responses"}.
INVOKE = """
import json, sys, time
job = json.load(sys.stdin)
sys.path.insert(0, job["root"])
started = time.perf_counter()
import wsgi_handler
imported = time.perf_counter() - started
responses = [wsgi_handler.handler(event, None) for event in job["events"]]
print(json.dumps({"import_seconds": imported, "responses": responses}))
"""


def package_lambda(out_dir: Path, *, stage: str = "ci", timeout: float = 300) -> Path:
    """`osls package --stage STAGE` into `out_dir`; returns it (zip, CloudFormation templates, state)."""
    assert OSLS.exists(), "infra/serverless/node_modules is missing: run scripts/setup"
    scratch = out_dir.parent / f"{out_dir.name}-service"
    scratch.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "serverless.yml", scratch / "serverless.yml")
    shutil.copytree(
        REPO_ROOT / "functions",
        scratch / "functions",
        ignore=shutil.ignore_patterns("__pycache__"),
        dirs_exist_ok=True,
    )
    (scratch / "infra/serverless").mkdir(parents=True, exist_ok=True)
    shutil.copy2(
        REPO_ROOT / "infra/serverless/requirements.txt", scratch / "infra/serverless/requirements.txt"
    )
    env = {
        **os.environ,
        # Packaging calls no AWS API (every reference resolves at deploy time); the SDK still wants a profile.
        "AWS_ACCESS_KEY_ID": "packaging-only",
        "AWS_SECRET_ACCESS_KEY": "packaging-only",
        "OPENWA_SLS_PYTHON": sys.executable,
        "OPENWA_SLS_CACHE": str(CACHE),
    }
    result = subprocess.run(
        [str(OSLS), "package", "--stage", stage, "--package", str(out_dir)],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"osls package failed:\n{result.stdout}\n{result.stderr}"
    return out_dir


def unpack(package_dir: Path, dest: Path) -> Path:
    with zipfile.ZipFile(package_dir / f"{SERVICE}.zip") as archive:
        archive.extractall(dest)
    return dest


def http_event(
    method: str = "GET",
    path: str = "/api/health/live",
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event fixture, for another method, path, headers or JSON body."""
    event: dict[str, Any] = json.loads(EVENT_FIXTURE.read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["headers"].update(headers or {})
    if body is not None:
        event["body"] = body
        event["headers"]["content-type"] = "application/json"
    return event


def invoke(root: Path, events: list[dict[str, Any]], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Import the handler in a fresh interpreter (a cold start) and answer `events` in order."""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", INVOKE],
        input=json.dumps({"root": str(root), "events": events}),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer
