"""Bulk batch rules: when each message is due, `{{variables}}`, and progress derived from the messages."""

from __future__ import annotations

import itertools
from typing import Any

from functions.core.batches import BATCH_CANCELLED, send_offsets, substitute, summarize


def test_messages_are_due_one_delay_apart_from_an_immediate_first() -> None:
    assert send_offsets(4, 1000, False, lambda: 0.9) == [0.0, 1.0, 2.0, 3.0]


def test_a_randomized_delay_adds_up_to_two_seconds_each_time() -> None:
    offsets = send_offsets(3, 3000, True, lambda: 0.5)
    assert offsets == [0.0, 4.0, 8.0]
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    assert all(3.0 <= gap <= 5.0 for gap in gaps)


def test_variables_fill_every_text_but_never_a_base64_payload() -> None:
    content = {
        "text": "Hi {{name}}, order {{ order }} {{unknown}}",
        "image": {"base64": "{{name}}", "url": "x"},
    }
    filled = substitute(content, {"name": "Bob", "order": "42"})
    assert filled == {"text": "Hi Bob, order 42 {{unknown}}", "image": {"base64": "{{name}}", "url": "x"}}


def _batch(**fields: Any) -> dict[str, Any]:
    return {
        "batchId": "b1",
        "status": "pending",
        "chatIds": ["1@c.us", "2@c.us", "3@c.us"],
        "messageIds": ["m1", "m2", "m3"],
        "startedAt": "2026-01-01T00:00:00.000Z",
        "completedAt": None,
        **fields,
    }


def test_progress_and_status_come_from_the_message_records() -> None:
    records: list[dict[str, Any] | None] = [
        {"status": "read", "sentAt": "2026-01-01T00:00:01.000Z", "updatedAt": "2026-01-01T00:00:01.000Z"},
        {
            "status": "failed",
            "error": {"code": "SEND_FAILED", "message": "no"},
            "updatedAt": "2026-01-01T00:00:02.000Z",
        },
        {"status": "pending"},
    ]
    running = summarize(_batch(), records)
    assert running["status"] == "processing"
    assert running["progress"] == {"total": 3, "pending": 1, "sent": 1, "failed": 1, "cancelled": 0}
    assert running["results"][0] == {
        "chatId": "1@c.us",
        "status": "sent",
        "messageId": "m1",
        "sentAt": "2026-01-01T00:00:01.000Z",
    }
    assert running["results"][1]["error"] == {"code": "SEND_FAILED", "message": "no"}
    assert running["completedAt"] is None

    records[2] = {"status": "sent", "updatedAt": "2026-01-01T00:00:09.000Z"}
    done = summarize(_batch(), records)
    assert (done["status"], done["completedAt"]) == ("completed", "2026-01-01T00:00:09.000Z")


def test_a_batch_that_sent_nothing_but_failed_is_failed_and_a_cancelled_one_says_so() -> None:
    failed = {"status": "failed", "error": {"code": "SEND_FAILED", "message": "no"}}
    assert summarize(_batch(), [failed, failed, failed])["status"] == "failed"
    cancelled = {"status": "failed", "error": {"code": BATCH_CANCELLED, "message": "cancelled"}}
    summary = summarize(
        _batch(status="cancelled", completedAt="c"), [{"status": "sent"}, cancelled, cancelled]
    )
    assert (summary["status"], summary["completedAt"]) == ("cancelled", "c")
    assert summary["progress"] == {"total": 3, "pending": 0, "sent": 1, "failed": 0, "cancelled": 2}


def test_an_expired_record_counts_as_failed() -> None:
    summary = summarize(_batch(), [None, {"status": "sent"}, {"status": "sent"}])
    assert summary["results"][0]["error"]["code"] == "MESSAGE_EXPIRED"
    assert summary["progress"]["failed"] == 1
