"""OpenAPI wiring: our Api/Blueprint flavours and the decorator that documents every route's errors.

Validation failures answer 400 (OpenWA), not flask-smorest's default 422. Error responses are the
per-status components flask-smorest registers (`UNAUTHORIZED`, `FORBIDDEN`, ...), all using our
`ErrorSchema`, so each route lists exactly the statuses it can answer.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar, cast

from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from functions.schemas.errors import ErrorSchema

F = TypeVar("F", bound=Callable[..., Any])

SECURITY: list[dict[str, list[str]]] = [{"ApiKeyAuth": []}, {"BearerAuth": []}]


def response_name(status: int) -> str:
    """The component flask-smorest registers for each status (e.g. `BAD_REQUEST`), with our ErrorSchema."""
    return HTTPStatus(status).name


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()

    def errors(
        self, *statuses: int, auth: bool = True, body: bool = False, limited: bool = True
    ) -> Callable[[F], F]:
        """Document the error statuses a route can answer, plus those every route shares: 500 and 503
        always, 429 when rate limited, 401/403 with auth, 400/413/415 with a JSON body."""
        common = {500, 503} | ({429} if limited else set()) | ({401, 403} if auth else set())
        common |= {400, 413, 415} if body else set()
        every = sorted(common | set(statuses))

        def decorator(view: F) -> F:
            for status in every:
                view = self.alt_response(status, response=response_name(status))(view)
            return cast(F, self.doc(security=SECURITY if auth else [])(view))

        return decorator


class Api(SmorestApi):
    """flask-smorest's Api with our error components and security schemes registered."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        super()._register_responses()
        self.spec.components.security_scheme(
            "ApiKeyAuth", {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        )
        self.spec.components.security_scheme("BearerAuth", {"type": "http", "scheme": "bearer"})

    def _register_error_handlers(self) -> None:
        """Errors are rendered by `functions.api.errors`, registered by the app factory."""
