"""Swagger UI at `/api/docs`, from the locally installed `swagger-ui-bundle` assets (no CDN), with no
inline script so the page works under a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Response, send_from_directory

docs = Blueprint("docs", __name__, url_prefix="/api/docs")

_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenWA for Python — API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>
"""

_INIT = """window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui",
  persistAuthorization: false, deepLinking: true});
"""


@docs.get("")
def page() -> Response:
    return Response(_PAGE, mimetype="text/html")


@docs.get("/init.js")
def init_script() -> Response:
    return Response(_INIT, mimetype="application/javascript")


@docs.get("/static/<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(_ASSETS, filename, max_age=86400)
