"""Signed URLs of the local backend are served by the API, and only while valid."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from functions.api.wiring import Services
from functions.storage import UrlSigner


def test_signed_url_serves_the_object_until_tampered(app: Flask) -> None:
    storage = app.extensions["openwa"].storage
    assert isinstance(app.extensions["openwa"], Services)
    storage.put("media/s1/3EB0ABC", b"\x89PNG fake", content_type="image/png")
    url = urlsplit(storage.signed_url("media/s1/3EB0ABC", expires_in=60))
    client = app.test_client()
    ok = client.get(f"{url.path}?{url.query}")
    assert ok.status_code == 200
    assert ok.data == b"\x89PNG fake"
    assert ok.mimetype == "image/png"
    tampered = client.get(f"{url.path}?{url.query[:-1]}{'0' if url.query[-1] != '0' else '1'}")
    assert tampered.status_code == 403
    assert tampered.json["code"] == "SIGNED_URL_INVALID"
    other_key = client.get(f"/api/storage/media/s1/OTHER?{url.query}")
    assert other_key.status_code == 403
    missing_signature = client.get(url.path)
    assert missing_signature.status_code == 400


def test_expired_signed_url_is_refused(app: Flask) -> None:
    wired = app.extensions["openwa"]
    wired.storage.put("media/s1/old", b"x")
    # Signed with the gateway's own key, for a moment long past.
    signature = UrlSigner.from_envelope(wired.envelope).sign("media/s1/old", 1_000)
    response = app.test_client().get(f"/api/storage/media/s1/old?expires=1000&signature={signature}")
    assert response.status_code == 403
    assert response.json["code"] == "SIGNED_URL_EXPIRED"
