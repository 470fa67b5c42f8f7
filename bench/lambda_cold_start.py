"""Cold start of the API on AWS Lambda: import + app creation of the packaged handler, in fresh interpreters.

    .venv/bin/python -m bench.lambda_cold_start [--runs 15] [--record]

Packages serverless.yml offline with the pinned `osls` (as tests/infra/test_serverless.py does), unpacks the
zip, and starts `python -I -S -B` processes that see only the stdlib and the zip (Lambda's task root). Each
times `import wsgi_handler` (loading `functions.wsgi:app`: settings, the app factory, seeding the admin key
in a real Redis) and then its first request, `GET /api/health/live` as an HTTP API v2 event. The baseline,
in the same run and interleaved (A B B A ...), is a hello-world Flask app served through the same
serverless-wsgi entry point from the same zip. A third variant compiles the zip's modules to
`unchecked-hash` .pyc first: the packaging plugin ships no bytecode (and Lambda's task root is read-only, so
every cold start compiles every module in memory), which this variant prices.

Interpreter start-up is outside every figure (it is the runtime's, not ours).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.harness import RedisServer, machine_info, percentile, record_section, scratch_dir
from tests.infra.lambda_package import SERVICE, http_event, package_lambda, unpack

# `python -I -S -B`: reads {"root", "event", "variant"}; prints wall and CPU milliseconds and the status.
PROBE = """
import json, sys, time
job = json.load(sys.stdin)
sys.path.insert(0, job["root"])
started, started_cpu = time.perf_counter(), time.process_time()
if job["variant"] == "baseline":
    import serverless_wsgi
    from flask import Flask
    app = Flask("hello")
    app.get("/api/health/live")(lambda: {"status": "ok"})
    handler = lambda event, context: serverless_wsgi.handle_request(app, event, context)
else:
    import wsgi_handler
    handler = wsgi_handler.handler
imported, imported_cpu = time.perf_counter(), time.process_time()
response = handler(job["event"], None)
answered = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000,
                  "import_cpu_ms": (imported_cpu - started_cpu) * 1000,
                  "first_request_ms": (answered - imported) * 1000, "status": response["statusCode"]}))
"""
VARIANTS = ("app", "baseline", "app+pyc")


def lambda_env(redis_url: str, data_dir: Path) -> dict[str, str]:
    """The function's environment as deployed (serverless.yml), with a local Redis and throwaway keys."""
    return {
        "PATH": os.environ["PATH"],
        "REDIS_URL": redis_url,
        "API_MASTER_KEY": "owa_k1_" + os.urandom(32).hex(),
        "API_KEY_PEPPER": "bench-pepper",
        "ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "STORAGE_TYPE": "s3",
        "S3_BUCKET": "openwa-bench",
        "S3_REGION": "eu-west-1",
        "DATA_DIR": str(data_dir),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "warning",
        "SSE_MAX_SECONDS": "20",
    }


def precompiled(root: Path, dest: Path) -> Path:
    """A copy of the task root, every module compiled to unchecked-hash .pyc (valid whatever the mtimes)."""
    shutil.copytree(root, dest)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(dest),
        ],
        check=True,
    )
    return dest


def cold_start(root: Path, variant: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    job = {"root": str(root), "event": http_event("GET", "/api/health/live"), "variant": variant}
    result = subprocess.run(
        # -B: write no bytecode, as on Lambda's read-only task root (else run 1 would speed up the others).
        [sys.executable, "-I", "-S", "-B", "-c", PROBE],
        input=json.dumps(job),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{variant} cold start failed:\n{result.stderr}")
    sample: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    if sample["status"] != 200:
        raise SystemExit(f"{variant}: GET /api/health/live answered {sample['status']}; not a measurement")
    return sample


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(percentile(ordered, 50), 1),
        "p99": round(percentile(ordered, 99), 1),
        "min": round(ordered[0], 1),
        "max": round(ordered[-1], 1),
    }


def measure(runs: int) -> dict[str, Any]:
    with scratch_dir("bench-lambda-") as scratch, RedisServer() as redis:
        package = package_lambda(scratch / "package")
        roots = {"app": unpack(package, scratch / "task-root")}
        roots["baseline"] = roots["app"]
        roots["app+pyc"] = precompiled(roots["app"], scratch / "task-root-pyc")
        env = lambda_env(redis.url, scratch / "data")
        samples: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        for index in range(runs):
            # A B C C B A ...: every variant sees the same background load on average.
            order = VARIANTS if index % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                samples[variant].append(cold_start(roots[variant], variant, env, scratch))
        zip_bytes = (package / f"{SERVICE}.zip").stat().st_size
        unpacked = sum(path.stat().st_size for path in roots["app"].rglob("*") if path.is_file())
    figures = {
        variant: {
            "import_ms": summary([sample["import_ms"] for sample in values]),
            "import_cpu_ms": summary([sample["import_cpu_ms"] for sample in values]),
            "first_request_ms": summary([sample["first_request_ms"] for sample in values]),
        }
        for variant, values in samples.items()
    }
    return {
        "machine": machine_info(),
        "runs": runs,
        "zip_mib": round(zip_bytes / 2**20, 1),
        "unpacked_mib": round(unpacked / 2**20, 1),
        "figures": figures,
        "ratio_import_p50_app_over_baseline": round(
            figures["app"]["import_ms"]["p50"] / figures["baseline"]["import_ms"]["p50"], 2
        ),
        "ratio_import_p50_pyc_over_app": round(
            figures["app+pyc"]["import_ms"]["p50"] / figures["app"]["import_ms"]["p50"], 2
        ),
        "ratio_import_cpu_p50_app_over_baseline": round(
            figures["app"]["import_cpu_ms"]["p50"] / figures["baseline"]["import_cpu_ms"]["p50"], 2
        ),
    }


def markdown(result: dict[str, Any]) -> str:
    machine = result["machine"]
    figures = result["figures"]
    rows = "\n".join(
        f"| {variant} | {figures[variant]['import_ms']['p50']} | {figures[variant]['import_ms']['p99']} | "
        f"{figures[variant]['import_cpu_ms']['p50']} | "
        f"{figures[variant]['first_request_ms']['p50']} | {figures[variant]['first_request_ms']['p99']} |"
        for variant in VARIANTS
    )
    return f"""Latest run: {machine["date"]}, {machine["cores"]} cores (load average {machine["loadavg"]}), \
Python {machine["python"]}.
`.venv/bin/python -m bench.lambda_cold_start --runs {result["runs"]} --record`; zip {result["zip_mib"]} MiB \
({result["unpacked_mib"]} MiB unpacked), {result["runs"]} fresh `python -I -S -B` processes per variant.

| variant | import + app creation p50 (ms) | p99 (ms) | its CPU p50 (ms) | first request p50 (ms) | p99 (ms) |
| --- | ---: | ---: | ---: | ---: | ---: |
{rows}

- ratio import CPU time p50, app / baseline (less sensitive to other load):
  **{result["ratio_import_cpu_p50_app_over_baseline"]}**
- ratio import p50, app / hello-world Flask baseline: **{result["ratio_import_p50_app_over_baseline"]}**
- ratio import p50, with unchecked-hash .pyc / as packaged: **{result["ratio_import_p50_pyc_over_app"]}**
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--record", action="store_true", help="rewrite this benchmark's BENCHMARKS.md section"
    )
    args = parser.parse_args()
    result = measure(args.runs)
    print(json.dumps(result, indent=2))
    if args.record:
        record_section("lambda_cold_start", "Lambda: cold start of the API", markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
