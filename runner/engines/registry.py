"""ENGINE_TYPE -> engine. `sandbox` is the `webjs` engine on the sandbox page, with the sandbox's WPP double
injected where wa-js would be (the same code path: only the injected files differ)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from functions.config import EngineType, Settings
from runner.engines.base import Engine, EngineListener
from runner.engines.webjs import WebJsEngine, WebJsOptions
from runner.engines.webjs.browser import BrowserOptions, BrowserProxy
from runner.engines.webjs.engine import WA_JS_PATH
from runner.engines.webjs.versions import pinned_page
from runner.sandbox import WPP_DOUBLE_SCRIPTS

EngineFactory = Callable[[Settings, EngineListener, BrowserProxy | None], Engine]
log = logging.getLogger(__name__)


def _browser(settings: Settings, proxy: BrowserProxy | None) -> BrowserOptions:
    return BrowserOptions(headless=settings.headless, chromium_path=settings.chromium_path, proxy=proxy)


def _webjs(settings: Settings, listener: EngineListener, proxy: BrowserProxy | None) -> Engine:
    pinned = pinned_page(settings.whatsapp_web_version)
    if pinned is None:
        log.warning("WhatsApp Web is not pinned: the page loads whatever version WhatsApp serves today")
    options = WebJsOptions(
        settings.whatsapp_web_url,
        (WA_JS_PATH,),
        _browser(settings, proxy),
        settings.session_init_timeout,
        pinned=pinned,
    )
    return WebJsEngine(options, listener)


def _sandbox(settings: Settings, listener: EngineListener, proxy: BrowserProxy | None) -> Engine:
    options = WebJsOptions(
        settings.sandbox_url, WPP_DOUBLE_SCRIPTS, _browser(settings, proxy), settings.session_init_timeout
    )
    return WebJsEngine(options, listener)


ENGINES: dict[EngineType, EngineFactory] = {EngineType.WEBJS: _webjs, EngineType.SANDBOX: _sandbox}


def create_engine(settings: Settings, listener: EngineListener, proxy: BrowserProxy | None = None) -> Engine:
    """The engine ENGINE_TYPE names, reporting to `listener`, its browser behind `proxy` when given."""
    return ENGINES[settings.engine_type](settings, listener, proxy)
