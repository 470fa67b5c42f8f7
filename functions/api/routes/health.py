"""`/api/health*`: public liveness and readiness (Redis and storage, 503 when either is down)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import jsonify
from flask.views import MethodView

from functions.api.auth import current_principal, presented_key
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.clock import iso, utcnow
from functions.core.errors import DomainError
from functions.schemas.health import HealthSchema, LiveSchema, ReadySchema

blp = Blueprint("health", __name__, url_prefix="/api/health", description="Health probes")

_CHECK_TIMEOUT_SECONDS = 3.0
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


def _gateway_version() -> str:
    try:
        return version("openwa-gateway")
    except PackageNotFoundError:
        return "0.0.0"


def _probe(check: Any) -> dict[str, str]:
    """Run one dependency check with a hard deadline; a hung dependency is reported, not waited on."""
    future = _checks.submit(check)
    try:
        future.result(timeout=_CHECK_TIMEOUT_SECONDS)
    except FutureTimeout:
        return {"status": "down", "error": f"no answer within {_CHECK_TIMEOUT_SECONDS:.0f}s"}
    except DomainError as exc:
        return {"status": "down", "error": exc.message}
    except Exception as exc:  # a probe reports any failure of its dependency, whatever the type
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "up"}


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.errors(auth=False, limited=False)
    def get(self) -> dict[str, Any]:
        """Basic health; `version` only when a valid API key is sent."""
        body = {"status": "ok", "timestamp": iso(utcnow())}
        if presented_key():
            try:
                current_principal()
                body["version"] = _gateway_version()
            except DomainError:
                pass  # an invalid key just gets the anonymous answer
        return body


@blp.route("/live")
class Live(MethodView):
    @blp.response(200, LiveSchema)
    @blp.errors(auth=False, limited=False)
    def get(self) -> dict[str, str]:
        """Static liveness."""
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, schema=ReadySchema, description="Redis or storage is down")
    @blp.alt_response(500, response="INTERNAL_SERVER_ERROR")
    @blp.doc(security=[])
    def get(self) -> Any:
        """Readiness: Redis answers PING and storage answers its probe, each within 3 s."""
        wired = services()
        details = {
            "redis": _probe(wired.redis.ping),
            "storage": _probe(lambda: wired.storage.check()),
        }
        healthy = all(item["status"] == "up" for item in details.values())
        response = jsonify({"status": "ok" if healthy else "error", "details": details})
        response.status_code = 200 if healthy else 503
        return response
