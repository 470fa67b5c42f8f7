"""The business catalog, product messages and button clicks on the webjs engine: 501.

Upstream serves `getCatalog`, `getProducts`, `getProduct`, `sendProduct` and `clickButton` on its Baileys
engine only; its whatsapp-web.js engine answers `EngineNotSupportedError(<method>)`, i.e. 501 with
`Operation not supported by the active engine: <method>`. wa-js has a catalog namespace, but OpenWA's shapes
for it are Baileys' and nothing here is verified against a business catalog, so this engine keeps
upstream's answer for its browser engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from functions.core.chats import Capability
from runner.engines.webjs.channels import unsupported

# Our capability -> upstream's engine method.
_METHODS = {
    Capability.CATALOG: "getCatalog",
    Capability.CATALOG_PRODUCTS: "getProducts",
    Capability.CATALOG_PRODUCT: "getProduct",
    Capability.SEND_PRODUCT: "sendProduct",
    Capability.CLICK_BUTTON: "clickButton",
}


def _refuse(method: str) -> Callable[..., Awaitable[Any]]:
    async def refuse(*_: Any) -> Any:
        raise unsupported(method)

    return refuse


def catalog_table() -> dict[str, Callable[..., Awaitable[Any]]]:
    """The catalog capabilities by name, each a 501."""
    return {capability: _refuse(method) for capability, method in _METHODS.items()}
