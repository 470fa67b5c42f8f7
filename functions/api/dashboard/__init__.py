"""The dashboard: plain static files (HTML, CSS and JavaScript modules; no build step, no CDN) served on the
API's port at `/` and `/dashboard`, assets under `/dashboard/static/`.

The page talks to the public REST API and the SSE stream only, with a key the user pastes (kept in
sessionStorage, sent as `X-API-Key`, never put in a URL). Its responses carry their own strict
Content-Security-Policy: scripts, styles and connections from this origin only (so no inline script or
style attribute runs), images also as `data:` URLs (QR codes), no framing, no plugins, no form posts
elsewhere. The API's own responses keep the app-wide headers.
"""

from __future__ import annotations

import ipaddress
import re
from html import escape
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request, send_from_directory

from functions.api.client_ip import client_ip

STATIC_DIR = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

dashboard = Blueprint("dashboard", __name__)


@dashboard.after_request
def _secure(response: Response) -> Response:
    """Runs before the app-wide `_finish` (which only sets defaults), so these values win."""
    response.headers.update(SECURITY_HEADERS)
    # Unversioned file names: revalidate every time (ETag/Last-Modified make that a 304).
    response.headers["Cache-Control"] = "no-cache"
    return response


_KEY_FILE_HINT = re.compile(r"<!--key-file-->.*?<!--/key-file-->", re.DOTALL)
_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@dashboard.get("/")
@dashboard.get("/dashboard")
@dashboard.get("/dashboard/")
def page() -> Response:
    """The page. To a browser on this machine, the login hint names the admin key's real file (it may
    read it anyway); anyone else gets the general wording, so no path leaks off the machine."""
    html = (STATIC_DIR / "index.html").read_text()
    wired = current_app.extensions["openwa"]
    # A reverse proxy on this machine connects from loopback too: a request that came through one (it says
    # so in its forwarding headers) is treated as from elsewhere, trusted proxies or not.
    proxied = any(request.headers.get(name) for name in _FORWARDING_HEADERS)
    if not proxied and _on_this_machine(client_ip(tuple(wired.settings.trusted_proxies))):
        path = escape(str(wired.settings.api_key_file.resolve()))
        html = _KEY_FILE_HINT.sub(lambda _: f"<code data-key-file>{path}</code>", html, count=1)
    return Response(html, mimetype="text/html")


def _on_this_machine(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@dashboard.get("/dashboard/static/<path:filename>")
def asset(filename: str) -> Response:
    """A file under static/ (send_from_directory refuses paths that leave it: 404)."""
    return send_from_directory(STATIC_DIR, filename)


def install_dashboard(app: Flask) -> None:
    """Serve the dashboard; its files are exempt from the API's rate limits, like the API docs."""
    app.register_blueprint(dashboard)
    limiter = app.extensions.get("openwa_limiter")
    if limiter is not None:
        limiter.exempt(dashboard)
