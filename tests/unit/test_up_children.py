"""What `openwa up` starts: the API, the webhook worker and a runner; with `--sandbox`, the sandbox first and
every child on the sandbox engine (DESIGN.md §1.6)."""

from __future__ import annotations

from functions.cli.embedded import UpOptions, child_specs, unavailable_options


def test_up_starts_api_worker_and_runner_on_the_configured_engine() -> None:
    specs = child_specs(UpOptions(), {"ENGINE_TYPE": "webjs"})
    assert [spec.name for spec in specs] == ["api", "webhook-worker", "runner"]
    assert all(spec.env["ENGINE_TYPE"] == "webjs" for spec in specs)


def test_up_with_sandbox_starts_it_first_and_makes_it_the_engine() -> None:
    assert unavailable_options(UpOptions(sandbox=True)) is None
    specs = child_specs(UpOptions(sandbox=True), {"ENGINE_TYPE": "webjs"})
    assert [spec.name for spec in specs] == ["sandbox", "api", "webhook-worker", "runner"]
    assert all(spec.env["ENGINE_TYPE"] == "sandbox" for spec in specs)


def test_up_runs_the_runner_at_a_lower_cpu_priority_unless_told_otherwise() -> None:
    runner = next(spec for spec in child_specs(UpOptions(), {}) if spec.name == "runner")
    assert runner.env["RUNNER_NICE"] == "19"
    others = [spec for spec in child_specs(UpOptions(), {}) if spec.name != "runner"]
    assert all("RUNNER_NICE" not in spec.env for spec in others)
    chosen = next(spec for spec in child_specs(UpOptions(), {"RUNNER_NICE": "0"}) if spec.name == "runner")
    assert chosen.env["RUNNER_NICE"] == "0"


def test_up_with_sandbox_lets_webhooks_and_media_reach_this_machine_unless_the_user_chose_hosts() -> None:
    specs = child_specs(UpOptions(sandbox=True), {})
    assert {spec.env["SSRF_ALLOWED_HOSTS"] for spec in specs} == {"127.0.0.1,::1,localhost"}
    chosen = child_specs(UpOptions(sandbox=True), {"SSRF_ALLOWED_HOSTS": "hooks.internal"})
    assert {spec.env["SSRF_ALLOWED_HOSTS"] for spec in chosen} == {"hooks.internal"}
    assert all("SSRF_ALLOWED_HOSTS" not in spec.env for spec in child_specs(UpOptions(), {}))


def test_up_puts_the_sandbox_on_the_chosen_port_and_points_the_runner_at_it() -> None:
    def sandbox_env(options: UpOptions, env: dict[str, str]) -> dict[str, str]:
        return next(spec.env for spec in child_specs(options, env) if spec.name == "runner")

    default = sandbox_env(UpOptions(sandbox=True), {})
    assert (default["SANDBOX_PORT"], default["SANDBOX_URL"]) == ("2786", "http://127.0.0.1:2786/")
    from_env = sandbox_env(UpOptions(sandbox=True), {"SANDBOX_PORT": "3900", "SANDBOX_HOST": "0.0.0.0"})
    assert (from_env["SANDBOX_PORT"], from_env["SANDBOX_URL"]) == ("3900", "http://127.0.0.1:3900/")
    chosen = sandbox_env(
        UpOptions(sandbox=True, sandbox_port=4100), {"SANDBOX_URL": "http://127.0.0.1:2786/"}
    )
    assert (chosen["SANDBOX_PORT"], chosen["SANDBOX_URL"]) == ("4100", "http://127.0.0.1:4100/")
