"""`python -m runner.sandbox [--host H] [--port P] [--data-dir D] [--qr-interval S]`, run by `openwa sandbox`.

Environment defaults: SANDBOX_HOST (127.0.0.1), SANDBOX_PORT (2786), SANDBOX_QR_INTERVAL (20 s),
SANDBOX_DATA_DIR (<DATA_DIR or data>/sandbox). SIGTERM or Ctrl-C saves the state and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from werkzeug.serving import make_server

from functions.log import configure_logging
from runner.sandbox.app import DEFAULT_PORT, DEFAULT_QR_INTERVAL, SandboxConfig, create_app


def parse_args(argv: list[str]) -> argparse.Namespace:
    env = os.environ
    default_dir = Path(env.get("SANDBOX_DATA_DIR") or Path(env.get("DATA_DIR", "data")) / "sandbox")
    parser = argparse.ArgumentParser(prog="openwa sandbox", description="The WhatsApp sandbox.")
    parser.add_argument("--host", default=env.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("SANDBOX_PORT", DEFAULT_PORT)))
    parser.add_argument("--data-dir", type=Path, default=default_dir)
    interval = float(env.get("SANDBOX_QR_INTERVAL", DEFAULT_QR_INTERVAL))
    parser.add_argument("--qr-interval", type=float, default=interval, help="QR rotation, seconds")
    parser.add_argument("--log-requests", action="store_true", help="log every HTTP request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.qr_interval <= 0:
        print("openwa sandbox: --qr-interval must be positive", file=sys.stderr)
        return 2
    # The gateway's log format (LOG_LEVEL, LOG_FORMAT), so `openwa up --sandbox` writes one format throughout.
    configure_logging(os.environ.get("LOG_LEVEL") or "info", os.environ.get("LOG_FORMAT") or "json")
    # One log line per request (pages poll and stream) drowns everything else; opt in with --log-requests.
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.log_requests else logging.WARNING)
    app, network = create_app(SandboxConfig(args.data_dir.resolve(), args.qr_interval))
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        print(f"openwa sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    # Streams are endless responses; daemon threads let shutdown finish without waiting for them.
    server.daemon_threads = True  # type: ignore[attr-defined]

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"openwa sandbox: http://{args.host}:{server.port}/ (control API at /_sandbox)", flush=True)
    try:
        server.serve_forever()
    finally:
        network.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
