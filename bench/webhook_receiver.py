"""A local webhook receiver for `bench.webhooks_delivery`: HTTP/1.1 keep-alive, answers 200 at once, and
appends one line per request (arrival time, the X-OpenWA-Idempotency-Key header) to a file as it arrives, so
the benchmark can read each slice's arrivals while the receiver keeps running. Exits on SIGTERM.

    python -m bench.webhook_receiver PORT OUTFILE
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import TextIO

_LOCK = threading.Lock()
_OUT: list[TextIO] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        line = f"{time.time():.6f} {self.headers.get('X-OpenWA-Idempotency-Key', '')}\n"
        with _LOCK:
            _OUT[0].write(line)
            _OUT[0].flush()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    port, outfile = int(sys.argv[1]), sys.argv[2]
    _OUT.append(open(outfile, "a"))  # noqa: SIM115 - open for the server's whole life
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    _OUT[0].close()


if __name__ == "__main__":
    main()
