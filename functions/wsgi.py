"""Gunicorn entry point: `gunicorn functions.wsgi:app`. A bad setting stops boot with one line."""

from __future__ import annotations

import sys

from functions.api.app import create_app
from functions.config import SettingsError, get_settings

try:
    app = create_app(get_settings())
except SettingsError as exc:
    print(str(exc), file=sys.stderr)
    raise SystemExit(2) from None
