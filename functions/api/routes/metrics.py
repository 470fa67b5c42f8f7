"""`GET /api/metrics`: Prometheus text exposition of the whole deployment (`functions.services.metrics`).

Access: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` is accepted (a scraper needs
no API key, and holds nothing that can change the deployment); without it, an unscoped admin API key. A
refusal answers 401 (missing or wrong credentials) or 403 (a key below admin, or session-scoped), and is
counted and audited like any other refused request.
"""

from __future__ import annotations

import hmac

from flask import Response, request
from flask.views import MethodView
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from functions.api.audit import audit_auth_failure
from functions.api.auth import require
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.core.errors import Unauthenticated
from functions.services.metrics import GatewayCollector

blp = Blueprint("metrics", __name__, url_prefix="/api/metrics", description="Prometheus metrics")


class MetricsTokenInvalid(Unauthenticated):
    code, default_message = "METRICS_TOKEN_INVALID", "A valid metrics bearer token is required"


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _check_access() -> None:
    """METRICS_TOKEN when set (compared in constant time), else an unscoped admin key."""
    expected = services().settings.metrics_token
    if expected is None:
        require(Role.ADMIN, unscoped=True)
        return
    presented = _bearer()
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        error = MetricsTokenInvalid()
        audit_auth_failure(error, presented)
        raise error


@blp.route("")
class Metrics(MethodView):
    @blp.response(
        200,
        {"type": "string"},
        content_type="text/plain",
        description="Prometheus text exposition format",
    )
    @blp.errors()
    def get(self) -> Response:
        """Prometheus metrics of the whole deployment.

        Sessions, messages, send latency, queues, runner capacity and webhook attempts, read from shared
        state at scrape time. Authenticate with `Authorization: Bearer <METRICS_TOKEN>` when that is set
        (API keys are then refused here), else with an unscoped admin API key."""
        _check_access()
        wired = services()
        max_sessions = wired.settings.max_sessions
        collector = GatewayCollector(wired.redis, wired.keys, default_max_sessions=max_sessions)
        return Response(generate_latest(collector), content_type=CONTENT_TYPE_LATEST)
