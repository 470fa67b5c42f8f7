"""A session's proxy: the `openwa` SDK's `UpdateSessionProxyRequest` and `SessionProxy` (masked). The URL's
shape is checked by `functions.core.proxy` (400 INVALID_PROXY_URL, saying what is wrong); unknown fields
are refused (400)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from functions.core.proxy import PROXY_SCHEMES


class UpdateSessionProxySchema(Schema):
    proxyUrl = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=2048),
        metadata={
            "description": "`<scheme>://[user:password@]host:port` (http, https, socks4, socks5; credentials "
            "only for http(s)); null clears it. Applies at the session's next start.",
            "example": "http://alice:s3cret@proxy.example.com:3128",
        },
    )


class SessionProxySchema(Schema):
    enabled = fields.Boolean(required=True)
    proxyType = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(PROXY_SCHEMES), metadata={"example": "http"}
    )
    proxyHost = fields.String(required=True, allow_none=True, metadata={"example": "proxy.example.com:3128"})
    hasCredentials = fields.Boolean(required=True)
    proxyUrl = fields.String(
        allow_none=True,
        metadata={
            "description": "The URL, its password masked",
            "example": "http://alice:****@proxy.example.com:3128",
        },
    )
    error = fields.String(metadata={"description": "Why a stored proxy cannot be used (set it again)"})
