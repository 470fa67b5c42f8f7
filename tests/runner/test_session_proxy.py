"""A session's proxy end to end (issue #17): set and read back masked through the OpenWA SDK
(`sessions.update_proxy` / `get_proxy`), stored encrypted, and applied to the session's browser at its next
start: a real runner and Chromium load the sandbox's WhatsApp Web through a forward proxy this test runs on
127.0.0.1, which records what it forwarded. A proxy refusing the credentials, or one that is down, leaves
the session `failed` with a `lastError` that says so, at once rather than after the load timeout.

The proxy forwards to loopback only (the sandbox): it refuses every other destination.
"""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from openwa import OpenWAClient

from functions.cli.redis_server import free_port
from functions.state.keys import Keys
from tests.runner.conftest import Stack
from tests.runner.test_account_surfaces import refused
from tests.runner.test_messaging import ALICE, BOB
from tests.runner.test_session_lifecycle import raw_qr, wait_status

pytestmark = pytest.mark.e2e

USER, SECRET = "alice", "s3cret-Pa55"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Well under the session's load timeout (SESSION_INIT_TIMEOUT, 60 s): a refused proxy must not wait it out.
FAIL_FAST_SECONDS = 20


class ForwardProxy:
    """A threaded HTTP forward proxy on 127.0.0.1: absolute-URI requests and CONNECT, to loopback only,
    Basic credentials required; `forwarded` lists `host:port path` of every request it passed on."""

    def __init__(self, user: str, password: str) -> None:
        self.port = free_port()
        self.forwarded: list[str] = []
        self.refused_credentials = 0
        self._expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> None:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, client: socket.socket) -> None:
        head, rest = _read_head(client)
        if head is None:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = [line for line in lines[1:] if line]
        auth = next(
            (h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("proxy-authorization:")),
            None,
        )
        if auth != self._expected:
            self.refused_credentials += 1
            client.sendall(
                b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            request = b""
        else:
            url = urlsplit(target)
            host, port = url.hostname or "", str(url.port or 80)
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            kept = [h for h in headers if not h.lower().startswith(("proxy-", "connection:"))]
            request = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""]).encode()
            target = f"{host}:{port} {path}"
        if host.strip("[]") not in LOOPBACK:  # no other destinations, ever
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        self.forwarded.append(target)
        with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as upstream:
            if method == "CONNECT":
                client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            upstream.sendall(request + rest)
            _pipe(client, upstream)


def _read_head(sock: socket.socket) -> tuple[bytes | None, bytes]:
    """The request head (up to the blank line) and the bytes read past it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes (a streamed response, SSE included, flows as it
    comes)."""
    a.settimeout(None)
    b.settimeout(None)
    while True:
        readable, _, _ = select.select([a, b], [], [], 60)
        if not readable:
            return
        for source in readable:
            chunk = source.recv(65536)
            if not chunk:
                return
            (b if source is a else a).sendall(chunk)


@pytest.fixture(scope="module")
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy(USER, SECRET)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[OpenWAClient]:
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-proxy")
    yield stack.client()
    stack.stop_runners()


def _sandbox_port(stack: Stack) -> int:
    return int(urlsplit(stack.sandbox_url).port or 0)


def test_the_proxy_is_stored_encrypted_and_read_back_masked(
    stack: Stack, client: OpenWAClient, proxy: ForwardProxy
) -> None:
    sid = client.sessions.create({"name": "proxied-masked"})["id"]
    assert client.sessions.get_proxy(sid) == {
        "enabled": False,
        "proxyType": None,
        "proxyHost": None,
        "hasCredentials": False,
        "proxyUrl": None,
    }
    url = f"http://{USER}:{SECRET}@127.0.0.1:{proxy.port}"
    expected = {
        "enabled": True,
        "proxyType": "http",
        "proxyHost": f"127.0.0.1:{proxy.port}",
        "hasCredentials": True,
        "proxyUrl": f"http://{USER}:****@127.0.0.1:{proxy.port}",
    }
    assert client.sessions.update_proxy(sid, {"proxyUrl": url}) == expected
    assert client.sessions.get_proxy(sid) == expected
    record = stack.redis().get(Keys(stack.settings.redis_prefix).session(sid))
    assert record is not None
    assert SECRET.encode() not in record
    assert USER.encode() not in record
    assert SECRET not in str(client.sessions.get(sid))

    assert client.sessions.update_proxy(sid, {"proxyUrl": None})["enabled"] is False  # null clears it
    assert client.sessions.get_proxy(sid)["enabled"] is False


def test_a_session_starts_and_links_through_its_proxy(
    stack: Stack, client: OpenWAClient, proxy: ForwardProxy
) -> None:
    sid = client.sessions.create({"name": "proxied-start"})["id"]
    client.sessions.update_proxy(sid, {"proxyUrl": f"http://{USER}:{SECRET}@127.0.0.1:{proxy.port}"})
    before = len(proxy.forwarded)
    client.sessions.start(sid)
    wait_status(client, sid, "qr_ready")
    stack.control("POST", f"/phones/{ALICE}/link", json={"qr": raw_qr(stack, sid)})
    wait_status(client, sid, "ready")

    through = proxy.forwarded[before:]
    sandbox = f"127.0.0.1:{_sandbox_port(stack)}"
    assert any(entry == f"{sandbox} /" for entry in through), through[:10]  # the page itself
    assert any(entry.startswith(f"{sandbox} /_wa/rpc/") for entry in through)  # and what it asks WhatsApp
    assert {entry.split(" ", 1)[0] for entry in through} == {sandbox}  # nowhere else
    client.sessions.stop(sid)


def test_a_proxy_refusing_the_credentials_fails_the_session_at_once(
    client: OpenWAClient, proxy: ForwardProxy
) -> None:
    sid = client.sessions.create({"name": "proxied-wrong"})["id"]
    client.sessions.update_proxy(sid, {"proxyUrl": f"http://{USER}:wrong@127.0.0.1:{proxy.port}"})
    refusals = proxy.refused_credentials
    client.sessions.start(sid)
    failed = wait_status(client, sid, "failed", timeout=FAIL_FAST_SECONDS)
    assert "407" in failed["lastError"]
    assert f"127.0.0.1:{proxy.port}" in failed["lastError"]
    assert proxy.refused_credentials > refusals


def test_a_proxy_that_is_down_fails_the_session_at_once(client: OpenWAClient) -> None:
    sid = client.sessions.create({"name": "proxied-down"})["id"]
    nobody = free_port()  # nothing listens there
    client.sessions.update_proxy(sid, {"proxyUrl": f"http://127.0.0.1:{nobody}"})
    client.sessions.start(sid)
    failed = wait_status(client, sid, "failed", timeout=FAIL_FAST_SECONDS)
    assert "ERR_PROXY_CONNECTION_FAILED" in failed["lastError"]
    assert f"127.0.0.1:{nobody}" in failed["lastError"]


def test_bad_proxy_input_is_refused_with_a_code_and_changes_nothing(
    stack: Stack, client: OpenWAClient, proxy: ForwardProxy
) -> None:
    sid = client.sessions.create({"name": "proxied-bad"})["id"]
    client.sessions.update_proxy(sid, {"proxyUrl": f"socks5://127.0.0.1:{proxy.port}"})
    before = client.sessions.get_proxy(sid)
    junk = [
        "ftp://127.0.0.1:21",  # not a proxy scheme
        "http://127.0.0.1",  # no port
        "http://127.0.0.1:0",
        "http://127.0.0.1:70000",
        "http://:8080",  # no host
        "http://127.0.0.1:8080/path",
        "http://127.0.0.1:8080?x=1",
        "socks5://user:pw@127.0.0.1:1080",  # Chromium cannot authenticate to SOCKS
        "http://:pw@127.0.0.1:8080",  # a password without a user
        "not a url",
    ]
    codes = [
        (e.status, e.code)
        for e in (refused(lambda u=u: client.sessions.update_proxy(sid, {"proxyUrl": u})) for u in junk)
    ]
    assert codes == [(400, "INVALID_PROXY_URL")] * len(junk)
    empty = refused(lambda: client.sessions.update_proxy(sid, {}))
    unknown = refused(lambda: client.sessions.update_proxy(sid, {"proxyUrl": None, "type": "http"}))  # type: ignore[typeddict-unknown-key]
    assert [(e.status, e.code) for e in (empty, unknown)] == [(400, "VALIDATION_ERROR")] * 2
    missing = refused(lambda: client.sessions.get_proxy("no-such-session"))
    assert (missing.status, missing.code) == (404, "SESSION_NOT_FOUND")

    # An operator, and an admin scoped to this session: the proxy is an unscoped admin's.
    operator = _key(stack, {"name": "proxy-operator", "role": "operator"})
    scoped = _key(stack, {"name": "proxy-scoped", "role": "admin", "allowedSessions": [sid]})
    for key in (operator, scoped):
        other = OpenWAClient(stack.api_url, key, timeout=30.0)
        assert refused(lambda c=other: c.sessions.get_proxy(sid)).status == 403
        assert refused(lambda c=other: c.sessions.update_proxy(sid, {"proxyUrl": None})).status == 403
    assert client.sessions.get_proxy(sid) == before


def _key(stack: Stack, body: dict[str, Any]) -> str:
    answer = httpx.post(
        f"{stack.api_url}/api/auth/api-keys", json=body, headers={"X-API-Key": stack.master_key}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["apiKey"])
