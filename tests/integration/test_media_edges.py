"""Media at the edges: the download's Content-Disposition (RFC 6266, whatever the sender named the file), a
media URL's malformed redirect, the SSRF guard on media URLs (without echoing addresses), and no media URL
(with its query string) in the logs. Remote servers are local (127.0.0.1) and allow-listed; nothing here
connects anywhere else."""

from __future__ import annotations

import base64
import logging
import threading
import unicodedata
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.http import parse_options_header

from functions.api.app import create_app
from functions.config import Settings
from functions.log import configure_logging

BOB = "15550002222@c.us"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 64


class _Remote:
    """A local HTTP server: `/redirect-bad` answers 302 with a malformed Location, anything else a PNG."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                remote.paths.append(self.path)
                if self.path.startswith("/redirect-bad"):
                    self.send_response(302)
                    self.send_header("Location", "http:\\\\evil.example\\path")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def remote() -> Iterator[_Remote]:
    server = _Remote()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def media_app(make_settings: Callable[..., Settings]) -> Flask:
    """Loopback allow-listed (the local remote), and names the guard answers without DNS."""
    return create_app(
        make_settings(
            ssrf_allowed_hosts=["127.0.0.1"],
            ssrf_host_overrides=[
                "nat64-loopback.test=64:ff9b::7f00:1",
                "compat-private.test=::a00:1",
                "sixtofour-private.test=2002:a00:1::1",
                "internal.test=10.9.8.7",
            ],
            log_level="info",
        )
    )


def _held_session(client: FlaskClient, headers: dict[str, str]) -> str:
    response = client.post("/api/sessions", json={"name": "media"}, headers=headers)
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def _send(client: FlaskClient, session_id: str, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        f"/api/sessions/{session_id}/messages/send-document",
        json={"chatId": BOB, "queue": True, **body},
        headers=headers,
    )


def test_base64_media_without_a_mimetype_is_sniffed_from_its_bytes(
    media_app: Flask, admin_headers: dict[str, str]
) -> None:
    client = media_app.test_client()
    session_id = _held_session(client, admin_headers)
    sent = _send(client, session_id, admin_headers, base64=base64.b64encode(PNG).decode())
    assert sent.status_code == 201, sent.json
    media = client.get(
        f"/api/sessions/{session_id}/messages/{BOB}/{sent.json['messageId']}/media", headers=admin_headers
    )
    assert (media.status_code, media.headers["Content-Type"], media.data) == (200, "image/png", PNG)


@pytest.mark.parametrize(
    "filename",
    [
        "документ.png",  # not Latin-1: must still download
        'evil.png"; filename="evil.html',  # a quote must not end the parameter
        "report.png\r\nSet-Cookie: stolen=1",  # CRLF must not reach the header
        "naïve résumé.png",  # Latin-1, not ASCII
        "invoice\u202egnp.html",  # a right-to-left override would display it as "invoicelmth.png"
        "plain.png",
    ],
)
def test_media_downloads_name_the_file_per_rfc_6266(
    media_app: Flask, admin_headers: dict[str, str], filename: str
) -> None:
    client = media_app.test_client()
    session_id = _held_session(client, admin_headers)
    sent = _send(
        client,
        session_id,
        admin_headers,
        base64=base64.b64encode(PNG).decode(),
        mimetype="image/png",
        filename=filename,
    )
    assert sent.status_code == 201, sent.json
    media = client.get(
        f"/api/sessions/{session_id}/messages/{BOB}/{sent.json['messageId']}/media", headers=admin_headers
    )
    assert media.status_code == 200, media.json
    assert media.data == PNG
    header = media.headers["Content-Disposition"]
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    disposition, params = parse_options_header(header)
    assert disposition == "attachment"
    # Browsers use `filename*` when present, else the ASCII fallback: the name they save is the sender's
    # without control characters, and a quote cannot end the parameter to smuggle in another one.
    # (werkzeug's parser, like browsers, prefers `filename*` and reports it as `filename`.)
    expected = "".join(char for char in filename if unicodedata.category(char)[0] != "C")
    if expected.isascii():
        assert params == {"filename": expected.replace('"', "_")}
    else:
        assert params == {"filename": expected}
        assert f"filename*=UTF-8''{quote(expected)}" in header  # percent-encoded UTF-8
        assert "filename=" in header.replace("filename*=", "")  # plus an ASCII fallback for old clients


def test_a_media_url_redirecting_to_a_malformed_location_is_400(
    media_app: Flask, admin_headers: dict[str, str], remote: _Remote
) -> None:
    client = media_app.test_client()
    session_id = _held_session(client, admin_headers)
    response = _send(client, session_id, admin_headers, url=f"http://127.0.0.1:{remote.port}/redirect-bad")
    assert response.status_code == 400, response.json
    assert response.json["code"] == "INVALID_MEDIA"
    assert remote.paths == ["/redirect-bad"]  # nothing fetched after the bad redirect


@pytest.mark.parametrize(
    "url",
    [
        "http://nat64-loopback.test/x.png",
        "http://compat-private.test/x.png",
        "http://sixtofour-private.test/x.png",
    ],
)
def test_media_urls_resolving_to_ipv6_forms_of_internal_addresses_are_refused(
    media_app: Flask, admin_headers: dict[str, str], url: str
) -> None:
    client = media_app.test_client()
    session_id = _held_session(client, admin_headers)
    response = _send(client, session_id, admin_headers, url=url)
    assert (response.status_code, response.json["code"]) == (400, "MEDIA_URL_REFUSED"), response.json


def test_a_refused_media_url_does_not_reveal_what_the_name_resolved_to(
    media_app: Flask, admin_headers: dict[str, str]
) -> None:
    client = media_app.test_client()
    session_id = _held_session(client, admin_headers)
    response = _send(client, session_id, admin_headers, url="http://internal.test/x.png")
    assert (response.status_code, response.json["code"]) == (400, "MEDIA_URL_REFUSED")
    assert "10.9.8.7" not in response.get_data(as_text=True)


def test_media_urls_and_their_query_strings_stay_out_of_the_logs(
    media_app: Flask, admin_headers: dict[str, str], remote: _Remote, capfd: pytest.CaptureFixture[str]
) -> None:
    client = media_app.test_client()
    session_id = _held_session(client, admin_headers)
    configure_logging("info")  # as the app does, onto the stderr captured now
    logging.getLogger("control").info("control-line")
    url = f"http://127.0.0.1:{remote.port}/file.png?token=s3cr3t-t0ken"
    response = _send(client, session_id, admin_headers, url=url)
    assert response.status_code == 201, response.json
    assert remote.paths == ["/file.png?token=s3cr3t-t0ken"]  # it was fetched (and could have been logged)
    out, err = capfd.readouterr()
    assert "control-line" in err  # logging at info reaches the captured stderr
    assert "s3cr3t-t0ken" not in out + err
