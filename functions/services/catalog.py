"""The business catalog, product messages and button clicks (the `openwa` SDK's `catalog` resource and
`messages.click_button`).

Upstream serves these on its Baileys engine only; on whatsapp-web.js they answer 501 with `Operation not
supported by the active engine: <method>`. Ours ask the session's engine like every other capability (the
session must exist, 404, and be ready, 409), and the webjs engine answers 501 ENGINE_NOT_SUPPORTED with
upstream's message.
"""

from __future__ import annotations

from typing import Any

from functions.core.chats import Capability
from functions.services.session_engine import SessionEngine


class CatalogService:
    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def info(self, session_id: str) -> dict[str, Any] | None:
        found = self._engine.call(session_id, Capability.CATALOG)
        return dict(found) if found else None

    def products(self, session_id: str, page: int, limit: int) -> dict[str, Any]:
        return dict(self._engine.call(session_id, Capability.CATALOG_PRODUCTS, page, limit))

    def product(self, session_id: str, product_id: str) -> dict[str, Any] | None:
        found = self._engine.call(session_id, Capability.CATALOG_PRODUCT, product_id)
        return dict(found) if found else None

    def send_product(
        self, session_id: str, chat_id: str, product_id: str, body: str | None
    ) -> dict[str, Any]:
        return dict(self._engine.call(session_id, Capability.SEND_PRODUCT, chat_id, product_id, body))

    def click_button(self, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        args = (body["chatId"], body["messageId"], body["buttonId"], body.get("text"))
        return dict(self._engine.call(session_id, Capability.CLICK_BUTTON, *args))
