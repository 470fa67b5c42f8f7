"""A local webhook receiver for `bench.webhooks_delivery`: HTTP/1.1 keep-alive, answers 200 at once, and on
SIGTERM writes one line per request (arrival time, X-Bench-Sent header or the idempotency key) to a file.

    python -m bench.webhook_receiver PORT OUTFILE
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

ARRIVALS: list[tuple[float, str]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ARRIVALS.append((time.time(), self.headers.get("X-OpenWA-Idempotency-Key", "")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    port, outfile = int(sys.argv[1]), sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    with open(outfile, "w") as handle:
        handle.writelines(f"{at:.6f} {key}\n" for at, key in ARRIVALS)


if __name__ == "__main__":
    main()
