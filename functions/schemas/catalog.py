"""Business catalog and interactive-reply bodies and answers (`openwa` SDK `CatalogInfo`, `CatalogProduct`,
`PaginatedProducts`, `SendProductRequest`, `ProductMessageResponse`, `ClickButtonRequest`). Upstream serves
these on its Baileys engine only; the webjs engine answers 501 ENGINE_NOT_SUPPORTED. Unknown fields are
refused (400)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from functions.schemas.messages import MAX_TEXT, ChatId, MessageId

_CHAT_EXAMPLE = "15550001111@c.us"


class CatalogInfoSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    productCount = fields.Integer()
    url = fields.String()


class CatalogProductsQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000), metadata={"example": 1})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100), metadata={"example": 20})


class CatalogProductSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    price = fields.Float()
    currency = fields.String()
    priceFormatted = fields.String()
    imageUrl = fields.String(allow_none=True)
    url = fields.String()
    isAvailable = fields.Boolean()
    retailerId = fields.String()


class ProductPaginationSchema(Schema):
    page = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    total = fields.Integer(required=True)
    totalPages = fields.Integer(required=True)


class PaginatedProductsSchema(Schema):
    products = fields.List(fields.Nested(CatalogProductSchema), required=True)
    pagination = fields.Nested(ProductPaginationSchema, required=True)


class SendProductSchema(Schema):
    chatId = ChatId(required=True, metadata={"example": _CHAT_EXAMPLE})
    productId = fields.String(
        required=True, validate=validate.Length(min=1, max=128), metadata={"example": "7316048991811133"}
    )
    body = fields.String(validate=validate.Length(max=MAX_TEXT), metadata={"example": "Back in stock"})


class ProductMessageSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The sent message's id"})
    timestamp = fields.Integer(required=True)


class ClickButtonSchema(Schema):
    chatId = ChatId(required=True, metadata={"example": _CHAT_EXAMPLE})
    messageId = MessageId(required=True, metadata={"example": "false_15550001111@c.us_3EB0C0FFEE0000000001"})
    buttonId = fields.String(
        required=True, validate=validate.Length(min=1, max=256), metadata={"example": "yes"}
    )
    text = fields.String(validate=validate.Length(max=MAX_TEXT), metadata={"example": "Yes"})


class ButtonReplySchema(Schema):
    messageId = fields.String(required=True)
    timestamp = fields.Integer(required=True)
