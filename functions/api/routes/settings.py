"""`/api/settings`: the deployment's environment-derived settings (upstream OpenWA's settings module): admin
keys that are not session-scoped, since they describe the deployment rather than a session."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.settings import SettingsSchema
from functions.services.deployment_settings import SettingsReadOnly, deployment_settings

blp = Blueprint("settings", __name__, url_prefix="/api/settings", description="Deployment settings")


@blp.route("")
class DeploymentSettings(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.response(200, SettingsSchema)
    @blp.errors()
    def get(self) -> dict[str, Any]:
        """Base URL, reconnect policy, debug mode, the per-key rate limit and whether the docs are served."""
        return deployment_settings(services().settings)

    @requires(Role.ADMIN, unscoped=True)
    @blp.errors(501)
    def put(self) -> dict[str, Any]:
        """Always 501 SETTINGS_READ_ONLY: settings come from the environment; change it and restart."""
        raise SettingsReadOnly()
