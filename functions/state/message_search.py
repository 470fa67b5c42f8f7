"""The message search index in Redis, kept with the message records (`functions.state.messages`).

Per session, under `Keys.search_index(sid)` (`<p>:search:<sid>`):
- `<head>:w:<token>`: a posting, a sorted set of the ids of the messages whose text has the token, scored by
  the message's timestamp in ms (so results page newest first and `dateFrom`/`dateTo` are score ranges);
- `<head>:words`: the session's tokens, a sorted set all scored 0, for prefix expansion (`ZRANGEBYLEX`): a
  query word stands for every token it begins.

Tokens are made by `functions.core.search_text` (folded words). Message records are stored in plain JSON
(`functions.state.codec`; no encryption at rest), so the tokens are stored as they are: the index holds no
more than the records beside it already do. Postings are written in the same script as the record
(`MessageRepository`), live as long as records (trimmed past the retention on each write and expiring with
it), leave with their message (revoked, deleted for me, its chat deleted) and change with an edit. A
deleted session's keys, these included, go with its purge (`functions.state.session_data`): the session id
is one segment of every key. A query (`functions.state.message_search_query`) reads postings only, never
scans records or keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core.search_text import tokens
from functions.state.keys import Keys

# Types whose `body` is text someone wrote: a text message's text, a media message's caption.
TEXT_TYPES = frozenset({"text", "image", "video", "document"})
# Record fields whose change may change what a message is found by.
INDEXED_FIELDS = ("body", "type", "deletedForMe")

# `search_add(head, words, message_id, record, retention, now_ms)`: the postings of `words` (tokens joined
# by spaces) gain `message_id`, scored by the record's `timestamp` (s → ms; arrival time `now_ms` when it
# has none), and lose entries past the retention; the dictionary gains the tokens. `search_remove` takes
# the message out of the postings of `words`.
INDEX_LUA = """
local function search_add(head, words, message_id, record, retention, now_ms)
  if words == '' then return end
  local ts = tonumber(redis.call('HGET', record, 'timestamp') or '')
  local score = ts and ts * 1000 or tonumber(now_ms)
  local oldest = tonumber(now_ms) - tonumber(retention) * 1000
  local dictionary = head .. ':words'
  for word in string.gmatch(words, '%S+') do
    local posting = head .. ':w:' .. word
    redis.call('ZADD', posting, score, message_id)
    redis.call('ZREMRANGEBYSCORE', posting, '-inf', '(' .. oldest)
    redis.call('EXPIRE', posting, retention)
    redis.call('ZADD', dictionary, 0, word)
  end
  redis.call('EXPIRE', dictionary, retention)
end
local function search_remove(head, words, message_id)
  for word in string.gmatch(words, '%S+') do
    redis.call('ZREM', head .. ':w:' .. word, message_id)
  end
end
"""

# An update that may change what the message is found by. KEYS[1] record. ARGV[1] index head, ARGV[2]
# the words it had, ARGV[3] the words it has after the update, ARGV[4] message id, ARGV[5] retention (s),
# ARGV[6] now (ms), ARGV[7..] field/value pairs. Returns 0 (no record: nothing written) or 1.
UPDATE_LUA = (
    INDEX_LUA
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
search_remove(ARGV[1], ARGV[2], ARGV[4])
search_add(ARGV[1], ARGV[3], ARGV[4], KEYS[1], ARGV[5], ARGV[6])
return 1
"""
)


def indexed_words(record: Mapping[str, Any]) -> str:
    """The tokens `record` is found by, joined by spaces ('' when it is found by none: no text, revoked,
    deleted for me)."""
    if record.get("type") not in TEXT_TYPES or record.get("deletedForMe"):
        return ""
    return " ".join(tokens(str(record.get("body") or "")))


def postings_of(keys: Keys, record: Mapping[str, Any]) -> list[str]:
    """The keys of the postings that name `record`."""
    head = keys.search_index(str(record["sessionId"]))
    return [f"{head}:w:{word}" for word in indexed_words(record).split()]
