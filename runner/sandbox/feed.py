"""A phone's live feed: what a sandbox phone receives, pushed as it arrives (for tests and benchmarks).

`PhoneFeed` links a device to the phone the way WhatsApp Web does, without a browser: it opens the page's
event stream (`GET /_wa/events?page=...`), scans the QR it is shown through the control API, then reads the
linked device's stream (`GET /_wa/events?token=...&since=0`, so nothing published after linking is missed).
Every message another account sends to the phone is handed to `on_message` with the monotonic time it arrived.
Polling the control API's inbox instead costs the sandbox a walk over every stored message per poll.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

OnMessage = Callable[[dict[str, Any], float], None]


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON `data:` payloads of a Server-Sent Events response (comments and ids skipped)."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])


class PhoneFeed:
    """Messages received by sandbox phone `number` at `base_url`; `start()` links, `close()` stops reading."""

    def __init__(self, base_url: str, number: str, on_message: OnMessage, *, timeout: float = 30.0) -> None:
        self.base_url, self.number, self._on_message = base_url.rstrip("/"), number, on_message
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout, read=None))
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.device_id: str | None = None

    def start(self) -> PhoneFeed:
        """Link a device to the phone and start reading its stream (in a daemon thread)."""
        token = self._link()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(token, ready), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def close(self) -> None:
        self._closed.set()
        self._http.close()

    def __enter__(self) -> PhoneFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _link(self) -> str:
        params = {"page": "feed-" + secrets.token_hex(8)}
        with self._http.stream("GET", "/_wa/events", params=params) as response:
            response.raise_for_status()
            for event in _events(response):
                if event["type"] == "qr":
                    body = {"qr": event["qr"]}
                    self._http.post(f"/_sandbox/phones/{self.number}/link", json=body).raise_for_status()
                elif event["type"] == "linked":
                    self.device_id = str(event["deviceId"])
                    return str(event["token"])
        raise RuntimeError(f"the sandbox closed the linking stream of phone {self.number}")

    def _read(self, token: str, ready: threading.Event) -> None:
        params: dict[str, str | int] = {"token": token, "since": 0}
        try:
            with self._http.stream("GET", "/_wa/events", params=params) as response:
                response.raise_for_status()
                for event in _events(response):
                    if event["type"] == "hello":
                        ready.set()
                    elif event["type"] == "message" and not event["msg"]["id"]["fromMe"]:
                        self._on_message(event["msg"], time.monotonic())
        except (httpx.HTTPError, RuntimeError):
            if not self._closed.is_set():
                raise
