"""infra/docker-compose.yml: valid against the Compose Specification, every OpenWA service runs a real
`openwa` command with real settings, state lives in declared volumes, and the rest of the root filesystem
is read-only. No Docker engine here, so the file is checked, not started.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from tests.infra.entrypoints import INFRA, check_openwa_argv, known_env_names, settings_env_names

COMPOSE_FILE = INFRA / "docker-compose.yml"
OPENWA_SERVICES = {"api": "api", "worker": "worker", "runner": "runner", "sandbox": "sandbox"}
# `${NAME}`, `${NAME:-default}`, `${NAME:?error}`: compose interpolation.
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"][name]
    return found


def variable(value: str) -> str:
    """The name of the host variable a compose value interpolates (`${NAME...}` -> NAME)."""
    match = INTERPOLATION.fullmatch(value)
    assert match, f"{value!r} is not one interpolated variable"
    return match[1]


def test_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendor / "compose-spec.json").read_text())
    jsonschema.validate(compose, schema, cls=jsonschema.Draft202012Validator)


def test_every_openwa_service_runs_its_openwa_command(compose: dict[str, Any]) -> None:
    for name, command in OPENWA_SERVICES.items():
        assert check_openwa_argv(service(compose, name)["command"]).name == command


def test_every_openwa_variable_is_a_setting_the_gateway_reads(compose: dict[str, Any]) -> None:
    for name in OPENWA_SERVICES:
        environment = service(compose, name).get("environment", {})
        unknown = set(environment) - known_env_names()
        assert not unknown, f"{name}: {sorted(unknown)} are read by nothing"
    api = service(compose, "api")["environment"]
    # Several containers share Redis and storage: every secret is required, none generated per container.
    for secret in ("API_MASTER_KEY", "API_KEY_PEPPER", "ENCRYPTION_KEY", "S3_SECRET_ACCESS_KEY"):
        assert secret in settings_env_names()
        assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", api[secret]), f"{secret} must be required"


def test_services_reach_redis_and_minio_by_their_service_names(compose: dict[str, Any]) -> None:
    environment = service(compose, "api")["environment"]
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["STORAGE_TYPE"] == "s3"
    assert environment["S3_ENDPOINT"] == "http://minio:9000"
    assert environment["SANDBOX_URL"].startswith("http://sandbox:2786")
    assert "2786" in service(compose, "sandbox")["command"]
    minio = service(compose, "minio")["environment"]
    # The gateway creates its bucket on first use, so it gets MinIO's own credentials.
    assert variable(environment["S3_ACCESS_KEY_ID"]) == variable(minio["MINIO_ROOT_USER"])
    assert variable(environment["S3_SECRET_ACCESS_KEY"]) == variable(minio["MINIO_ROOT_PASSWORD"])
    for name in OPENWA_SERVICES.keys() - {"sandbox"}:
        depends = service(compose, name)["depends_on"]
        assert depends == {
            "redis": {"condition": "service_healthy"},
            "minio": {"condition": "service_healthy"},
        }


def test_redis_appends_every_write_to_a_volume(compose: dict[str, Any]) -> None:
    redis = service(compose, "redis")
    command = redis["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "redis-data:/data" in redis["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_minio_keeps_its_objects_in_a_volume(compose: dict[str, Any]) -> None:
    minio = service(compose, "minio")
    assert minio["command"][:2] == ["server", "/data"]
    assert "minio-data:/data" in minio["volumes"]
    assert not minio["image"].endswith(":latest")


def test_named_volumes_are_declared_and_used(compose: dict[str, Any]) -> None:
    used = set()
    for definition in compose["services"].values():
        for volume in definition.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith(("/", ".")):
                used.add(volume.split(":", 1)[0])
            elif isinstance(volume, dict) and volume["type"] == "volume":
                used.add(volume["source"])
    assert used == set(compose["volumes"])


def writable_paths(definition: dict[str, Any]) -> set[str]:
    paths = {path.split(":", 1)[0] for path in definition.get("tmpfs", [])}
    for volume in definition.get("volumes", []):
        paths.add(volume.split(":")[1] if isinstance(volume, str) else volume["target"])
    return paths


@pytest.mark.parametrize("name", list(OPENWA_SERVICES))
def test_openwa_containers_write_only_to_their_mounts(compose: dict[str, Any], name: str) -> None:
    definition = service(compose, name)
    assert definition["read_only"] is True
    assert definition["cap_drop"] == ["ALL"]
    # /tmp for scratch (and Chromium), /data for DATA_DIR (the images set DATA_DIR=/data).
    assert {"/tmp", "/data"} <= writable_paths(definition)


@pytest.mark.parametrize(
    ("name", "mode"), [("api", "api"), ("worker", "worker"), ("runner", "runner"), ("sandbox", "sandbox")]
)
def test_healthchecks_use_the_probe_of_each_process(compose: dict[str, Any], name: str, mode: str) -> None:
    assert service(compose, name)["healthcheck"]["test"] == ["CMD", "openwa-healthcheck", mode]


def test_runners_are_replicated_with_room_for_chromium(compose: dict[str, Any]) -> None:
    runner = service(compose, "runner")
    assert runner["deploy"]["replicas"] >= 2, "one runner more than needed, so sessions can fail over"
    assert runner["shm_size"] == "1gb"
    tmp = next(
        volume for volume in runner["volumes"] if isinstance(volume, dict) and volume["target"] == "/tmp"
    )
    assert tmp["type"] == "tmpfs"
    assert tmp["tmpfs"]["size"] >= 2 * 1024**3
    # The drain (final snapshots, released leases) takes up to 30 s before Docker's SIGKILL.
    assert int(runner["stop_grace_period"].rstrip("s")) > 30
    assert service(compose, "worker")["deploy"]["replicas"] >= 2


def test_the_sandbox_starts_only_with_its_profile(compose: dict[str, Any]) -> None:
    assert service(compose, "sandbox")["profiles"] == ["sandbox"]
    assert all(
        "profiles" not in definition for name, definition in compose["services"].items() if name != "sandbox"
    )
    assert "sandbox-data:/data" in service(compose, "sandbox")["volumes"]


def test_images_are_built_from_the_repository_dockerfiles(compose: dict[str, Any]) -> None:
    for name, dockerfile in (("api", "api"), ("worker", "api"), ("runner", "runner"), ("sandbox", "runner")):
        build = service(compose, name)["build"]
        assert build["dockerfile"] == f"infra/docker/{dockerfile}.Dockerfile"
        assert (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).is_file()
