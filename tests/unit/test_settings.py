"""Settings: defaults, OpenWA names, and one clear line naming the variable when a value is bad."""

from __future__ import annotations

import base64
import os

import pytest

from functions.config import SettingsError, StorageType, load_settings, parse_encryption_keys


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    for name in list(os.environ):
        if name.startswith(("PORT", "REDIS", "STORAGE", "S3_", "ENCRYPTION", "API_", "LOG_", "TRUSTED")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_follow_openwa() -> None:
    settings = load_settings()
    assert settings.port == 2785
    assert settings.storage_type is StorageType.LOCAL
    assert settings.s3_bucket == "openwa"
    assert settings.api_key_file.name == ".api-key"


def test_environment_is_read_by_openwa_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("STORAGE_TYPE", "s3")
    monkeypatch.setenv("S3_ACCESS_KEY", "legacy-name")
    monkeypatch.setenv("S3_SECRET_KEY", "legacy-secret")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    settings = load_settings()
    assert settings.port == 9000
    assert settings.s3_access_key_id == "legacy-name"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_dotenv_file_is_read(tmp_path: os.PathLike[str]) -> None:
    with open(os.path.join(tmp_path, ".env"), "w") as handle:
        handle.write("MAX_SESSIONS=7\n")
    assert load_settings().max_sessions == 7


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("STORAGE_TYPE", "ftp"),
        ("ENGINE_TYPE", "baileys"),
        ("LOG_LEVEL", "loud"),
        ("REDIS_URL", "http://localhost"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,not-an-ip"),
        ("ENCRYPTION_KEY", "too-short"),
        ("API_MASTER_KEY", "short"),
        ("MAX_SESSIONS", "0"),
    ],
)
def test_bad_value_stops_boot_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"Invalid configuration: {variable}:")


def test_s3_credentials_must_come_in_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_TYPE", "s3")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "only-half")
    with pytest.raises(SettingsError, match="S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"):
        load_settings()


def test_encryption_keys_parse_with_ids_and_rotation_order() -> None:
    new, old = base64.b64encode(b"n" * 32).decode(), base64.b64encode(b"o" * 32).decode()
    assert parse_encryption_keys(new) == [("k1", b"n" * 32)]
    assert parse_encryption_keys(f"2026:{new},2025:{old}") == [("2026", b"n" * 32), ("2025", b"o" * 32)]
    with pytest.raises(ValueError, match="twice"):
        parse_encryption_keys(f"a:{new},a:{old}")
    with pytest.raises(ValueError, match="32 bytes"):
        parse_encryption_keys(base64.b64encode(b"x" * 16).decode())
