"""One HTTP POST to a pinned target, with keep-alive pooling and a hard per-attempt timeout.

One `Sender` per process: the delivery worker runs jobs in-process (SimpleWorker), so its pooled
connections are reused from one delivery to the next. Redirects are never followed (a 3xx is a failure,
and following it would bypass the SSRF guard). Only the first 64 KiB of an answer are read.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from functions.webhooks.ssrf import PinnedTarget

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


class Sender:
    """POSTs bodies; never raises for transport problems (they come back as an Outcome error)."""

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30),
            trust_env=False,  # no proxy from the environment: the pinned address is where we connect
        )

    def post(self, target: PinnedTarget, body: bytes, headers: dict[str, str]) -> Outcome:
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request = self._client.build_request(
            "POST",
            target.connect_url,
            content=body,
            headers={**headers, "Host": target.host_header},
            extensions=extensions,
        )
        started = time.perf_counter()
        try:
            response = self._client.send(request, stream=True)
            try:
                self._drain(response)
            finally:
                response.close()
        except httpx.TimeoutException:
            return Outcome(None, _since(started), f"timeout after {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(None, _since(started), f"{type(exc).__name__}: {exc}"[:500])
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Outcome(response.status_code, _since(started), None, retry_after)

    @staticmethod
    def _drain(response: httpx.Response) -> None:
        """Read (and discard) the answer so the connection can be reused; stop after 64 KiB."""
        read = 0
        for chunk in response.iter_raw():
            read += len(chunk)
            if read > MAX_RESPONSE_BYTES:
                break

    def close(self) -> None:
        self._client.close()


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
