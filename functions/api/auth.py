"""API key authentication and authorisation for handlers.

`@requires(Role.X)` on a view: the caller must present a valid key (`X-API-Key` or
`Authorization: Bearer`), in scope for the `session_id` in the URL (401 otherwise, checked first, as
upstream), with at least role X (403), and not session-scoped when `unscoped=True` (403).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request

from functions.api.audit import audit_auth_failure
from functions.api.client_ip import client_ip
from functions.api.wiring import services
from functions.core.enums import Role
from functions.core.errors import Forbidden, Unauthenticated
from functions.services.api_keys import Principal

F = TypeVar("F", bound=Callable[..., Any])


def presented_key() -> str | None:
    """The key the request carries, if any (header only; query-string keys are not accepted)."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_principal() -> Principal:
    """Authenticate the request once (cached on `g`); raises Unauthenticated."""
    principal: Principal | None = g.get("principal")
    if principal is None:
        wired = services()
        ip = client_ip(tuple(wired.settings.trusted_proxies))
        principal = wired.api_keys.authenticate(presented_key(), ip)
        g.principal = principal
    return principal


def authorize(principal: Principal, role: Role, *, unscoped: bool, session_id: str | None) -> None:
    if session_id is not None and not principal.can_see(session_id):
        raise Unauthenticated("API key is not allowed to access this session")
    if principal.role < role:
        raise Forbidden(f"Requires role {role.label} or higher", details={"requiredRole": role.label})
    if unscoped and principal.key.is_scoped():
        raise Forbidden("A session-scoped API key cannot use this route", details={"requiresUnscoped": True})


def require(role: Role, *, unscoped: bool = False, session_id: str | None = None) -> Principal:
    """What `@requires` checks, for a view whose rule depends on settings. A refusal (401/403) is counted
    and audited (sampled, `functions.api.audit.audit_auth_failure`) on its way out."""
    try:
        principal = current_principal()
        authorize(principal, role, unscoped=unscoped, session_id=session_id)
    except (Unauthenticated, Forbidden) as exc:
        audit_auth_failure(exc, presented_key())
        raise
    return principal


def requires(role: Role, *, unscoped: bool = False) -> Callable[[F], F]:
    """Decorate a view method: authenticate, then check scope, role and (optionally) unscoped-ness."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require(role, unscoped=unscoped, session_id=kwargs.get("session_id"))
            return view(*args, **kwargs)

        wrapper._openwa_auth = (role, unscoped)  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorator
