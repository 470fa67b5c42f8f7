"""Media made on the spot for conversion tests: a tone as MP3, a short clip as MPEG-4 Part 2 in AVI, PNG
images, and the container checks a converted file must pass. Generated with the ffmpeg of PyPI
`imageio-ffmpeg` (`-f lavfi`) and Pillow; nothing is downloaded."""

from __future__ import annotations

import io
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import imageio_ffmpeg
from PIL import Image


def _ffmpeg(*args: str, suffix: str) -> bytes:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / f"out{suffix}"
        argv = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", *args]
        subprocess.run([*argv, str(out)], check=True, timeout=60)
        return out.read_bytes()


@cache
def mp3_tone(seconds: float = 1.0) -> bytes:
    """A 440 Hz sine as MP3."""
    return _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-f", "mp3", suffix=".mp3")


@cache
def avi_clip(seconds: float = 1.0) -> bytes:
    """Test pattern (640x360, MPEG-4 Part 2) with a tone, in AVI: nothing WhatsApp plays."""
    return _ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc=size=640x360:rate=10:duration={seconds}"),
        *("-f", "lavfi", "-i", f"sine=duration={seconds}", "-shortest", "-c:v", "mpeg4", "-c:a", "mp3"),
        suffix=".avi",
    )


def png(width: int, height: int, colour: tuple[int, int, int, int] = (200, 30, 30, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def is_ogg_opus(data: bytes) -> bool:
    """An Ogg container (`OggS` page) whose stream is Opus (`OpusHead`)."""
    return data[:4] == b"OggS" and b"OpusHead" in data[:128]


def webp_size(data: bytes) -> tuple[int, int] | None:
    """The size of a WebP (`RIFF....WEBP`), else None."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def mp4_streams(data: bytes) -> str:
    """ffmpeg's description of an MP4's streams (its stderr when reading it), for codec checks."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(data)
        file.flush()
        done = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", file.name],
            capture_output=True,
            timeout=30,
            check=False,
        )
    return done.stderr.decode(errors="replace")


@cache
def ogg_opus_tone(seconds: float = 1.0) -> bytes:
    """A 440 Hz sine as Ogg/Opus: what WhatsApp plays as a voice note."""
    return _ffmpeg(
        *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "libopus", "-f", "ogg"),
        suffix=".ogg",
    )


@cache
def mp4_clip(seconds: float = 1.0, container: str = "mp4") -> bytes:
    """Test pattern (320x240, H.264) with an AAC tone, in MP4 (or `container`: `mov` for QuickTime)."""
    return _ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc=size=320x240:rate=10:duration={seconds}"),
        *("-f", "lavfi", "-i", f"sine=duration={seconds}", "-shortest"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", container),
        suffix=f".{container}",
    )


def webp(width: int, height: int, colour: tuple[int, int, int, int] = (30, 160, 90, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, format="WEBP")
    return out.getvalue()
