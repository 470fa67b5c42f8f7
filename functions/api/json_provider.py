"""Flask's JSON provider on orjson: response bodies are most of a list route's CPU."""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    """Same behaviour as Flask's default (insertion order, UTF-8), serialised by orjson."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Non-string keys: marshmallow reports a list item's errors under its integer index.
        return orjson.dumps(obj, default=self.default, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)
