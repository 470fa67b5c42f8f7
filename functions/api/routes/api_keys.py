"""`/api/auth`: API key management (admin, unscoped) and self-validation of the caller's key."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from functions.api.audit import audit
from functions.api.auth import current_principal, requires
from functions.api.openapi import Blueprint
from functions.api.render import api_key_to_wire
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas.api_keys import (
    ApiKeySchema,
    CreateApiKeySchema,
    CreatedApiKeySchema,
    UpdateApiKeySchema,
    ValidateKeySchema,
)

blp = Blueprint("api_keys", __name__, url_prefix="/api/auth", description="API keys")

_FIELD_NAMES = {
    "name": "name",
    "allowedIps": "allowed_ips",
    "allowedSessions": "allowed_sessions",
    "expiresAt": "expires_at",
}


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    changes = {_FIELD_NAMES[name]: value for name, value in body.items() if name in _FIELD_NAMES}
    for name in ("allowed_ips", "allowed_sessions"):
        if name in changes:
            changes[name] = changes[name] or None
    if "role" in body:
        changes["role"] = Role.parse(body["role"])
    return changes


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.response(200, ApiKeySchema(many=True))
    @blp.errors()
    def get(self) -> list[dict[str, Any]]:
        """List API keys (never their values)."""
        return [api_key_to_wire(key) for key in services().api_keys.all()]

    @requires(Role.ADMIN, unscoped=True)
    @blp.arguments(CreateApiKeySchema())
    @blp.response(201, CreatedApiKeySchema)
    @blp.errors(409, body=True)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a key. The plaintext `apiKey` is in this response only."""
        changes = _changes(body)
        key, plaintext = services().api_keys.create(
            changes["name"],
            changes["role"],
            allowed_ips=changes.get("allowed_ips"),
            allowed_sessions=changes.get("allowed_sessions"),
            expires_at=changes.get("expires_at"),
        )
        audit("api_key_created", apiKeyId=key.id, role=key.role.label)
        return {**api_key_to_wire(key), "apiKey": plaintext}


@blp.route("/api-keys/<key_id>")
class ApiKeyItem(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.response(200, ApiKeySchema)
    @blp.errors(404)
    def get(self, key_id: str) -> dict[str, Any]:
        """Get one key."""
        return api_key_to_wire(services().api_keys.get(key_id))

    @requires(Role.ADMIN, unscoped=True)
    @blp.arguments(UpdateApiKeySchema())
    @blp.response(200, ApiKeySchema)
    @blp.errors(404, 409, body=True)
    def put(self, body: dict[str, Any], key_id: str) -> dict[str, Any]:
        """Update name, role, scopes or expiry. 409 if it would leave no usable admin key."""
        key = services().api_keys.update(key_id, _changes(body))
        audit("api_key_updated", apiKeyId=key.id, fields=sorted(body))
        return api_key_to_wire(key)

    @requires(Role.ADMIN, unscoped=True)
    @blp.response(204)
    @blp.errors(404, 409)
    def delete(self, key_id: str) -> None:
        """Delete a key. 409 if it is the last usable admin key."""
        key = services().api_keys.delete(key_id)
        audit("api_key_deleted", apiKeyId=key.id)


@blp.route("/api-keys/<key_id>/revoke")
class ApiKeyRevoke(MethodView):
    @requires(Role.ADMIN, unscoped=True)
    @blp.response(200, ApiKeySchema)
    @blp.errors(404, 409)
    def post(self, key_id: str) -> dict[str, Any]:
        """Deactivate a key (`isActive: false`). 409 if it is the last usable admin key."""
        key = services().api_keys.revoke(key_id)
        audit("api_key_revoked", apiKeyId=key.id)
        return api_key_to_wire(key)


@blp.route("/validate")
class ValidateKey(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, ValidateKeySchema)
    @blp.errors()
    def post(self) -> dict[str, Any]:
        """Check the caller's own key."""
        principal = current_principal()
        return {
            "valid": True,
            "role": principal.role.label,
            "scoped": principal.key.is_scoped(),
            "engineType": services().settings.engine_type.value,
        }
