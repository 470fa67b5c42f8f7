"""No client and no remote peer can take the request capacity that health checks, auth and sends need.

Event streams and media downloads from slow URLs are held open for long; the API must keep answering
everything else meanwhile. Streams are capped per API key and across the API (429 TOO_MANY_STREAMS), and a
media download has a total deadline however slowly the remote trickles its bytes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from functions.cli.redis_server import RedisServer
from tests.e2e.conftest import Gateway, running_gateway

PER_KEY_CAP = 20
TOTAL_CAP = 45
MEDIA_DEADLINE_MS = 3000
# More than a gthread API of 2 workers x 4 threads has threads, by a wide margin.
STREAMS = 40
SLOW_DOWNLOADS = 30
# A health probe answers in milliseconds on an idle API; this is far above that, far below a stall.
PROBE_LIMIT_SECONDS = 1.0


@pytest.fixture(scope="module")
def capped_gateway(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(
        redis_server.url,
        tmp_path_factory.mktemp("capacity"),
        SSE_MAX_STREAMS=str(TOTAL_CAP),
        SSE_MAX_STREAMS_PER_KEY=str(PER_KEY_CAP),
        MEDIA_DOWNLOAD_TIMEOUT_MS=str(MEDIA_DEADLINE_MS),
        SSRF_ALLOWED_HOSTS="127.0.0.1",
        SSE_KEEPALIVE_SECONDS="1",  # a stream notices its client is gone at its next write
    ) as gateway:
        yield gateway


@pytest.fixture
def gateway(capped_gateway: Gateway) -> Gateway:
    capped_gateway.reset()
    return capped_gateway


class OpenStream:
    """An event stream held open on a raw socket, never read after its first bytes (a slow client)."""

    def __init__(self, gateway: Gateway, api_key: str) -> None:
        host, port = gateway.base_url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        request = (
            f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {api_key}\r\nConnection: close\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.head = b""
        while b"\r\n\r\n" not in self.head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.head += chunk
        if self.status != 200:  # a refusal: the whole answer, up to the server closing the connection
            while chunk := self.sock.recv(4096):
                self.head += chunk

    @property
    def status(self) -> int:
        return int(self.head.split(b" ", 2)[1])

    def close(self) -> None:
        self.sock.close()


def _new_key(gateway: Gateway, name: str, role: str = "viewer") -> str:
    with gateway.http() as http:
        answer = http.post(
            "/api/auth/api-keys", json={"name": name, "role": role}, headers={"X-API-Key": gateway.master_key}
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["apiKey"])


def _probe_times(gateway: Gateway, count: int = 20) -> list[float]:
    """Seconds each of `count` health probes took (a probe that does not answer counts as 99)."""
    times = []
    with httpx.Client(base_url=gateway.base_url, timeout=3 * PROBE_LIMIT_SECONDS) as http:
        for _ in range(count):
            started = time.monotonic()
            try:
                ok = http.get("/api/health/live").status_code == 200
            except httpx.TimeoutException:
                ok = False
            times.append(time.monotonic() - started if ok else 99.0)
    return times


def test_open_event_streams_leave_the_api_answering(gateway: Gateway) -> None:
    keys = [_new_key(gateway, "watcher-a"), _new_key(gateway, "watcher-b")]
    streams = [OpenStream(gateway, keys[n % 2]) for n in range(STREAMS)]
    try:
        assert [stream.status for stream in streams] == [200] * STREAMS
        assert max(_probe_times(gateway)) < PROBE_LIMIT_SECONDS
        with gateway.http() as http:  # an authenticated read too, not only the unauthenticated probe
            listed = http.get("/api/sessions", headers={"X-API-Key": gateway.master_key}, timeout=3)
        assert listed.status_code == 200
    finally:
        for stream in streams:
            stream.close()


def test_streams_past_a_keys_cap_or_the_total_cap_are_refused_and_closing_one_frees_its_slot(
    gateway: Gateway,
) -> None:
    first, second, third = (_new_key(gateway, name) for name in ("one", "two", "three"))
    streams = [OpenStream(gateway, first) for _ in range(PER_KEY_CAP)]
    try:
        refused = OpenStream(gateway, first)
        assert refused.status == 429
        assert b'"code":"TOO_MANY_STREAMS"' in refused.head
        refused.close()

        streams[0].close()
        # The slot comes back once the server sees the client gone (its next write fails).
        deadline = time.monotonic() + 10
        while (again := OpenStream(gateway, first)).status != 200:
            again.close()
            assert time.monotonic() < deadline, "a closed stream's slot never came back"
            time.sleep(0.5)
        streams[0] = again

        streams += [OpenStream(gateway, second) for _ in range(PER_KEY_CAP)]
        streams += [OpenStream(gateway, third) for _ in range(TOTAL_CAP - 2 * PER_KEY_CAP)]
        assert [stream.status for stream in streams] == [200] * TOTAL_CAP
        over_total = OpenStream(gateway, third)  # third's own cap is not reached: the total is
        over_total.close()
        assert over_total.status == 429
        assert b'"scope":"global"' in over_total.head
    finally:
        for stream in streams:
            stream.close()


class TrickleServer:
    """Serves a 10,000-byte file one byte every 0.2 s: every read is quick, the whole takes half an hour."""

    def __init__(self) -> None:
        self.stop = threading.Event()

        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "10000")
                self.end_headers()
                for _ in range(10_000):
                    if outer.stop.wait(0.2):
                        return
                    try:
                        self.wfile.write(b"\x89")
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/photo.png"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def test_slow_media_urls_neither_stall_the_api_nor_outlive_the_download_deadline(gateway: Gateway) -> None:
    trickle = TrickleServer()
    headers = {"X-API-Key": gateway.master_key}
    with gateway.http() as http:
        created = http.post("/api/sessions", json={"name": "slow-media"}, headers=headers)
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]

    def send_image() -> tuple[int, dict[str, object], float]:
        started = time.monotonic()
        with httpx.Client(base_url=gateway.base_url, timeout=20) as http:
            answer = http.post(
                f"/api/sessions/{session_id}/messages/send-image",
                json={"chatId": "15550001111@c.us", "url": trickle.url, "queue": True},
                headers=headers,
            )
        return answer.status_code, answer.json(), time.monotonic() - started

    try:
        with ThreadPoolExecutor(SLOW_DOWNLOADS) as pool:
            sends = [pool.submit(send_image) for _ in range(SLOW_DOWNLOADS)]
            time.sleep(0.5)  # every download has started
            probes = _probe_times(gateway)
            answers = [send.result() for send in sends]
    finally:
        trickle.close()
    assert max(probes) < PROBE_LIMIT_SECONDS
    assert {(status, body["code"]) for status, body, _ in answers} == {(422, "MEDIA_DOWNLOAD_FAILED")}
    # Each gave up at the deadline (plus one read's wait and the request's own time), not at the end of
    # the download.
    assert max(took for _, _, took in answers) < MEDIA_DEADLINE_MS / 1000 + 3
