"""API key format, hashing and the scope checks on a key record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.core.clock import utcnow
from functions.core.enums import Role
from functions.core.models import ApiKey
from functions.services.api_keys import generate_key, hash_key


def make_key(**overrides: object) -> ApiKey:
    now = utcnow()
    values: dict[str, object] = {
        "id": "k",
        "name": "test",
        "key_hash": "h",
        "key_prefix": "owa_k1_00000",
        "role": Role.OPERATOR,
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    return ApiKey(**values)  # type: ignore[arg-type]


def test_generated_keys_have_openwa_format() -> None:
    key = generate_key()
    assert key.startswith("owa_k1_")
    assert len(key) == 71
    int(key[7:], 16)
    assert generate_key() != key


def test_hash_is_sha256_or_hmac_with_pepper() -> None:
    # Literal digests (hex SHA-256 of b"owa_k1_abc"; hex HMAC-SHA256 of it keyed with b"pepper"), so a
    # change of algorithm, encoding or key/message order breaks every stored key hash and this test.
    assert hash_key("owa_k1_abc", None) == "ede669a87eed44eb7735730e5d5ab6dfdc04042041c214a6fe32dcfd9a7c5650"
    assert hash_key("owa_k1_abc", "pepper") == (
        "242426ca142c6de8bdcd8d400f22df2d66e2be207d24f6ff670a8bc65205a9f3"
    )
    assert hash_key("owa_k1_abc", "other") != hash_key("owa_k1_abc", "pepper")
    assert hash_key("owa_k1_abc", "") == hash_key("owa_k1_abc", None)  # an empty pepper is no pepper


def test_roles_are_ranked() -> None:
    assert Role.VIEWER < Role.OPERATOR < Role.ADMIN
    assert Role.parse("admin") is Role.ADMIN


@pytest.mark.parametrize(
    ("allowed", "ip", "expected"),
    [
        (None, "203.0.113.9", True),
        (["10.0.0.0/8"], "10.2.3.4", True),
        (["10.0.0.0/8"], "11.2.3.4", False),
        (["192.0.2.7"], "192.0.2.7", True),
        (["2001:db8::/32"], "2001:db8::1", True),
        (["2001:db8::/32"], "2001:db9::1", False),
        (["10.0.0.0/8"], "not-an-ip", False),
        (["10.0.0.0/8"], None, False),
    ],
)
def test_allowed_ips_match_ipv4_and_ipv6_cidrs(
    allowed: list[str] | None, ip: str | None, expected: bool
) -> None:
    assert make_key(allowed_ips=allowed).allows_ip(ip) is expected


def test_expiry_and_revocation_make_a_key_unusable() -> None:
    now = utcnow()
    assert make_key().is_usable(now)
    assert not make_key(expires_at=now - timedelta(seconds=1)).is_usable(now)
    assert make_key(expires_at=now + timedelta(hours=1)).is_usable(now)
    assert not make_key(is_active=False).is_usable(now)


def test_session_scope() -> None:
    scoped = make_key(allowed_sessions=["a"])
    assert scoped.is_scoped()
    assert scoped.allows_session("a")
    assert not scoped.allows_session("b")
    assert make_key().allows_session("anything")
