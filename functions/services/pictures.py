"""Pictures given to the API (a profile picture, a group icon) as the `data:` URL engines take.

A picture comes as an image `url` or as `base64` (+ `mimetype`), through the same media guard as sends:
size cap, SSRF guard on the download, type sniffing. Anything but an image is 400 INVALID_MEDIA.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from functions.services import media as media_files


def image_data_url(source: Mapping[str, Any], limits: media_files.MediaLimits, what: str) -> str:
    """`data:<image type>;base64,...` of the picture in `source` (`url` or `base64`); InvalidMedia (400)
    when it is not an image (`what` names it in the message), MediaTooLarge (413), SsrfBlocked..."""
    return typed_data_url(source, limits, "image", what)


def typed_data_url(source: Mapping[str, Any], limits: media_files.MediaLimits, major: str, what: str) -> str:
    """`data:<type>;base64,...` of the media in `source` (`url` or `base64`), whose sniffed type must be
    `major`/* (image, video, audio): InvalidMedia (400) otherwise, `what` naming it in the message."""
    if source.get("base64") is not None:
        file = media_files.from_base64(source["base64"], source.get("mimetype"), None, limits)
    else:
        file = media_files.from_url(source["url"], source.get("mimetype"), None, limits)
    if not file.mimetype.startswith(f"{major}/"):
        article = "an" if major[0] in "aeiou" else "a"
        raise media_files.InvalidMedia(
            f"{what} must be {article} {major}, not {file.mimetype}", details={"mimetype": file.mimetype}
        )
    return f"data:{file.mimetype};base64,{base64.b64encode(file.data).decode()}"
