"""Building blocks shared by request schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema


class StrictInteger(fields.Integer):
    """A JSON integer: `"3"`, `2.9` and `true` are refused, not coerced (bool is an int in Python)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class StrictBoolean(fields.Boolean):
    """A JSON boolean: `"yes"`, `0` and `"off"` are refused, not coerced (0 == False in Python)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class NonEmptyUpdateSchema(Schema):
    """An update body must change something: an empty or missing body is a 400, not a silent no-op."""

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError(f"Provide at least one of: {', '.join(sorted(self.fields))}")


def check_media_source(data: dict[str, Any]) -> None:
    """A media body's source: exactly one of `url` and `base64` (ValidationError otherwise). Shared by sends,
    bulk content and pictures. `mimetype` is optional even with base64 (upstream requires it): the type is
    sniffed from the bytes, and a declared one is used only when the bytes do not tell."""
    if ("url" in data) == ("base64" in data):
        raise ValidationError("Provide exactly one of url and base64", field_name="url")
