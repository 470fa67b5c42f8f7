"""infra/k8s (kustomize): rendered with `kubectl kustomize` (offline), every object validated against the
Kubernetes 1.37 schemas in strict mode (PyPI `kubernetes-validate`), then checked against the project:
commands against the CLI, variables against Settings, probes against the app's routes, and the runner
StatefulSet sized by MAX_SESSIONS.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.infra.entrypoints import INFRA, check_openwa_argv, known_env_names, settings_env_names

K8S = INFRA / "k8s"
KUBERNETES_VERSION = "1.37.0"
SECRET_KEYS = (
    "REDIS_URL",
    "API_MASTER_KEY",
    "API_KEY_PEPPER",
    "ENCRYPTION_KEY",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
)
# PSS per ready session with 10 sessions on the sandbox (BENCHMARKS.md, "Runner"), rounded up.
MEMORY_PER_SESSION_MIB = 330


def kubectl() -> str:
    found = shutil.which("kubectl")
    assert found, "kubectl (its built-in kustomize) renders infra/k8s; install it (Debian: kubectl)"
    return found


def render(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The base rendered from a copy that has the secrets.env an operator writes."""
    base = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, base, ignore=shutil.ignore_patterns("secrets.env"))
    (base / "secrets.env").write_text("".join(f"{key}=value-of-{key.lower()}\n" for key in SECRET_KEYS))
    result = render(base)
    assert result.returncode == 0, result.stderr
    return [item for item in yaml.safe_load_all(result.stdout) if item]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [item for item in objects if item["kind"] == kind and item["metadata"]["name"].startswith(name)]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def workloads(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (item for item in objects if item["kind"] in {"Deployment", "StatefulSet"})


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def mebibytes(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


def test_rendering_without_the_operators_secrets_fails_naming_the_file(tmp_path: Path) -> None:
    shutil.copytree(K8S, tmp_path / "k8s", ignore=shutil.ignore_patterns("secrets.env"))
    result = render(tmp_path / "k8s")
    assert result.returncode != 0
    assert "secrets.env" in result.stderr


def test_every_object_is_valid_against_the_kubernetes_schemas(objects: list[dict[str, Any]]) -> None:
    kinds = sorted(item["kind"] for item in objects)
    assert kinds == sorted(
        [
            "Namespace",
            "ConfigMap",
            "Secret",
            "Service",
            "Service",
            "Deployment",
            "Deployment",
            "StatefulSet",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "PodDisruptionBudget",
            "PodDisruptionBudget",
        ]
    )
    for item in objects:
        kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)


def test_a_misspelt_field_would_be_caught(objects: list[dict[str, Any]]) -> None:
    broken = yaml.safe_load(yaml.safe_dump(find(objects, "Deployment", "openwa-api")))
    container(broken)["readinesProbe"] = container(broken).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    ("name", "command"), [("openwa-api", "api"), ("openwa-worker", "worker"), ("openwa-runner", "runner")]
)
def test_each_workload_runs_its_openwa_command_under_the_images_entrypoint(
    objects: list[dict[str, Any]], name: str, command: str
) -> None:
    workload = next(item for item in workloads(objects) if item["metadata"]["name"] == name)
    spec = container(workload)
    assert "command" not in spec, "args only: the image's ENTRYPOINT (tini) stays PID 1"
    assert check_openwa_argv(spec["args"]).name == command


def test_configuration_and_secrets_are_settings(objects: list[dict[str, Any]]) -> None:
    config = find(objects, "ConfigMap", "openwa-config")["data"]
    secret = find(objects, "Secret", "openwa-secrets")["data"]
    assert set(config) <= settings_env_names()
    assert set(secret) == set(SECRET_KEYS)
    assert set(SECRET_KEYS) <= settings_env_names()
    for workload in workloads(objects):
        spec = container(workload)
        sources = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in spec["envFrom"]}
        assert sources == {
            find(objects, "ConfigMap", "openwa-config")["metadata"]["name"],
            find(objects, "Secret", "openwa-secrets")["metadata"]["name"],
        }
        names = {item["name"] for item in spec.get("env", [])}
        assert names <= known_env_names(), f"{workload['metadata']['name']}: {names - known_env_names()}"


def test_api_probes_ask_the_apps_health_routes(objects: list[dict[str, Any]], route_paths: set[str]) -> None:
    spec = container(find(objects, "Deployment", "openwa-api"))
    port = spec["ports"][0]
    assert port["containerPort"] == 2785
    probes = {kind: spec[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    for probe in probes.values():
        assert probe["path"] in route_paths
        assert probe["port"] == port["name"]
    # Liveness must not depend on Redis (an outage would restart every pod); readiness must.
    assert probes["livenessProbe"]["path"] == "/api/health/live"
    assert probes["readinessProbe"]["path"] == "/api/health/ready"
    service = find(objects, "Service", "openwa-api")
    assert (
        service["spec"]["selector"].items()
        <= find(objects, "Deployment", "openwa-api")["spec"]["template"]["metadata"]["labels"].items()
    )


@pytest.mark.parametrize(("name", "mode"), [("openwa-worker", "worker"), ("openwa-runner", "runner")])
def test_worker_and_runner_probes_run_their_healthcheck(
    objects: list[dict[str, Any]], name: str, mode: str
) -> None:
    workload = next(item for item in workloads(objects) if item["metadata"]["name"] == name)
    assert container(workload)["livenessProbe"]["exec"]["command"] == ["openwa-healthcheck", mode]


def test_the_api_scales_on_cpu_between_two_and_ten(objects: list[dict[str, Any]]) -> None:
    hpa = find(objects, "HorizontalPodAutoscaler", "openwa-api")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "openwa-api"}
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    # Utilisation is relative to the request: without one the HPA cannot compute it.
    assert "cpu" in container(find(objects, "Deployment", "openwa-api"))["resources"]["requests"]


def test_every_workload_has_a_disruption_budget_selecting_its_pods(objects: list[dict[str, Any]]) -> None:
    budgets = [item for item in objects if item["kind"] == "PodDisruptionBudget"]
    for workload in workloads(objects):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        covering = [
            budget
            for budget in budgets
            if budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(covering) == 1, workload["metadata"]["name"]


def test_runner_count_and_memory_follow_max_sessions(objects: list[dict[str, Any]]) -> None:
    max_sessions = int(find(objects, "ConfigMap", "openwa-config")["data"]["MAX_SESSIONS"])
    runner = find(objects, "StatefulSet", "openwa-runner")
    planned = int(runner["metadata"]["annotations"]["openwa.dev/planned-sessions"])
    assert runner["spec"]["replicas"] == math.ceil(planned / max_sessions) + 1
    memory = container(runner)["resources"]
    assert mebibytes(memory["requests"]["memory"]) >= max_sessions * MEMORY_PER_SESSION_MIB
    assert mebibytes(memory["limits"]["memory"]) > mebibytes(memory["requests"]["memory"])
    # Each runner is named by its pod, so heartbeats and leases read openwa-runner-0, -1, ...
    env = {item["name"]: item for item in container(runner)["env"]}
    assert env["RUNNER_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert runner["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 30
    governing = find(objects, "Service", "openwa-runner")
    assert runner["spec"]["serviceName"] == governing["metadata"]["name"]
    assert governing["spec"]["clusterIP"] == "None"


def test_runner_gives_chromium_writable_tmp_and_shared_memory(objects: list[dict[str, Any]]) -> None:
    pod = find(objects, "StatefulSet", "openwa-runner")["spec"]["template"]["spec"]
    mounts = {
        mount["mountPath"]: mount["name"]
        for mount in container({"spec": {"template": {"spec": pod}}})["volumeMounts"]
    }
    volumes = {volume["name"]: volume["emptyDir"] for volume in pod["volumes"]}
    assert volumes[mounts["/dev/shm"]]["medium"] == "Memory"
    assert mebibytes(volumes[mounts["/tmp"]]["sizeLimit"]) >= 2048
    assert "/data" in mounts


def test_every_pod_runs_unprivileged_on_a_read_only_root(objects: list[dict[str, Any]]) -> None:
    for workload in workloads(objects):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        context = container(workload)["securityContext"]
        assert context == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        mounted = {mount["mountPath"] for mount in container(workload)["volumeMounts"]}
        assert {"/tmp", "/data"} <= mounted
    namespace = find(objects, "Namespace", "openwa")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(
        item["metadata"].get("namespace") == "openwa" for item in objects if item["kind"] != "Namespace"
    )
