"""Outbound media from a send request: base64 or a URL, size-capped, type-sniffed, stored before sending.

The mimetype of what we send is sniffed from the bytes (PyPI `filetype`), not taken from the client: a
declared type is only used when the bytes have no recognisable signature (plain text, CSV...). URLs are
fetched through the SSRF guard (`functions.net.ssrf`: DNS pinned, private targets refused unless
`SSRF_ALLOWED_HOSTS`), a timeout and `MEDIA_DOWNLOAD_MAX_BYTES`, counted while streaming so a lying
Content-Length cannot pass.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import posixpath
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import filetype
import httpx

from functions.config import Settings
from functions.core.errors import DomainError
from functions.net.ssrf import InvalidTargetUrl, TargetRefused, TargetUnresolvable, pin

_MAX_REDIRECTS = 3


class InvalidMedia(DomainError):
    status, code, default_message = 400, "INVALID_MEDIA", "The media could not be read"


class MediaTooLarge(DomainError):
    status, code, default_message = 413, "MEDIA_TOO_LARGE", "The media is larger than allowed"


class MediaUrlRefused(DomainError):
    status, code = 400, "MEDIA_URL_REFUSED"
    default_message = (
        "The media URL targets a non-public address; to allow it, add its host to SSRF_ALLOWED_HOSTS"
    )


class MediaDownloadFailed(DomainError):
    status, code, default_message = 422, "MEDIA_DOWNLOAD_FAILED", "The media URL could not be downloaded"


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    mimetype: str
    filename: str | None


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int
    timeout_seconds: float
    ssrf_protect: bool
    allowed_hosts: tuple[str, ...]
    host_overrides: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaLimits:
        """The limits every media the API fetches or decodes is held to (sends, pictures)."""
        return cls(
            max_bytes=settings.media_download_max_bytes,
            timeout_seconds=settings.media_download_timeout_ms / 1000,
            ssrf_protect=settings.webhook_ssrf_protect,
            allowed_hosts=tuple(settings.ssrf_allowed_hosts),
            host_overrides=settings.ssrf_host_map,
        )


def sniff_mimetype(data: bytes, declared: str | None) -> str:
    """The type the bytes say they are; the declared one only when they say nothing."""
    kind = filetype.guess(data)
    if kind is not None:
        return str(kind.mime)
    if declared and "/" in declared:
        return declared.split(";", 1)[0].strip().lower()
    return "application/octet-stream"


def from_base64(value: str, declared: str | None, filename: str | None, limits: MediaLimits) -> MediaFile:
    """Decode base64 (a `data:` URL prefix is accepted). InvalidMedia, MediaTooLarge."""
    payload = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    if len(payload) * 3 // 4 > limits.max_bytes + 3:
        raise MediaTooLarge(details={"field": "base64", "maxBytes": limits.max_bytes})
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidMedia("base64 is not valid base64", details={"field": "base64"}) from exc
    if not data:
        raise InvalidMedia("base64 decodes to nothing", details={"field": "base64"})
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(details={"field": "base64", "maxBytes": limits.max_bytes})
    return MediaFile(data, sniff_mimetype(data, declared), filename)


def from_url(url: str, declared: str | None, filename: str | None, limits: MediaLimits) -> MediaFile:
    """Download `url` through the SSRF guard, following at most a few redirects (each one checked)."""
    current = url
    # One deadline for the whole download, redirects included: httpx's timeouts bound each read, and a
    # server that sends a byte just within each would otherwise hold the request for as long as it likes.
    deadline = time.monotonic() + limits.timeout_seconds
    with httpx.Client(timeout=limits.timeout_seconds, trust_env=False, follow_redirects=False) as client:
        for _ in range(_MAX_REDIRECTS + 1):
            response_url, data, content_type, location = _fetch(client, current, limits, deadline)
            if location is None:
                name = filename or _filename_from(response_url)
                return MediaFile(data, sniff_mimetype(data, declared or content_type), name)
            current = _redirect_target(current, location)
    raise MediaDownloadFailed("too many redirects", details={"url": url})


def _redirect_target(current: str, location: str) -> str:
    """The URL a redirect leads to: `location` resolved against `current`. InvalidMedia (400) for a Location
    that parsers read differently (`http:\\\\host\\path`: browsers take backslashes for slashes, RFC 3986
    for path characters) or that httpx cannot parse: which URL it means is unknowable, so none is fetched."""
    if "\\" in location or not location.isprintable():
        raise _malformed_redirect()
    try:
        return str(httpx.URL(current).join(location))
    except httpx.InvalidURL as exc:
        raise _malformed_redirect() from exc


def _malformed_redirect() -> InvalidMedia:
    return InvalidMedia("url: the media URL redirected to a malformed Location", details={"field": "url"})


def _fetch(
    client: httpx.Client, url: str, limits: MediaLimits, deadline: float
) -> tuple[str, bytes, str | None, str | None]:
    try:
        target = pin(
            url, protect=limits.ssrf_protect, allowed=limits.allowed_hosts, overrides=limits.host_overrides
        )
    except TargetRefused as exc:
        raise MediaUrlRefused(details={**exc.details, "field": "url"}) from exc
    except (InvalidTargetUrl, TargetUnresolvable) as exc:
        raise InvalidMedia(f"url: {exc.message}", details={**exc.details, "field": "url"}) from exc
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        request = client.build_request(
            "GET",
            target.connect_url,
            headers={"Host": target.host_header},
            extensions=extensions,
            timeout=_time_left(deadline, url, limits),
        )
    except httpx.InvalidURL as exc:  # a URL urlsplit accepts and httpx does not
        raise InvalidMedia(f"url: {exc}", details={"field": "url"}) from exc
    try:
        response = client.send(request, stream=True)
    except httpx.InvalidURL as exc:  # httpx resolves a redirect's Location inside `send`, even unfollowed
        raise _malformed_redirect() from exc
    except httpx.HTTPError as exc:
        raise MediaDownloadFailed(details={"url": url, "reason": str(exc) or type(exc).__name__}) from exc
    try:
        if response.is_redirect:
            return url, b"", None, response.headers.get("location")
        if response.status_code >= 400:
            raise MediaDownloadFailed(details={"url": url, "statusCode": response.status_code})
        declared_size = int(response.headers.get("content-length") or 0)
        if declared_size > limits.max_bytes:
            raise MediaTooLarge(details={"field": "url", "maxBytes": limits.max_bytes})
        data = _read_capped(response, url, limits, deadline)
        return url, data, response.headers.get("content-type"), None
    finally:
        response.close()


def _time_left(deadline: float, url: str, limits: MediaLimits) -> float:
    """Seconds until `deadline`; MediaDownloadFailed once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise MediaDownloadFailed(
            "the download took longer than MEDIA_DOWNLOAD_TIMEOUT_MS",
            details={"url": url, "timeoutMs": round(limits.timeout_seconds * 1000)},
        )
    return left


def _read_capped(response: httpx.Response, url: str, limits: MediaLimits, deadline: float) -> bytes:
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            _time_left(deadline, url, limits)
            size += len(chunk)
            if size > limits.max_bytes:
                raise MediaTooLarge(details={"field": "url", "maxBytes": limits.max_bytes})
            chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise MediaDownloadFailed(details={"url": url, "reason": str(exc) or type(exc).__name__}) from exc
    if not size:
        raise MediaDownloadFailed("the URL returned no content", details={"url": url})
    return b"".join(chunks)


def _filename_from(url: str) -> str | None:
    name = posixpath.basename(unquote(urlsplit(url).path))
    return name or None


def default_filename(kind: str, mimetype: str) -> str:
    """A name for media sent without one (documents need one to show)."""
    extension = mimetypes.guess_extension(mimetype) or ".bin"
    return f"{kind}{extension}"
