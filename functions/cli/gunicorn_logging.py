"""gunicorn's own lines (boot, workers, signals) in the format every other process writes (`functions.log`:
JSON or console per LOG_FORMAT, on stderr), instead of gunicorn's bracketed text."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from functions.config import get_settings
from functions.log import adopt, configure_logging


class StructuredLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        settings = get_settings()
        configure_logging(settings.log_level, settings.log_format.value)
        adopt(self.error_log)
        adopt(self.access_log)
