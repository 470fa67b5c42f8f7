"""Bulk batches (OpenWA's `send-bulk`): pure rules for their schedule, variables and progress.

A batch is stored once (`functions.state.batches`) with the ids of its messages, which are ordinary message
records (`batchId` set) created up front; each send is an RQ job due at its own time. A batch's progress is
therefore never counted separately: it is derived from its messages' statuses. Only what no message can
say is stored with the batch: that it was cancelled, or stopped by its first failure (`stopOnError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

MAX_MESSAGES = 100
DEFAULT_DELAY_MS = 3000
JITTER_MAX_MS = 2000  # OpenWA's randomizeDelay: 0-2 s more before each message
BATCH_CANCELLED = "BATCH_CANCELLED"  # error code of a message its batch's cancel stopped
BATCH_STOPPED = "BATCH_STOPPED"  # ... and of one a failure stopped (`stopOnError`)
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


class BatchStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED})


def send_offsets(count: int, delay_ms: int, randomize: bool, rand: Callable[[], float]) -> list[float]:
    """Seconds from the start at which each message is due: the first at once, each next one
    `delay_ms` (plus 0-2 s with `randomize`) after the one before."""
    offsets, at = [], 0.0
    for index in range(count):
        if index:
            at += (delay_ms + (rand() * JITTER_MAX_MS if randomize else 0)) / 1000
        offsets.append(at)
    return offsets


def substitute(value: Any, variables: Mapping[str, str]) -> Any:
    """`{{name}}` replaced by `variables[name]` in every string of `value` (base64 payloads excepted);
    unknown names stay as written."""
    if not variables:
        return value
    if isinstance(value, str):
        return _VARIABLE.sub(lambda match: variables.get(match.group(1), match.group(0)), value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {k: v if k == "base64" else substitute(v, variables) for k, v in value.items()}
    return value


def item_status(record: Mapping[str, Any] | None) -> ItemStatus:
    """A message's place in its batch; a record gone (past retention) counts as failed."""
    if record is None:
        return ItemStatus.FAILED
    status = record.get("status")
    if status == "pending":
        return ItemStatus.PENDING
    if status == "failed":
        code = (record.get("error") or {}).get("code")
        return ItemStatus.CANCELLED if code in (BATCH_CANCELLED, BATCH_STOPPED) else ItemStatus.FAILED
    return ItemStatus.SENT


def batch_status(stored: str | None, progress: Mapping[str, int]) -> BatchStatus:
    """Cancelled or stopped as stored; otherwise processing while a message is pending, then completed
    (failed when nothing was sent but something failed, as OpenWA)."""
    if stored in (BatchStatus.CANCELLED, BatchStatus.FAILED):
        return BatchStatus(stored)
    if progress["pending"]:
        return BatchStatus.PROCESSING
    if progress["sent"] == 0 and progress["failed"] > 0:
        return BatchStatus.FAILED
    return BatchStatus.COMPLETED


def _result(chat_id: str, message_id: str, record: Mapping[str, Any] | None) -> dict[str, Any]:
    status = item_status(record)
    result: dict[str, Any] = {"chatId": chat_id, "status": status.value, "messageId": message_id}
    if record is None:
        result["error"] = {"code": "MESSAGE_EXPIRED", "message": "The message record has expired"}
    elif status is ItemStatus.SENT:
        result["sentAt"] = record.get("sentAt") or record.get("updatedAt")
    elif status is not ItemStatus.PENDING and record.get("error"):
        error = record["error"]
        result["error"] = {"code": str(error.get("code")), "message": str(error.get("message"))}
    return result


def summarize(batch: Mapping[str, Any], records: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """OpenWA's BatchStatusResponse from the stored batch and its message records (in batch order)."""
    pairs = zip(batch["chatIds"], batch["messageIds"], records, strict=True)
    results = [_result(chat_id, message_id, record) for chat_id, message_id, record in pairs]
    progress = {"total": len(results)} | {status.value: 0 for status in ItemStatus}
    for result in results:
        progress[result["status"]] += 1
    status = batch_status(batch.get("status"), progress)
    completed_at = batch.get("completedAt")
    if completed_at is None and status in FINISHED:
        times = [str(r["updatedAt"]) for r in records if r is not None and r.get("updatedAt")]
        completed_at = max(times, default=None)
    return {
        "batchId": batch["batchId"],
        "status": status.value,
        "progress": progress,
        "results": results,
        "startedAt": batch.get("startedAt"),
        "completedAt": completed_at,
    }
