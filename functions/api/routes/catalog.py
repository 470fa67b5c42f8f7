"""`/api/sessions/<id>/catalog`, `/messages/send-product` and `/messages/click-button`: the business catalog
and interactive replies (`reference/openwa.md` §2.4; the `openwa` SDK's `catalog` resource and
`messages.click_button`). Upstream serves them on its Baileys engine only; the webjs engine answers 501
ENGINE_NOT_SUPPORTED with upstream's message. See `functions.services.catalog`."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from functions.api.auth import requires
from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.enums import Role
from functions.schemas import catalog as schemas
from functions.services.catalog import CatalogService

blp = Blueprint("catalog", __name__, url_prefix="/api/sessions", description="Business catalog")

# A bad query or body (400), the session missing (404), not ready (409), the engine lacks it (501: the webjs
# engine has no catalog and no buttons), the runner failed (502) or did not answer in time (504).
_ERRORS = (400, 404, 409, 501, 502, 504)


def _catalog() -> CatalogService:
    return services().catalog


def _or_no_content(found: dict[str, Any] | None) -> dict[str, Any] | Response:
    """Upstream answers an empty 200 where the SDK reads None; a 204 says the same without a body."""
    return found if found is not None else Response(status=204)


@blp.route("/<session_id>/catalog")
class Catalog(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.CatalogInfoSchema)
    @blp.alt_response(204, description="The account has no catalog")
    @blp.errors(*_ERRORS)
    def get(self, session_id: str) -> dict[str, Any] | Response:
        """The account's catalog. 501 on the webjs engine."""
        return _or_no_content(_catalog().info(session_id))


@blp.route("/<session_id>/catalog/products")
class Products(MethodView):
    @requires(Role.VIEWER)
    @blp.arguments(schemas.CatalogProductsQuerySchema(), location="query")
    @blp.response(200, schemas.PaginatedProductsSchema)
    @blp.errors(*_ERRORS)
    def get(self, query: dict[str, Any], session_id: str) -> dict[str, Any]:
        """The catalog's products, a page at a time. 501 on the webjs engine."""
        return _catalog().products(session_id, query["page"], query["limit"])


@blp.route("/<session_id>/catalog/products/<product_id>")
class Product(MethodView):
    @requires(Role.VIEWER)
    @blp.response(200, schemas.CatalogProductSchema)
    @blp.alt_response(204, description="No product has this id")
    @blp.errors(*_ERRORS)
    def get(self, session_id: str, product_id: str) -> dict[str, Any] | Response:
        """One product. 501 on the webjs engine."""
        return _or_no_content(_catalog().product(session_id, product_id))


@blp.route("/<session_id>/messages/send-product")
class SendProduct(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.SendProductSchema())
    @blp.response(201, schemas.ProductMessageSchema)
    @blp.errors(*_ERRORS, 403, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Send a catalog product card (`{id, timestamp}`). 501 on the webjs engine."""
        return _catalog().send_product(session_id, body["chatId"], body["productId"], body.get("body"))


@blp.route("/<session_id>/messages/click-button")
class ClickButton(MethodView):
    @requires(Role.OPERATOR)
    @blp.arguments(schemas.ClickButtonSchema())
    @blp.response(201, schemas.ButtonReplySchema)
    @blp.errors(*_ERRORS, 403, body=True)
    def post(self, body: dict[str, Any], session_id: str) -> dict[str, Any]:
        """Click a button of a business message. 501 on the webjs engine (upstream: Baileys only)."""
        return _catalog().click_button(session_id, body)
