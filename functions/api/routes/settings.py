"""`/api/settings`: the deployment's environment-derived settings (upstream OpenWA's settings module): admin
keys that are not session-scoped, since they describe the deployment rather than a session. Read-only: every
value is read at boot. Upstream answers a PUT with 501; here there is no PUT, and the router's 405
METHOD_NOT_ALLOWED names the one method the path takes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.settings import SettingsSchema
from functions.services.deployment_settings import deployment_settings

blp = Blueprint("settings", __name__, url_prefix="/api/settings", description="Deployment settings")


@blp.route("")
class DeploymentSettings(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.response(200, SettingsSchema)
    @blp.errors()
    def get(self) -> dict[str, Any]:
        """Base URL, reconnect policy, debug mode, the per-key rate limit and whether the docs are served."""
        return deployment_settings(services().settings)
