"""The one settings object, read once from the environment (and `.env`), validated at boot.

Names follow upstream OpenWA where it has one (`reference/openwa.md` §6); `REDIS_URL` is ours.
`load_settings()` turns any validation failure into `SettingsError`, whose message is one line naming
the variable, so `openwa` and gunicorn can stop with that line instead of a traceback.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or malformed; `str(error)` is one line naming the variable."""


class StorageType(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class LogFormat(StrEnum):
    JSON = "json"
    PRETTY = "pretty"


class EngineType(StrEnum):
    WEBJS = "webjs"
    SANDBOX = "sandbox"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every environment variable the gateway reads. Field names are the variable names, lowercased."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Core
    port: int = Field(2785, ge=1, le=65535)
    bind_host: str = "127.0.0.1"
    base_url: str | None = None
    data_dir: Path = Path("data")
    log_level: str = "info"
    log_format: LogFormat = LogFormat.JSON
    access_log: bool = True
    enable_swagger: bool = True
    cors_origins: CsvList = Field(default_factory=list)
    trusted_proxies: CsvList = Field(default_factory=list)
    body_size_limit: int = Field(25 * 1024 * 1024, ge=1024)

    # Auth
    api_master_key: str | None = None
    api_key_pepper: str | None = None
    bootstrap_key_file: Path | None = None
    # Bearer token for GET /api/metrics; unset, that route takes an unscoped admin API key instead.
    metrics_token: str | None = None

    # Redis
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = Field("openwa", pattern=r"^[A-Za-z0-9_.-]{1,32}$")

    # Storage
    storage_type: StorageType = StorageType.LOCAL
    storage_local_path: Path | None = None
    # Storage calls fail at once for STORAGE_BREAKER_RESET_SECONDS after this many consecutive outages.
    storage_breaker_failures: int = Field(3, ge=1, le=1000)
    storage_breaker_reset_seconds: float = Field(15.0, gt=0, le=3600)
    s3_endpoint: str | None = None
    s3_bucket: str = Field("openwa", min_length=3, max_length=63)
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = Field(
        None, validation_alias=AliasChoices("s3_access_key_id", "s3_access_key")
    )
    s3_secret_access_key: str | None = Field(
        None, validation_alias=AliasChoices("s3_secret_access_key", "s3_secret_key")
    )
    signed_url_ttl_seconds: int = Field(3600, ge=1, le=7 * 24 * 3600)

    # Encryption at rest: base64 of 32 bytes, or `kid:base64,kid:base64` (the first encrypts, all decrypt).
    encryption_key: str | None = None

    # Engine and runners
    engine_type: EngineType = EngineType.WEBJS
    max_sessions: int = Field(10, ge=1, le=1000)
    # Sessions that may exist at once, across the deployment (409 SESSION_LIMIT_REACHED past it).
    max_sessions_total: int = Field(100, ge=1, le=100_000)
    runner_command_timeout_seconds: float = Field(30.0, gt=0, le=600)
    runner_id: str | None = None
    # CPU priority (nice) of a runner and everything it starts (session processes, Chromium). `openwa up`
    # sets 19: on one machine, requests to the API go before sending the backlog.
    runner_nice: int = Field(0, ge=0, le=19)
    session_lease_ttl: float = Field(10.0, ge=2, le=600)
    auth_snapshot_interval: float = Field(60.0, ge=5, le=86_400)
    session_init_timeout: float = Field(60.0, ge=5, le=600)
    # Text sent to a caller whose call a session rejected by its `autoRejectCalls` config ("" sends nothing).
    auto_reject_calls_message: str = Field("", max_length=4096)
    headless: bool = True
    chromium_path: str | None = None
    whatsapp_web_url: str = "https://web.whatsapp.com/"
    # The recorded WhatsApp Web page the engine serves (runner/engines/webjs/versions.py): "" the newest in
    # the installed @wppconnect/wa-version, a version such as 2.3000.1048032155-alpha, or "none".
    whatsapp_web_version: str = ""
    sandbox_url: str = "http://127.0.0.1:2786/"

    # Rate limits (per client IP and per API key), flask-limiter syntax, e.g. "100/minute;10/second".
    rate_limit_ip: str = "20/second;600/minute"
    rate_limit_key: str = "50/second;3000/minute"
    rate_limit_enabled: bool = True

    # Retention
    audit_retention_days: int = Field(90, ge=1, le=3650)
    audit_max_entries: int = Field(100_000, ge=100)

    # Webhooks and events (`reference/openwa.md` §4; WEBHOOK_TIMEOUT is in ms, as upstream)
    webhook_max_per_session: int = Field(16, ge=1, le=1000)
    webhook_timeout: int = Field(10_000, ge=100, le=120_000)
    webhook_retry_schedule: CsvList = Field(default_factory=lambda: ["5", "30", "120", "600"])
    webhook_retry_jitter: float = Field(0.2, ge=0, le=1)
    webhook_retry_after_max_seconds: int = Field(3600, ge=1, le=86_400)
    webhook_max_payload_bytes: int = Field(1024 * 1024, ge=1024, le=16 * 1024 * 1024)
    webhook_failure_retention_days: int = Field(7, ge=1, le=365)
    webhook_delivery_retention_hours: int = Field(24, ge=1, le=24 * 30)
    webhook_ssrf_protect: bool = True
    ssrf_allowed_hosts: CsvList = Field(default_factory=list)
    # `name=address` pairs answered instead of DNS by the SSRF guard (which still checks the address).
    ssrf_host_overrides: CsvList = Field(default_factory=list)
    webhook_sweep_interval_seconds: float = Field(5.0, gt=0, le=300)
    webhook_reconcile_grace_seconds: float = Field(30.0, ge=0, le=3600)
    event_stream_maxlen: int = Field(10_000, ge=100, le=10_000_000)
    sse_keepalive_seconds: float = Field(15.0, gt=0, le=300)
    sse_max_seconds: float = Field(300.0, gt=0, le=86_400)
    # Event streams open at once, across every API process, and per API key (429 TOO_MANY_STREAMS past them).
    sse_max_streams: int = Field(1000, ge=1, le=100_000)
    sse_max_streams_per_key: int = Field(20, ge=1, le=100_000)
    # Redis connections one process may open (a request in flight may hold one; Redis allows 10,000 clients).
    redis_max_connections: int = Field(2000, ge=10, le=100_000)

    # Messages and media (MEDIA_DOWNLOAD_TIMEOUT_MS in ms, as upstream)
    # Sends held for a session that is not ready (`"queue": true`) at most; past it, 429 TOO_MANY_HELD_SENDS.
    max_held_sends_per_session: int = Field(1000, ge=1, le=1_000_000)
    message_retention_days: int = Field(30, ge=1, le=3650)
    idempotency_ttl_hours: int = Field(24, ge=1, le=24 * 30)
    media_download_max_bytes: int = Field(50 * 1024 * 1024, ge=1024, le=2 * 1024 * 1024 * 1024)
    media_download_timeout_ms: int = Field(30_000, ge=100, le=600_000)
    inbound_media_max_bytes: int = Field(50 * 1024 * 1024, ge=1024, le=2 * 1024 * 1024 * 1024)
    # ffmpeg media conversion (upstream's MEDIA_CONVERSION_*; off by default, as upstream): the convert routes
    # and turning a non-Opus voice note into Ogg/Opus. FFMPEG_PATH overrides the binary of PyPI
    # `imageio-ffmpeg`. One conversion is killed past the timeout; output past the cap is refused (422).
    media_conversion_enabled: bool = False
    ffmpeg_path: str | None = None
    media_conversion_timeout_ms: int = Field(60_000, ge=100, le=600_000)
    media_conversion_max_output_bytes: int = Field(50 * 1024 * 1024, ge=1024, le=2 * 1024 * 1024 * 1024)
    # ffmpeg runs at once per API (or worker) process; a conversion waits for a free one up to the timeout.
    media_conversion_concurrency: int = Field(2, ge=1, le=64)
    # Auto-reply rules per session at most (upstream's AUTOMATION_MAX_PER_SESSION).
    automation_max_per_session: int = Field(32, ge=1, le=1000)

    # Send pacing (OpenWA's SEND_PACING_*, off by default; `functions.core.pacing` has the rules). Schedules
    # are daily caps by account age in days (the last entry repeats); an empty cold cap turns that rule off.
    send_pacing_enabled: bool = False
    send_pacing_warmup_schedule: CsvList = Field(
        default_factory=lambda: ["20", "40", "80", "160", "320", "640", "1000"]
    )
    send_pacing_cold_daily_cap: CsvList = Field(
        default_factory=lambda: ["5", "10", "20", "40", "60", "80", "100"]
    )
    send_pacing_breaker_threshold: int = Field(5, ge=1, le=1000)
    send_pacing_breaker_cooldown_ms: int = Field(15 * 60_000, ge=1000, le=7 * 86_400_000)
    # Typing simulation before text sends (applied only while SEND_PACING_ENABLED), at most this long.
    simulate_typing: bool = True
    simulate_typing_max_ms: int = Field(5000, ge=0, le=30_000)

    @field_validator(
        "cors_origins",
        "trusted_proxies",
        "webhook_retry_schedule",
        "ssrf_allowed_hosts",
        "ssrf_host_overrides",
        "send_pacing_warmup_schedule",
        "send_pacing_cold_daily_cap",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("send_pacing_warmup_schedule", "send_pacing_cold_daily_cap")
    @classmethod
    def _pacing_schedule(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value and info.field_name == "send_pacing_warmup_schedule":
            raise ValueError("needs at least one daily cap")
        for item in value:
            if not item.isdigit() or not 1 <= int(item) <= 100_000:
                raise ValueError("each daily cap must be a whole number from 1 to 100000")
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _retry_schedule(cls, value: list[str]) -> list[str]:
        for item in value:
            if not 0 <= float(item) <= 7 * 86_400:
                raise ValueError("each delay must be 0-604800 seconds")
        return value

    @property
    def webhook_retry_delays(self) -> list[float]:
        """Seconds to wait before attempts 2, 3, ...; the last delay repeats if there are more attempts."""
        return [float(item) for item in self.webhook_retry_schedule] or [5.0]

    @field_validator("ssrf_host_overrides")
    @classmethod
    def _host_overrides(cls, value: list[str]) -> list[str]:
        for item in value:
            name, _, address = item.partition("=")
            if not name.strip() or not address.strip():
                raise ValueError("each entry must be name=address")
            ipaddress.ip_address(address.strip())
        return value

    @property
    def ssrf_host_map(self) -> dict[str, str]:
        """SSRF_HOST_OVERRIDES as the guard's lookup table: lowercase name to IP address."""
        pairs = (item.partition("=") for item in self.ssrf_host_overrides)
        return {name.strip().lower(): address.strip() for name, _, address in pairs}

    @field_validator("runner_id", "chromium_path", "ffmpeg_path", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("runner_id")
    @classmethod
    def _runner_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value):
            raise ValueError("must be 1-64 letters, digits, _ . : or -")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().lower()
        if level not in {"debug", "info", "warning", "warn", "error", "critical"}:
            raise ValueError("must be one of debug, info, warning, error, critical")
        return "warning" if level == "warn" else level

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("api_master_key")
    @classmethod
    def _master_key(cls, value: str | None) -> str | None:
        if value is not None and len(value.strip()) < 16:
            raise ValueError("must be at least 16 characters")
        return value.strip() if value else None

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str | None) -> str | None:
        token = (value or "").strip()
        if token and (len(token) < 16 or not token.isprintable() or " " in token):
            raise ValueError("must be at least 16 printable characters without spaces")
        return token or None

    @field_validator("encryption_key")
    @classmethod
    def _encryption_key(cls, value: str | None) -> str | None:
        if value:
            parse_encryption_keys(value)
        return value or None

    @model_validator(mode="after")
    def _s3_needs_bucket_credentials(self) -> Settings:
        if self.storage_type is StorageType.S3 and bool(self.s3_access_key_id) != bool(
            self.s3_secret_access_key
        ):
            raise ValueError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together")
        return self

    @property
    def local_storage_root(self) -> Path:
        return self.storage_local_path or self.data_dir / "storage"

    @property
    def api_key_file(self) -> Path:
        return self.bootstrap_key_file or self.data_dir / ".api-key"


def parse_encryption_keys(value: str) -> list[tuple[str, bytes]]:
    """Parse ENCRYPTION_KEY into `[(key_id, 32-byte key), ...]`; the first entry is the active key.

    Accepts a bare base64 key (key id `k1`) or a comma list of `kid:base64`. Raises ValueError.
    """
    keys: list[tuple[str, bytes]] = []
    for index, item in enumerate(part.strip() for part in value.split(",") if part.strip()):
        kid, _, encoded = item.rpartition(":") if ":" in item else ("", "", item)
        kid = kid or f"k{index + 1}"
        if not kid.isascii() or not kid.replace("-", "").replace("_", "").isalnum() or len(kid) > 16:
            raise ValueError(f"key id {kid!r} must be 1-16 letters, digits, - or _")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"key {kid!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"key {kid!r} must decode to 32 bytes (got {len(key)})")
        if any(existing == kid for existing, _ in keys):
            raise ValueError(f"key id {kid!r} appears twice")
        keys.append((kid, key))
    if not keys:
        raise ValueError("no key given")
    return keys


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if not str(part).isdigit()]
    variable = location[0].upper() if location else "settings"
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    return f"Invalid configuration: {variable}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the environment; raise SettingsError with one line naming the bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()


def environment_snapshot(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, for passing to child processes unchanged."""
    env = dict(os.environ)
    env["PORT"] = str(settings.port)
    env["REDIS_URL"] = settings.redis_url
    env["DATA_DIR"] = str(settings.data_dir)
    return env
