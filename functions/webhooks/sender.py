"""One HTTP POST to a pinned target, with keep-alive pooling and a hard per-attempt timeout.

One `Sender` per process: the delivery worker runs jobs in-process (SimpleWorker), so its pooled
connections are reused from one delivery to the next. Redirects are never followed (a 3xx is a failure,
and following it would bypass the SSRF guard). Only the first 64 KiB of an answer are read.

The requests go through httpcore, the connection pool under httpx, directly: httpx's client layer (URL
merging, cookie jar, auth and redirect hooks) did nothing for a webhook yet cost ~40 % of an attempt's
CPU (measured). The request on the wire is the one httpx sent: the same default headers, TLS context
(certifi, no environment) and timeouts; and no cookie jar, so one receiver's cookies never ride along.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpcore
import httpx

from functions.net.ssrf import PinnedTarget

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: an HTTP status, or an error (network, timeout, refused target)."""

    status: int | None
    latency_ms: float
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or malformed."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


# What httpx adds to every request (it sent these before httpcore was used directly).
_DEFAULT_HEADERS = (
    (b"Accept", b"*/*"),
    (b"Accept-Encoding", b"gzip, deflate"),
    (b"Connection", b"keep-alive"),
)
# What a failed attempt can raise (httpcore maps socket, TLS and h11 errors onto these).
_TRANSPORT_ERRORS = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
)


class Sender:
    """POSTs bodies; never raises for transport problems (they come back as an Outcome error)."""

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds
        self._timeouts = {phase: timeout_seconds for phase in ("connect", "read", "write", "pool")}
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=256,
            max_keepalive_connections=64,
            keepalive_expiry=30,
        )

    def post(self, target: PinnedTarget, body: bytes, headers: dict[str, str]) -> Outcome:
        extensions: dict[str, object] = {"timeout": self._timeouts}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        wire = [(b"Host", target.host_header.encode()), *_DEFAULT_HEADERS]
        wire += [(name.encode(), value.encode()) for name, value in headers.items()]
        wire.append((b"Content-Length", str(len(body)).encode()))
        started = time.perf_counter()
        try:
            with self._pool.stream(
                "POST", target.connect_url, headers=wire, content=body, extensions=extensions
            ) as response:
                self._drain(response)
                status, answer_headers = response.status, response.headers
        except httpcore.TimeoutException:
            return Outcome(None, _since(started), f"timeout after {self._timeout:g} s")
        except _TRANSPORT_ERRORS as exc:
            return Outcome(None, _since(started), f"{type(exc).__name__}: {exc}"[:500])
        retry_after = parse_retry_after(_header(answer_headers, b"retry-after"))
        return Outcome(status, _since(started), None, retry_after)

    @staticmethod
    def _drain(response: httpcore.Response) -> None:
        """Read (and discard) the answer so the connection can be reused; stop after 64 KiB."""
        read = 0
        for chunk in response.iter_stream():
            read += len(chunk)
            if read > MAX_RESPONSE_BYTES:
                break

    def close(self) -> None:
        self._pool.close()


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
