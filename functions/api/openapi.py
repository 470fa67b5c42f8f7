"""OpenAPI wiring: our Api/Blueprint flavours and the decorator that documents every route's errors.

Validation failures answer 400 (OpenWA), not flask-smorest's default 422. Error responses are the
per-status components flask-smorest registers (`UNAUTHORIZED`, `FORBIDDEN`, ...), all using our
`ErrorSchema`, so each route lists exactly the statuses it can answer.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from http import HTTPStatus
from typing import Any, TypeVar

from flask import request
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import deepupdate
from marshmallow import Schema, missing
from webargs.flaskparser import FlaskParser, abort, is_json_request

from functions.api.examples import request_example
from functions.api.json_provider import MAX_BODY_DEPTH, InvalidJson, load_request_body
from functions.schemas.errors import ErrorSchema

F = TypeVar("F", bound=Callable[..., Any])

SECURITY: list[dict[str, list[str]]] = [{"ApiKeyAuth": []}, {"BearerAuth": []}]


def response_name(status: int) -> str:
    """The component flask-smorest registers for each status (e.g. `BAD_REQUEST`), with our ErrorSchema."""
    return HTTPStatus(status).name


_SCALARS = (str, int, float, bool, type(None))


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def __init__(self) -> None:
        super().__init__()
        # Per query schema: what an empty query string loads to, or None when that is not a constant.
        self._empty_queries: dict[int, tuple[Schema, dict[str, Any] | None]] = {}

    def _raw_load_json(self, req: Any) -> Any:
        """The JSON edge of every route with a body: `load_request_body`'s strict parse instead of webargs'
        `json.loads`, which passes lone surrogates on (400 INVALID_UNICODE now) and raises ValueError (a
        500) for a 5,000-digit integer and RecursionError for 1,000 levels of nesting (400 VALIDATION_ERROR
        now, like any malformed body, with the reason). No body (or not a JSON one) loads to `missing`, as
        in webargs."""
        if not is_json_request(req):
            return missing
        body = req.get_data(cache=True)
        if not body:
            return missing
        try:
            return load_request_body(body)
        except InvalidJson as exc:
            abort(400, exc=exc, messages={"json": [str(exc)]})

    def parse(self, argmap: Any, req: Any = None, *, location: str | None = None, **kwargs: Any) -> Any:
        """webargs' parse, except that a request with no query string gets the copy of what it loaded to
        the first time (the defaults): the list routes are mostly called without parameters, and loading
        nothing through marshmallow costs ~40 us a request. Only for a schema whose empty load cannot vary:
        no hooks, no callable defaults, and a flat result of immutable values (see `_constant_load`)."""
        if location != "query" or kwargs.get("validate"):
            return super().parse(argmap, req, location=location, **kwargs)
        known = self._empty_queries.get(id(argmap))
        empty = not (req if req is not None else request).query_string
        if known is not None and known[1] is not None and empty:
            return dict(known[1])
        loaded = super().parse(argmap, req, location=location, **kwargs)  # raises if it cannot be empty
        if not empty or not isinstance(argmap, Schema):
            return loaded
        if known is None:  # the schema is kept with its entry, so its id is never reused
            constant = dict(loaded) if _constant_load(argmap, loaded) else None
            self._empty_queries[id(argmap)] = (argmap, constant)
        return loaded


def _constant_load(schema: Schema, loaded: Any) -> bool:
    """Whether loading `{}` into `schema` always gives `loaded`: no hook may compute or check anything, no
    default is computed on each load, and the result holds only immutable values."""
    if any(schema._hooks.values()):
        return False
    if any(callable(field.load_default) for field in schema.fields.values()):
        return False
    return isinstance(loaded, dict) and all(isinstance(value, _SCALARS) for value in loaded.values())


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema: Any, *, location: str = "json", example: Any = None, **kwargs: Any) -> Any:
        """flask-smorest's, with a JSON body's example taken from `functions.api.examples` when the route
        names none (Swagger UI's "Try it out" sends it)."""
        if location == "json" and example is None:
            example = request_example(schema)
        return super().arguments(schema, location=location, example=example, **kwargs)

    def errors(
        self, *statuses: int, auth: bool = True, body: bool = False, limited: bool = True
    ) -> Callable[[F], F]:
        """Document the error statuses a route can answer, plus those every route shares: 500 and 503
        always, 429 when rate limited, 401/403 with auth, 400/413/415 with a JSON body."""
        common = {500, 503} | ({429} if limited else set()) | ({401, 403} if auth else set())
        common |= {400, 413, 415} if body else set()
        every = sorted(common | set(statuses))

        def decorator(view: F) -> F:
            # Writes the same `_apidoc` entries as `alt_response(status, response=name)` and
            # `doc(security=...)` would, without their wrappers: each of those is a pass-through function
            # that only carries documentation, yet costs a call and an `ensure_sync` check on every request
            # (six to nine per route). The entries are added to a copy, in the same order, so the OpenAPI
            # document is unchanged.
            apidoc = deepcopy(getattr(view, "_apidoc", {}))
            responses = apidoc.setdefault("response", {}).setdefault("responses", {})
            for status in every:
                responses.setdefault(status, []).append(response_name(status))
            manual = deepcopy(apidoc.get("manual_doc", {}))
            apidoc["manual_doc"] = deepupdate(manual, {"security": SECURITY if auth else []})
            view._apidoc = apidoc  # type: ignore[attr-defined]
            return view

        return decorator


class Api(SmorestApi):
    """flask-smorest's Api with our error components and security schemes registered."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        super()._register_responses()
        # The codes every route with a 400 may answer, whatever its own (the JSON edge: `Parser`).
        self.spec.components.responses_lazy["BAD_REQUEST"]["description"] = (
            "Bad Request. `VALIDATION_ERROR`: the body, query or path failed validation, reasons in "
            "`details.fields` (a body that is not JSON, nests deeper than "
            f"{MAX_BODY_DEPTH} levels or holds a number beyond a float included); `INVALID_UNICODE`: the "
            "body is not UTF-8 or a string in it holds a lone surrogate; otherwise the route's own code."
        )
        self.spec.components.security_scheme(
            "ApiKeyAuth", {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        )
        self.spec.components.security_scheme("BearerAuth", {"type": "http", "scheme": "bearer"})

    def _register_error_handlers(self) -> None:
        """Errors are rendered by `functions.api.errors`, registered by the app factory."""
