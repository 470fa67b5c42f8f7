"""`/api/storage/<key>`: serves objects of the local storage backend through signed, expiring URLs.

With S3 the URLs are presigned S3 URLs and this route answers 404. No API key: the signature is the
credential, so the URL can be handed to a webhook receiver or a browser.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from functions.api.openapi import Blueprint
from functions.api.wiring import services
from functions.core.errors import BlobNotFound
from functions.schemas.storage import SignedUrlQuerySchema
from functions.storage import LocalStorage

blp = Blueprint("storage", __name__, url_prefix="/api/storage", description="Signed media URLs")


@blp.route("/<path:key>")
class SignedObject(MethodView):
    @blp.arguments(SignedUrlQuerySchema(), location="query")
    @blp.response(200, content_type="application/octet-stream", description="The object's bytes")
    @blp.errors(400, 403, 404, auth=False)
    def get(self, query: dict[str, Any], key: str) -> Response:
        """Download an object by a signed URL (local storage backend only)."""
        storage = services().storage
        if not isinstance(storage, LocalStorage):
            raise BlobNotFound("Signed gateway URLs are not used with this storage backend")
        storage.verify_signed_request(key, query["expires"], query["signature"])
        info = storage.head(key)
        if info is None:
            raise BlobNotFound(details={"key": key})
        response = Response(storage.get(key), mimetype=info.content_type)
        response.headers["Cache-Control"] = "private, max-age=60"
        response.headers["Content-Disposition"] = "attachment"
        return response
