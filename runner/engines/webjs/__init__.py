"""The `webjs` engine (WhatsApp Web + wa-js in Chromium); also drives the sandbox page unchanged."""

from __future__ import annotations

from runner.engines.webjs.engine import WebJsEngine, WebJsOptions

__all__ = ["WebJsEngine", "WebJsOptions"]
