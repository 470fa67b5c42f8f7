"""ffmpeg conversions into what WhatsApp plays: Ogg/Opus voice notes and H.264/AAC MP4 video.

The binary is FFMPEG_PATH, else the static build PyPI `imageio-ffmpeg` ships (no system package needed).
Conversion runs only when MEDIA_CONVERSION_ENABLED (off by default, as upstream), at most
MEDIA_CONVERSION_CONCURRENCY at once per process (`conversion_slots`). Each run is a child process in a
private temporary directory with hard limits: killed after MEDIA_CONVERSION_TIMEOUT_MS, its output stopped
at MEDIA_CONVERSION_MAX_OUTPUT_BYTES (`-fs`) and refused past it, its input already capped by the media
guard (MEDIA_DOWNLOAD_MAX_BYTES). Anything ffmpeg cannot turn into the target is MediaConversionFailed
(422 MEDIA_CONVERSION_FAILED).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from functions.config import Settings
from functions.core.errors import DomainError, ServiceUnavailable

OGG_OPUS = "audio/ogg; codecs=opus"
MP4 = "video/mp4"
# Speech-tuned mono Opus, as WhatsApp's own voice notes (48 kHz, VoIP mode).
_VOICE_ARGS = (
    *("-map", "0:a:0", "-vn", "-map_metadata", "-1", "-ac", "1", "-ar", "48000"),
    *("-c:a", "libopus", "-b:a", "32k", "-application", "voip", "-f", "ogg"),
)
# Baseline H.264 + AAC inside 1280x720 (720x1280 portrait), even sizes, index first for instant playback.
_FIT = (
    "scale=w='if(gte(iw,ih),min(1280,iw),min(720,iw))':h='if(gte(iw,ih),min(720,ih),min(1280,ih))'"
    ":force_original_aspect_ratio=decrease:force_divisible_by=2"
)
_VIDEO_ARGS = (
    *("-map", "0:v:0", "-map", "0:a:0?", "-map_metadata", "-1", "-vf", _FIT),
    *("-c:v", "libx264", "-profile:v", "baseline", "-level", "3.1", "-pix_fmt", "yuv420p"),
    *("-preset", "veryfast"),
    *("-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", "-f", "mp4"),
)


class MediaConversionFailed(DomainError):
    status, code, default_message = 422, "MEDIA_CONVERSION_FAILED", "The media could not be converted"


class MediaConversionBusy(ServiceUnavailable):
    code = "MEDIA_CONVERSION_BUSY"
    default_message = "Every media conversion slot stayed busy; try again"


class MediaConversionUnavailable(ServiceUnavailable):
    code = "MEDIA_CONVERSION_UNAVAILABLE"
    default_message = "Media conversion is not available here (MEDIA_CONVERSION_ENABLED, ffmpeg)"


@dataclass(frozen=True)
class Converted:
    data: bytes
    mimetype: str


def _bundled_ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg  # imported here: only conversions pay for it

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return None


@lru_cache(maxsize=8)
def conversion_slots(count: int) -> threading.BoundedSemaphore:
    """The process's conversion slots (MEDIA_CONVERSION_CONCURRENCY; a greenlet semaphore under gevent)."""
    return threading.BoundedSemaphore(count)


@lru_cache(maxsize=8)
def _runs(path: str) -> bool:
    """Whether `path` is an ffmpeg this process can run (asked once per path)."""
    try:
        argv = [path, "-hide_banner", "-version"]
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.startswith(b"ffmpeg")


class Transcoder:
    """ffmpeg as the settings configure it."""

    def __init__(self, settings: Settings) -> None:
        self._enabled = settings.media_conversion_enabled
        self._path = settings.ffmpeg_path
        self._timeout = settings.media_conversion_timeout_ms / 1000
        self._max_output = settings.media_conversion_max_output_bytes
        self._concurrency = settings.media_conversion_concurrency

    def binary(self) -> str | None:
        """The ffmpeg to run, or None when conversion is off or no runnable ffmpeg is found."""
        if not self._enabled:
            return None
        path = self._path or _bundled_ffmpeg()
        return path if path and _runs(path) else None

    def available(self) -> bool:
        return self.binary() is not None

    def voice(self, data: bytes) -> Converted:
        """Audio as an Ogg/Opus voice note. MediaConversionUnavailable, MediaConversionFailed."""
        return Converted(self._run(data, _VOICE_ARGS, "voice.ogg"), OGG_OPUS)

    def video(self, data: bytes) -> Converted:
        """Video as an MP4 every WhatsApp client plays. MediaConversionUnavailable, MediaConversionFailed."""
        return Converted(self._run(data, _VIDEO_ARGS, "video.mp4"), MP4)

    def _run(self, data: bytes, args: tuple[str, ...], out_name: str) -> bytes:
        binary = self.binary()
        if binary is None:
            raise MediaConversionUnavailable()
        slots = conversion_slots(self._concurrency)
        if not slots.acquire(timeout=self._timeout):
            raise MediaConversionBusy(details={"concurrency": self._concurrency})
        try:
            return self._convert(binary, data, args, out_name)
        finally:
            slots.release()

    def _convert(self, binary: str, data: bytes, args: tuple[str, ...], out_name: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="openwa-convert-") as scratch:
            source, target = Path(scratch) / "input", Path(scratch) / out_name
            source.write_bytes(data)
            argv = [binary, "-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "2", "-y"]
            argv += ["-i", str(source), *args, "-fs", str(self._max_output + 1), str(target)]
            try:
                done = subprocess.run(
                    argv, capture_output=True, timeout=self._timeout, check=False, cwd=scratch
                )
            except subprocess.TimeoutExpired as exc:
                raise MediaConversionFailed(
                    "The conversion took too long", details={"timeoutMs": int(self._timeout * 1000)}
                ) from exc
            if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
                raise MediaConversionFailed(details={"reason": _reason(done.stderr, scratch)})
            if target.stat().st_size > self._max_output:
                raise MediaConversionFailed(
                    "The converted media is larger than allowed", details={"maxBytes": self._max_output}
                )
            return target.read_bytes()


def _reason(stderr: bytes, scratch: str) -> str:
    """ffmpeg's last error line, without the scratch directory (it says nothing to the client)."""
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    last = lines[-1] if lines else "ffmpeg could not read the input"
    return last.replace(scratch + os.sep, "")[:300]


def is_ogg_opus(data: bytes) -> bool:
    """Whether `data` is an Ogg stream whose first logical stream is Opus (`OggS` page, `OpusHead`)."""
    return data[:4] == b"OggS" and b"OpusHead" in data[:128]
