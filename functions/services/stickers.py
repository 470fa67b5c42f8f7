"""PNG and JPEG images as WhatsApp stickers: 512x512 WebP, aspect ratio kept, transparent padding (Pillow).

WhatsApp shows a sticker only as a 512x512 WebP; wa-js sends the bytes it is given (`sendFileMessage` with
`type: 'sticker'` only marks them `asSticker`), so an image must be converted before it is sent. Decoding is
bounded: the media guard caps the input bytes, and images over MAX_PIXELS are refused before they are decoded
(a small PNG can claim a huge canvas).
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from functions.services.transcode import Converted, MediaConversionFailed

SIZE = 512
WEBP = "image/webp"
CONVERTIBLE = frozenset({"image/png", "image/jpeg"})
MAX_PIXELS = 40_000_000


def to_sticker(data: bytes) -> Converted:
    """A 512x512 WebP of the image in `data`, scaled to fit and centred on transparency.
    MediaConversionFailed (422) when it cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise MediaConversionFailed(
                    "The image is too large to make a sticker of",
                    details={"width": image.width, "height": image.height, "maxPixels": MAX_PIXELS},
                )
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        reason = str(exc)[:300]
        raise MediaConversionFailed("The image could not be read", details={"reason": reason}) from exc
    picture.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)
    if picture.width < SIZE and picture.height < SIZE:  # small images grow to fill the sticker
        scale = SIZE / max(picture.width, picture.height)
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    canvas.paste(picture, ((SIZE - picture.width) // 2, (SIZE - picture.height) // 2))
    out = io.BytesIO()
    canvas.save(out, format="WEBP", quality=80, method=4)
    return Converted(out.getvalue(), WEBP)
