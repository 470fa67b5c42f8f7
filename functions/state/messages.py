"""Message records in Redis: one hash per message (`<p>:message:<sid>:<id>`, each field a JSON value) with
indexes by arrival time for the session, each chat and each sender, all bounded by `MESSAGE_RETENTION_DAYS`.

Fields are OpenWA's message entity (`reference/openwa.md` §3.2: id, sessionId, waMessageId, chatId, from,
to, body, type, direction, timestamp, metadata, status, createdAt, mediaPath, mediaMimetype) plus `ack`,
`error`, `updatedAt` and, for outbound messages, `content` (what the send job sends; not on the wire).

Status updates go through one Lua call that only moves a message forward (pending → sent → delivered →
read, or failed), so acks arriving out of order or twice never regress a record.

Sends waiting for their session to be ready (`<p>:session:<id>:holds`) are a sorted set scored by the order
in which they were accepted (`acceptSeq`, from the session's counter, taken in the accept itself): a send
the session process finds not ready goes back to its own place, ahead of sends the API accepted after it
and held meanwhile. The release puts them back in that order, and where: the sends the session process
took off its queue (`holds:off-queue`) before the first one the API held go to the queue's front, since
whatever is still queued was accepted after them; the rest, from the first the API held on (accepted after
whatever is still queued, which the API stops queueing once a send is held), go to its back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import WatchError

from functions.core.messages import STATUS_RANK, MessageStatus, bare_message_id
from functions.queueing import QueuedJob
from functions.state.codec import text
from functions.state.connection import DirectConnections, translate_redis_errors
from functions.state.keys import Keys
from functions.state.message_search import (
    INDEX_LUA,
    INDEXED_FIELDS,
    UPDATE_LUA,
    indexed_words,
    postings_of,
)

# KEYS[1] record. ARGV[1] JSON-encoded new status, ARGV[2] its rank, ARGV[3..] more field/value pairs.
# Returns -1 (no record), 0 (not a step forward: nothing written) or 1.
_ADVANCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local ranks = {}
for status, rank in string.gmatch(ARGV[#ARGV], '(%S+)=(%d+)') do
  ranks['"' .. status .. '"'] = tonumber(rank)
end
local current = redis.call('HGET', KEYS[1], 'status')
if (ranks[current] or 0) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], unpack(ARGV, 3, #ARGV - 1))
return 1
"""
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""
# Shared by `_CREATE` and `_ACCEPT`: the record at KEYS[record] (field/value pairs ARGV[first..last]) and its
# indexes at KEYS[record + 1..] (and `extra`, an index key made in the script, when given), scored `score`
# (ms), and the record's entry in the bare-id index (`by_bare_id`, `Keys.message_key`), all expiring after
# `retention` seconds; and its search postings (`words` under the index head `search_head`, see
# `functions.state.message_search`).
_WRITE_RECORD = (
    INDEX_LUA
    + """
local function write_record(record, first, last, retention, score, message_id, extra, by_bare_id,
                            search_head, words)
  redis.call('HSET', KEYS[record], unpack(ARGV, first, last))
  search_add(search_head, words, message_id, KEYS[record], retention, score)
  redis.call('EXPIRE', KEYS[record], retention)
  redis.call('SET', by_bare_id, message_id, 'EX', retention)
  local oldest = tonumber(score) - tonumber(retention) * 1000
  local indexes = {unpack(KEYS, record + 1)}
  if extra then table.insert(indexes, extra) end
  for _, index in ipairs(indexes) do
    redis.call('ZADD', index, score, message_id)
    redis.call('ZREMRANGEBYSCORE', index, '-inf', oldest)
    redis.call('EXPIRE', index, retention)
  end
end
"""
)
# A new record and its indexes. KEYS[1] record, KEYS[2..] indexes. ARGV[1] "1" to write nothing when the
# record exists, ARGV[2] retention (s), ARGV[3] index score (ms), ARGV[4] message id, ARGV[5] its bare-id
# index key, ARGV[6] the search index head, ARGV[7] the words the message is found by, ARGV[8..] field/value
# pairs. Returns 0 when the record existed (nothing written), else 1. One
# command instead of eleven: much of a send's accept CPU is redis-py packing and parsing commands, not Redis
# running them.
_CREATE = (
    _WRITE_RECORD
    + """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
write_record(1, 8, #ARGV, ARGV[2], ARGV[3], ARGV[4], nil, ARGV[5], ARGV[6], ARGV[7])
return 1
"""
)
# Count one more time the record is handed to the engine; 0 when there is no such record (never creates one).
_COUNT_SEND_ATTEMPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], 'sendAttempts', 1)
"""
# A send accepted, all or nothing in one command, checked against its session in the same step: the session
# must exist, an answer already kept under the Idempotency-Key is returned instead, and a session that is not
# `ready` refuses the send unless it may be held. Then: the answer kept, the record and its indexes (as
# `_CREATE`; its `from` is the session's own number, and the sender index is that number's), and the entry
# that makes it go out: on the hold list when the session is not ready or sends are held already (queued
# now, it would overtake them), else the send job's id on the session's queue, with the job's hash and the
# queue's registration.
# The send takes the session's next acceptance number (`acceptSeq`), its place on the hold list.
# KEYS[1] session document, KEYS[2] hold list, KEYS[3] idempotency key, KEYS[4] queue, KEYS[5] job hash,
# KEYS[6] set registering queues, KEYS[7] acceptance counter, KEYS[8] record, KEYS[9..] indexes but the
# sender's. ARGV[1] the answer to
# keep ('' for none), ARGV[2] its TTL (s), ARGV[3] job id, ARGV[4] message id, ARGV[5] '1' when the send may
# be held, ARGV[6] retention (s), ARGV[7] index score (ms), ARGV[8] and ARGV[9] the sender index's key
# around the sender, ARGV[10] number of record fields, ARGV[11] the bare-id index key, ARGV[12] the search
# index head, ARGV[13] the words the message is found by, then record field/value pairs, then job pairs.
# Returns {'queued'} or {'held'} (written), else {'missing'}, {'earlier', answer}, {'not_ready', status} or
# {'too_many_held'} (the hold list has MAX_HELD sends: the cap, put into the script when registered).
# The hold list lives as long as the records it names.
DEFAULT_MAX_HELD = 1000
_ACCEPT = (
    _WRITE_RECORD
    + """
local doc = redis.call('GET', KEYS[1])
if not doc then return {'missing'} end
if ARGV[1] ~= '' then
  local earlier = redis.call('GET', KEYS[3])
  if earlier then return {'earlier', earlier} end
end
local session = cjson.decode(doc)
local ready = session['status'] == 'ready'
if not ready and ARGV[5] ~= '1' then return {'not_ready', tostring(session['status'])} end
local hold = (not ready) or redis.call('ZCARD', KEYS[2]) > 0
if hold and redis.call('ZCARD', KEYS[2]) >= MAX_HELD then return {'too_many_held'} end
if ARGV[1] ~= '' then redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[2]) end
local own, sender_index = cjson.null, nil
if type(session['phone']) == 'string' and session['phone'] ~= '' then
  own = session['phone'] .. '@c.us'
  sender_index = ARGV[8] .. own .. ARGV[9]
end
local first_job = 14 + tonumber(ARGV[10]) * 2
write_record(8, 14, first_job - 1, ARGV[6], ARGV[7], ARGV[4], sender_index, ARGV[11], ARGV[12], ARGV[13])
local seq = redis.call('INCR', KEYS[7])
redis.call('EXPIRE', KEYS[7], ARGV[6])
redis.call('HSET', KEYS[8], 'from', cjson.encode(own), 'acceptSeq', seq)
if hold then
  redis.call('ZADD', KEYS[2], seq, ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  return {'held'}
end
redis.call('HSET', KEYS[5], unpack(ARGV, first_job))
redis.call('SADD', KEYS[6], KEYS[4])
redis.call('RPUSH', KEYS[4], ARGV[3])
return {'queued'}
"""
)
# A send found not ready by the session process goes back on the hold list at its acceptance number
# (a send that has none, scheduled or bulk, takes the next one: its place is when it fell due), marked as
# taken off the queue. KEYS[1] hold list, KEYS[2] record, KEYS[3] acceptance counter, KEYS[4] the hold
# list's sends taken off the queue. ARGV[1] message id, ARGV[2] the records' retention (the lists', too).
_HOLD = """
local seq = tonumber(redis.call('HGET', KEYS[2], 'acceptSeq') or '')
if not seq then seq = redis.call('INCR', KEYS[3]) end
redis.call('ZADD', KEYS[1], seq, ARGV[1])
redis.call('ZADD', KEYS[4], seq, ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[2])
return seq
"""
_RANKS_ARG = " ".join(f"{status.value}={rank}" for status, rank in STATUS_RANK.items())
_WIRE_HIDDEN = frozenset({"content", "sendAttempts", "acceptSeq"})


@dataclass(frozen=True)
class IdempotentAnswer:
    """The answer to keep under an Idempotency-Key (`key`), for `ttl_seconds`."""

    key: str
    answer: bytes
    ttl_seconds: int


@dataclass(frozen=True)
class Acceptance:
    """What `MessageRepository.accept` did: `queued` or `held` (written); or, with nothing written,
    `missing` (no such session), `not_ready` (`status` is the session's), `too_many_held` (the session's
    hold list is full) or `earlier` (`earlier` is the answer kept under the Idempotency-Key before)."""

    outcome: str
    status: str | None = None
    earlier: bytes | None = None


@dataclass(frozen=True)
class MessagePage:
    messages: list[dict[str, Any]]
    total: int


def _decode(raw: Mapping[Any, Any]) -> dict[str, Any]:
    return {text(name): orjson.loads(value) for name, value in raw.items()}


class MessageRepository:
    """Message records of every session. Timestamps in index scores are epoch milliseconds."""

    def __init__(
        self, conn: Redis, keys: Keys, *, retention_seconds: int, max_held: int = DEFAULT_MAX_HELD
    ) -> None:
        """`max_held`: sends held per session at most (`accept` answers `too_many_held` past it)."""
        self._conn, self._keys, self._retention = conn, keys, retention_seconds
        self._advance = conn.register_script(_ADVANCE)
        self._update = conn.register_script(_UPDATE)
        self._update_indexed = conn.register_script(UPDATE_LUA)
        self._count_send_attempt = conn.register_script(_COUNT_SEND_ATTEMPT)
        self._accept = conn.register_script(_ACCEPT.replace("MAX_HELD", str(int(max_held))))
        # The API's hottest write: on a connection of our own (see `DirectConnections`).
        self._direct_conns = DirectConnections.of(conn)
        self._hold = conn.register_script(_HOLD)

    def create(self, record: Mapping[str, Any], *, pipeline: Pipeline) -> None:
        """Queue the writes of a new record and its indexes on `pipeline` (executed by the caller, so the
        record and the job that sends it are written together)."""
        # EVAL, not a registered script: in a pipeline, EVALSHA costs an extra SCRIPT EXISTS round trip.
        pipeline.eval(_CREATE, *self._create_args(record, only_if_absent=False))

    def accept(
        self,
        record: Mapping[str, Any],
        *,
        job: QueuedJob,
        may_hold: bool,
        idempotency: IdempotentAnswer | None = None,
    ) -> Acceptance:
        """Check the record's session and write the send, atomically, in one command (see `_ACCEPT`): the
        record and its indexes, with `from` set to the session's own number (`record["from"]` is ignored),
        then `job` queued, or the message held when the session is not ready (refused unless `may_hold`) or
        sends are held already; and, with `idempotency`, the answer kept for its key. Nothing is written when
        the session is missing or refuses the send, or when the key already has an answer."""
        session_id, message_id = str(record["sessionId"]), str(record["id"])
        record_key = self._keys.message(session_id, message_id)
        heads = [self._keys.session(session_id), self._keys.held_messages(session_id)]
        idem_key, answer, ttl = record_key, b"", 0  # without a key: ARGV[1] '' skips it
        if idempotency is not None:
            idem_key, answer, ttl = idempotency.key, idempotency.answer, idempotency.ttl_seconds
        chat_id = str(record["chatId"])
        indexes = [self._keys.session_messages(session_id), self._keys.chat_messages(session_id, chat_id)]
        sequence = self._keys.send_sequence(session_id)
        keys = [*heads, idem_key, job.queue_key, job.job_key, job.registry, sequence, record_key, *indexes]
        sender_head, _, sender_tail = self._keys.sender_messages(session_id, "\0").partition("\0")
        fields = [(name, value) for name, value in record.items() if name != "from"]
        args: list[Any] = [answer, ttl, job.job_id, message_id, "1" if may_hold else "0", self._retention]
        args += [int(time.time() * 1000), sender_head, sender_tail, len(fields), self._by_bare_id(record)]
        args += [self._keys.search_index(session_id), indexed_words(record)]
        for name, value in fields:
            args += [name, orjson.dumps(value)]
        args += job.fields
        with translate_redis_errors():
            reply = self._direct_conns.run_script(self._accept, keys, args)
        outcome, detail = text(reply[0]), reply[1] if len(reply) > 1 else None
        if outcome == "earlier":
            return Acceptance(outcome, earlier=bytes(detail or b""))
        return Acceptance(outcome, status=text(detail) if detail is not None else None)

    def create_if_absent(self, record: Mapping[str, Any]) -> bool:
        """Store a record seen from WhatsApp (inbound, or sent from the phone); False if it exists."""
        with translate_redis_errors():
            return bool(self._conn.eval(_CREATE, *self._create_args(record, only_if_absent=True)))

    def _create_args(self, record: Mapping[str, Any], *, only_if_absent: bool) -> list[Any]:
        """`numkeys, *keys, *args` of `_CREATE` for `record`."""
        session_id, message_id = str(record["sessionId"]), str(record["id"])
        keys = [self._keys.message(session_id, message_id), *self._indexes(record)]
        score = int(time.time() * 1000)  # arrival order, in ms (message timestamps are whole seconds)
        args: list[Any] = ["1" if only_if_absent else "0", self._retention, score, message_id]
        args += [self._by_bare_id(record), self._keys.search_index(session_id), indexed_words(record)]
        for name, value in record.items():
            args += [name, orjson.dumps(value)]
        return [len(keys), *keys, *args]

    def _by_bare_id(self, record: Mapping[str, Any]) -> str:
        return self._keys.message_key(str(record["sessionId"]), bare_message_id(str(record["id"])))

    def resolve(self, session_id: str, message_id: str) -> str | None:
        """The id of the record WhatsApp's `message_id` stands for: that record itself, else the record of
        the same bare id (`3EB0...`) under whatever remote or participant WhatsApp reported (an `@lid`
        remote, a group key's participant). None when there is none."""
        with translate_redis_errors():
            if self._conn.exists(self._keys.message(session_id, message_id)):
                return message_id
            found = self._conn.get(self._keys.message_key(session_id, bare_message_id(message_id)))
            if found is None or not self._conn.exists(self._keys.message(session_id, text(found))):
                return None  # none, or its record is gone (a deleted chat): the entry expires by itself
        return text(found)

    def _indexes(self, record: Mapping[str, Any]) -> Iterable[str]:
        session_id = str(record["sessionId"])
        yield self._keys.session_messages(session_id)
        yield self._keys.chat_messages(session_id, str(record["chatId"]))
        if record.get("from"):
            yield self._keys.sender_messages(session_id, str(record["from"]))

    def get(self, session_id: str, message_id: str) -> dict[str, Any] | None:
        with translate_redis_errors():
            raw = self._conn.hgetall(self._keys.message(session_id, message_id))
        return _decode(raw) if raw else None

    def exists(self, session_id: str, message_id: str) -> bool:
        with translate_redis_errors():
            return bool(self._conn.exists(self._keys.message(session_id, message_id)))

    def get_many(self, session_id: str, message_ids: list[str]) -> list[dict[str, Any] | None]:
        """Records in the order of `message_ids` (None where one is gone), in one round trip."""
        with translate_redis_errors(), self._conn.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.hgetall(self._keys.message(session_id, message_id))
            raws = pipe.execute()
        return [_decode(raw) if raw else None for raw in raws]

    def count_send_attempt(self, session_id: str, message_id: str) -> int:
        """Count a hand-over of the message to the engine, before it happens. Returns the count including
        this one (1: no earlier attempt can have reached WhatsApp), or 0 when there is no such record."""
        with translate_redis_errors():
            return int(self._count_send_attempt(keys=[self._keys.message(session_id, message_id)]))

    def advance(self, session_id: str, message_id: str, status: MessageStatus, **fields: Any) -> int:
        """Move the record to `status` (with `fields`) if that is a step forward.
        Returns 1 when written, 0 when it was not a step forward, -1 when there is no such record."""
        args: list[Any] = [orjson.dumps(status.value), STATUS_RANK[status]]
        for name, value in fields.items():
            args += [name, orjson.dumps(value)]
        args.append(_RANKS_ARG)
        with translate_redis_errors():
            return int(self._advance(keys=[self._keys.message(session_id, message_id)], args=args))

    def mark_media_pending(self, session_id: str, message_id: str) -> None:
        """Remember that the media of `message_id` is still to be stored (see `runner.pending_media`)."""
        with translate_redis_errors():
            self._conn.sadd(self._keys.media_pending(session_id), message_id)

    def media_pending(self, session_id: str) -> list[str]:
        """The ids of the session's messages whose media is still to be stored."""
        with translate_redis_errors():
            members = self._conn.smembers(self._keys.media_pending(session_id))
        return sorted(text(member) for member in members)

    def media_stored(self, session_id: str, message_id: str, **fields: Any) -> bool:
        """The media of `message_id` is stored: set the record's `fields` and forget it as pending. False
        when the record is gone (expired, or its session deleted)."""
        updated = self.update(session_id, message_id, **fields)
        self.forget_media_pending(session_id, message_id)
        return updated

    def forget_media_pending(self, session_id: str, message_id: str) -> None:
        with translate_redis_errors():
            self._conn.srem(self._keys.media_pending(session_id), message_id)

    def update(self, session_id: str, message_id: str, **fields: Any) -> bool:
        """Set fields of an existing record (body after an edit, reactions...); False if it is gone (never
        recreates an expired record without its TTL)."""
        args: list[Any] = []
        for name, value in fields.items():
            args += [name, orjson.dumps(value)]
        if fields.keys() & set(INDEXED_FIELDS):
            return self._update_found_by(session_id, message_id, fields, args)
        with translate_redis_errors():
            return bool(self._update(keys=[self._keys.message(session_id, message_id)], args=args))

    def _update_found_by(
        self, session_id: str, message_id: str, fields: Mapping[str, Any], pairs: list[Any]
    ) -> bool:
        """`update` of fields that may change what the message is found by (an edit, a revoke): its search
        postings move with the record, in the same script."""
        record_key = self._keys.message(session_id, message_id)
        with translate_redis_errors():
            current = dict(
                zip(INDEXED_FIELDS, self._conn.hmget(record_key, list(INDEXED_FIELDS)), strict=True)
            )
            before = {name: orjson.loads(raw) for name, raw in current.items() if raw is not None}
            head = self._keys.search_index(session_id)
            after = {**before, **fields}
            args: list[Any] = [head, indexed_words(before), indexed_words(after), message_id, self._retention]
            args += [int(time.time() * 1000), *pairs]
            return bool(self._update_indexed(keys=[record_key], args=args))

    def page(
        self,
        session_id: str,
        *,
        chat_id: str | None = None,
        sender: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> MessagePage:
        """Newest first. With both `chat_id` and `sender`, the chat index is read and filtered by sender."""
        if chat_id:
            index = self._keys.chat_messages(session_id, chat_id)
        elif sender:
            index = self._keys.sender_messages(session_id, sender)
        else:
            index = self._keys.session_messages(session_id)
        with translate_redis_errors():
            if chat_id and sender:
                return self._filtered_page(session_id, index, sender, limit, offset)
            with self._conn.pipeline(transaction=False) as pipe:
                pipe.zcard(index)
                pipe.zrevrange(index, offset, offset + limit - 1)
                total, ids = pipe.execute()
            records = self._load_many(session_id, [text(i) for i in ids])
        return MessagePage(records, int(total))

    def _filtered_page(
        self, session_id: str, index: str, sender: str, limit: int, offset: int
    ) -> MessagePage:
        ids = [text(i) for i in self._conn.zrevrange(index, 0, -1)]
        matching = [r for r in self._load_many(session_id, ids) if r.get("from") == sender]
        return MessagePage(matching[offset : offset + limit], len(matching))

    def _load_many(self, session_id: str, ids: list[str]) -> list[dict[str, Any]]:
        with self._conn.pipeline(transaction=False) as pipe:
            for message_id in ids:
                pipe.hgetall(self._keys.message(session_id, message_id))
            raws = pipe.execute()
        return [_decode(raw) for raw in raws if raw]

    # Queued sends waiting for their session to be ready (`"queue": true`).

    def hold(self, session_id: str, message_id: str) -> None:
        """Put a send the session process took off its queue back on the hold list, at its place in
        acceptance order (see `_HOLD`)."""
        keys = [
            self._keys.held_messages(session_id),
            self._keys.message(session_id, message_id),
            self._keys.send_sequence(session_id),
            self._keys.held_off_queue(session_id),
        ]
        with translate_redis_errors():
            self._hold(keys=keys, args=[message_id, self._retention])

    def release_held(self, session_id: str, enqueue: Callable[[str, Pipeline, bool], None]) -> int:
        """Queue every held send in acceptance order: `enqueue(message_id, pipe, at_front)` for each, in the
        transaction that also empties the hold list. Returns how many. The sends ahead of the first one the
        API held were all taken off the queue: they go back to its front, ahead of what is still queued
        (accepted after them); the rest go to its back (see the module's docstring). The caller runs this
        between jobs, so that no send taken off the queue is on its way meanwhile.

        Atomic (WATCH): a send held meanwhile is part of this release or stays held, and the list is never
        seen empty before its sends are queued, so a send the API accepts after it (queued directly when
        nothing is held) never overtakes a held one."""
        key, off_queue = self._keys.held_messages(session_id), self._keys.held_off_queue(session_id)
        with translate_redis_errors(), self._conn.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key, off_queue)  # type: ignore[no-untyped-call]
                    ids = [text(i) for i in pipe.zrange(key, 0, -1)]
                    if not ids:
                        return 0
                    taken = {text(i) for i in pipe.zrange(off_queue, 0, -1)}
                    front = 0
                    while front < len(ids) and ids[front] in taken:
                        front += 1
                    pipe.multi()
                    # Pushed to the front one by one, so the last pushed is the first sent.
                    for message_id in reversed(ids[:front]):
                        enqueue(message_id, pipe, True)
                    for message_id in ids[front:]:
                        enqueue(message_id, pipe, False)
                    pipe.delete(key, off_queue)
                    pipe.execute()
                    return len(ids)
                except WatchError:
                    continue

    def held_count(self, session_id: str) -> int:
        with translate_redis_errors():
            return int(self._conn.zcard(self._keys.held_messages(session_id)))

    def delete_chat(self, session_id: str, chat_id: str) -> int:
        """Drop the stored messages of one chat (cleared or deleted on WhatsApp): their records and their
        entries in every index. Returns how many records there were."""
        chat_index = self._keys.chat_messages(session_id, chat_id)
        with translate_redis_errors():
            ids = [text(i) for i in self._conn.zrange(chat_index, 0, -1)]
            records = self._load_many(session_id, ids)
            with self._conn.pipeline(transaction=True) as pipe:
                for record in records:
                    message_id = str(record["id"])
                    for posting in postings_of(self._keys, record):
                        pipe.zrem(posting, message_id)
                    pipe.delete(self._keys.message(session_id, message_id))
                    pipe.zrem(self._keys.session_messages(session_id), message_id)
                    if record.get("from"):
                        pipe.zrem(self._keys.sender_messages(session_id, str(record["from"])), message_id)
                pipe.delete(chat_index)
                pipe.execute()
        return len(records)


def to_wire(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the API returns it (OpenWA's Message plus `ack` and `error`)."""
    return {name: value for name, value in record.items() if name not in _WIRE_HIDDEN}
