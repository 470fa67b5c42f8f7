"""`GET /api/search`: the query and upstream OpenWA's `SearchResults` (`openwa` SDK `SearchQueryParams`,
`SearchHit`, `SearchResults`)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from functions.core.search_text import MAX_QUERY_WORDS, tokens
from functions.schemas.messages import ChatId

# OpenWA's SEARCH_LIMIT_MAX.
MAX_LIMIT = 100
# Hits skipped at most: every session answers its `offset + limit` newest, so the work grows with it.
MAX_OFFSET = 10_000
MAX_QUERY_CHARS = 256
# The `messages.type` values upstream stores (`reference/openwa.md` §3.2).
MESSAGE_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "voice",
    "document",
    "sticker",
    "location",
    "contact",
    "poll",
    "call",
    "revoked",
    "masked",
    "unknown",
)
DIRECTIONS = ("incoming", "outgoing")
_CHAT_EXAMPLE = "15550001111@c.us"
# Epoch ms up to year 9999: a score Redis keeps exactly.
_EPOCH_MS = validate.Range(min=0, max=253_402_300_799_999)


class SearchQuerySchema(Schema):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_QUERY_CHARS),
        metadata={
            "description": "Words to find, each as a word prefix, case- and accent-insensitive "
            f"(`caf` finds `Café`); every word must match; at most {MAX_QUERY_WORDS} words",
            "example": "caf order",
        },
    )
    chatId = ChatId(metadata={"example": _CHAT_EXAMPLE})
    direction = fields.String(validate=validate.OneOf(DIRECTIONS), metadata={"example": "incoming"})
    type = fields.String(validate=validate.OneOf(MESSAGE_TYPES), metadata={"example": "text"})
    from_ = ChatId(data_key="from", metadata={"description": "The sender", "example": _CHAT_EXAMPLE})
    dateFrom = fields.Integer(
        validate=_EPOCH_MS,
        metadata={"description": "Messages at or after this time (epoch ms)", "example": 1_700_000_000_000},
    )
    dateTo = fields.Integer(
        validate=_EPOCH_MS,
        metadata={"description": "Messages at or before this time (epoch ms)", "example": 1_800_000_000_000},
    )
    sessionId = fields.String(
        validate=validate.Length(1, 100),
        metadata={
            "description": "Only this session's messages (an extension; a session outside the key's scope "
            "has no hits)",
            "example": "0b8e3f4c-2a1d-4c5e-9f7a-6b3d2e1c0a9f",
        },
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_OFFSET))

    @validates("q")
    def _has_words(self, value: str, **_: Any) -> None:
        found = tokens(value)
        if not found:
            raise ValidationError("must contain a word (letters or digits)")
        if len(found) > MAX_QUERY_WORDS:
            raise ValidationError(f"must contain at most {MAX_QUERY_WORDS} words")

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        low, high = data.get("dateFrom"), data.get("dateTo")
        if low is not None and high is not None and low > high:
            raise ValidationError("must not be after `dateTo`", field_name="dateFrom")


class SearchHitSchema(Schema):
    messageId = fields.String(required=True, metadata={"description": "The message record's id"})
    waMessageId = fields.String(required=True, metadata={"description": "WhatsApp's key ('' when none)"})
    sessionId = fields.String(required=True)
    chatId = fields.String(required=True, metadata={"example": _CHAT_EXAMPLE})
    body = fields.String(required=True, metadata={"description": "The text, or a media message's caption"})
    snippet = fields.String(
        required=True, metadata={"description": "About 120 characters of `body` around the first match"}
    )
    timestamp = fields.Integer(required=True, metadata={"description": "Epoch seconds"})
    type = fields.String(required=True, metadata={"example": "text"})
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    from_ = fields.String(
        data_key="from", attribute="from", required=True, metadata={"example": _CHAT_EXAMPLE}
    )


class SearchResultsSchema(Schema):
    hits = fields.List(
        fields.Nested(SearchHitSchema), required=True, metadata={"description": "Newest first"}
    )
    total = fields.Integer(
        required=True,
        metadata={
            "description": "Matching messages, counted exactly up to 1000 (a bounded count, as "
            "upstream's): 1000 means at least 1000"
        },
    )
    tookMs = fields.Integer(required=True)
    provider = fields.String(required=True, metadata={"example": "builtin-redis"})
