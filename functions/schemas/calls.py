"""Call bodies and answers (`openwa` SDK `CreateCallLinkRequest`, `CallLinkResponse`, `SuccessResult`).
Unknown fields are refused (400)."""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, fields, validate

from functions.core.calls import CALL_LINK_TYPES


class StrictNumber(fields.Float):
    """A JSON number: `"3"`, `true` and non-finite values are refused, not coerced."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.make_error("invalid")
        return float(value)


class CreateCallLinkSchema(Schema):
    type = fields.String(
        required=True, validate=validate.OneOf(CALL_LINK_TYPES), metadata={"example": "video"}
    )
    startTime = StrictNumber(
        required=True,
        validate=validate.Range(min=0, max=4_102_444_800_000),  # epoch ms, before 2100
        metadata={"description": "Epoch milliseconds (now for a call right away)", "example": 1767225600000},
    )


class CallLinkSchema(Schema):
    link = fields.String(required=True)


class RejectCallAnswerSchema(Schema):
    success = fields.Boolean(required=True)
    message = fields.String()
