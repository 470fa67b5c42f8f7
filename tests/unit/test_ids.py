"""Request ids are ULIDs: the same text python-ulid produces for the same value, time-ordered."""

from __future__ import annotations

import time

from ulid import ULID

from functions.core.ids import encode_ulid, new_ulid


def test_encoding_matches_python_ulid_for_any_value() -> None:
    for value in (0, 1, 2**128 - 1, 2**127, int(ULID()), int(ULID()), 0x0123456789ABCDEF0123456789ABCDEF):
        assert encode_ulid(value) == str(ULID.from_int(value))


def test_a_new_ulid_parses_and_carries_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    minted = new_ulid()
    after = time.time_ns() // 1_000_000
    assert len(minted) == 26
    assert before <= ULID.from_str(minted).milliseconds <= after
    assert len({new_ulid() for _ in range(1000)}) == 1000
