"""Queries of the message search index (`functions.state.message_search`), one script over many sessions.

Per session, each query word stands for the postings of the tokens it begins (the dictionary's
`ZRANGEBYLEX`), largest first. A word as common as "the" may be in most of a session's messages, so no
posting is copied unless it must be:

- one word of one token, no filter: `ZCOUNT` and `ZREVRANGEBYSCORE` on its posting;
- otherwise the smallest set (a word, or the chat or sender index) is walked and each entry probed
  (`ZSCORE`) in the other words' postings and indexes, and its record for `type`/`direction`. Walking a
  word goes newest first (a merge of its postings) and stops once it holds the newest hits asked for and
  the count has reached the bound still open (`TOTAL_BOUND` over all sessions: upstream's "bounded exact
  count"); walking a chat or sender index (ordered by arrival, not timestamp) goes through all of it;
- a walk that examines more than `WALK_LIMIT` entries (large sets, few matches) gives way to the exact
  intersection, stored (`ZINTERSTORE` walks the smallest input) and counted.

Temporary sets live under the session's index head (so a session's purge would find any) and are deleted
before the script returns; nothing else is written but the removal of dictionary words whose postings
expired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from redis import Redis

from functions.state.codec import text
from functions.state.connection import translate_redis_errors
from functions.state.keys import Keys

# Tokens a query word expands to, at most, per session (the first ones in byte order): bounds the work of
# a one-letter word.
MAX_EXPANSION = 256
# Matches counted exactly at most (upstream's "bounded exact count"): past it, `total` says "at least".
TOTAL_BOUND = 1000
# Entries a session's walk examines before it falls back to an exact stored intersection.
WALK_LIMIT = 1024

# ARGV[1] lowest score (ms), ARGV[2] highest, ARGV[3] how many of the newest hits to return per session,
# ARGV[4] how many entries of a stored intersection to examine per session at most when filtering by
# record fields, ARGV[5] the `type` wanted (JSON, '' for any), ARGV[6] the `direction` (same), ARGV[7] the
# count's bound, ARGV[8] the walk's limit, ARGV[9] number of query words, then the words, then per
# session: index head, record key head, and the chat and sender index keys to intersect with ('' for
# none). Returns per session {total, {id, score, id, score...}} (at least its `want` newest hits, in any
# order).
_QUERY_LUA = """
local low, high, want, scan = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local wanted_type, wanted_direction = ARGV[5], ARGV[6]
local budget = tonumber(ARGV[7])  -- matches still worth counting exactly, over every session
local walk_limit, word_count = tonumber(ARGV[8]), tonumber(ARGV[9])
local head, temps, step

local function temp()
  step = step + 1
  local name = head .. ':tmp:' .. step
  table.insert(temps, name)
  return name
end

local function store(command, destination, sets, weights)
  local call = {command, destination, #sets}
  for _, set in ipairs(sets) do table.insert(call, set) end
  table.insert(call, 'WEIGHTS')
  for _, weight in ipairs(weights) do table.insert(call, weight) end
  table.insert(call, 'AGGREGATE')
  table.insert(call, 'MAX')  -- a message's score is its timestamp in every posting: never a sum
  redis.call(unpack(call))
  return destination
end

-- A word's postings, largest first, as {size, postings, sizes}; nil when it has none.
local function word_set(word)
  local dictionary = head .. ':words'
  local last = '[' .. word .. '\\255'  -- past every token `word` begins (0xFF is never in UTF-8)
  local tokens = redis.call('ZRANGEBYLEX', dictionary, '[' .. word, last, 'LIMIT', 0, MAX_EXPANSION)
  local postings, size = {}, 0
  for _, token in ipairs(tokens) do
    local posting = head .. ':w:' .. token
    local count = redis.call('ZCARD', posting)
    if count == 0 then
      redis.call('ZREM', dictionary, token)  -- every entry past the retention: the posting expired
    else
      size = size + count
      table.insert(postings, {posting, count})
    end
  end
  if #postings == 0 then return nil end
  table.sort(postings, function(a, b) return a[2] > b[2] end)
  local sizes = {}
  for i, posting in ipairs(postings) do postings[i], sizes[i] = posting[1], posting[2] end
  return {size = size, postings = postings, sizes = sizes}
end

-- The set's members in the score range, highest score first, each once: a merge of its postings.
local function descending(set)
  local live, seen, several = {}, {}, #set.postings > 1
  local first = math.min(128, math.max(8, want))  -- often only the newest few are read
  -- Whether the stream has a next entry (its score then in `head`), reading its next chunk if need be.
  local function ready(s)
    if s.at > #s.buffer then
      if s.done then return false end
      local range = {'ZREVRANGEBYSCORE', s.key, high, low, 'WITHSCORES', 'LIMIT', s.offset, s.chunk}
      s.buffer = redis.call(unpack(range))
      s.at, s.offset, s.done = 1, s.offset + s.chunk, #s.buffer < s.chunk * 2
      s.chunk = 128
      if #s.buffer == 0 then return false end
    end
    s.head = tonumber(s.buffer[s.at + 1])
    return true
  end
  for _, key in ipairs(set.postings) do
    local s = {key = key, buffer = {}, at = 1, offset = 0, chunk = first}
    if ready(s) then table.insert(live, s) end
  end
  return function()
    while #live > 0 do
      local best = 1
      for i = 2, #live do
        if live[i].head > live[best].head then best = i end
      end
      local s = live[best]
      local member, score = s.buffer[s.at], s.head
      s.at = s.at + 2
      if not ready(s) then table.remove(live, best) end
      if not several then return member, score end
      if not seen[member] then
        seen[member] = true
        return member, score
      end
    end
    return nil
  end
end

-- A word of many postings is probed in two, its largest and the union of the others (stored), when
-- probing each of them for every batch of the driver's would cost more than making that union.
local function prepare(set, driver_size)
  if set.filter or #set.postings <= 2 then return end
  local batches = math.ceil(driver_size / 128)
  if set.size - set.sizes[1] > batches * (#set.postings - 1) * 32 then return end
  local rest, weights = {}, {}
  for i = 2, #set.postings do table.insert(rest, set.postings[i]); table.insert(weights, 1) end
  set.postings = {set.postings[1], store('ZUNIONSTORE', temp(), rest, weights)}
end

-- A set of many postings as one stored union: merging them entry by entry would cost more. A set of a few
-- is merged as it is walked, with no copy: a walk usually stops early.
local function merged(set)
  if #set.postings <= 16 then return set end
  local weights = {}
  for i = 1, #set.postings do weights[i] = 1 end
  local union = store('ZUNIONSTORE', temp(), set.postings, weights)
  return {size = set.size, postings = {union}, filter = set.filter}
end

-- The scores in the set of the `members` still `alive` (by index; a word's score is the timestamp), one
-- ZMSCORE per posting for the whole batch.
local function probe(set, members, alive)
  local found, pending = {}, {}
  for i = 1, #members do
    if alive[i] then table.insert(pending, i) end
  end
  for _, key in ipairs(set.postings) do
    if #pending == 0 then break end
    local call = {'ZMSCORE', key}
    for _, i in ipairs(pending) do table.insert(call, members[i]) end
    local scores, still = redis.call(unpack(call)), {}
    for k, i in ipairs(pending) do
      if scores[k] then found[i] = scores[k] else table.insert(still, i) end
    end
    pending = still
  end
  return found
end

local function has_fields(records, member)
  if wanted_type == '' and wanted_direction == '' then return true end
  local fields = redis.call('HMGET', records .. member, 'type', 'direction')
  return (wanted_type == '' or fields[1] == wanted_type)
    and (wanted_direction == '' or fields[2] == wanted_direction)
end

-- Walk the smallest set, in batches, and probe the others. Driven by a word, it walks newest first and
-- stops once it holds the newest `want` and has counted what the budget still needs; driven by a chat or
-- sender index (ordered by arrival, not timestamp) it walks it all. Returns nil past `walk_limit` entries.
local function walk(sets, records)
  table.sort(sets, function(a, b) return a.size < b.size end)
  local driver = merged(table.remove(sets, 1))
  local by_word = not driver.filter
  for _, set in ipairs(sets) do prepare(set, driver.size) end
  local total, page, examined = 0, {}, 0
  local next_member, batch = descending(driver), math.min(128, math.max(16, want * 2))
  local offset = 0
  while true do
    local members, scores, alive = {}, {}, {}
    if #driver.postings == 1 then  -- one posting: read a batch at once
      local range = {'ZREVRANGEBYSCORE', driver.postings[1], high, low, 'WITHSCORES', 'LIMIT', offset, batch}
      local found = redis.call(unpack(range))
      offset = offset + batch
      for i = 1, #found, 2 do
        table.insert(members, found[i])
        table.insert(scores, tonumber(found[i + 1]))
        table.insert(alive, true)
      end
    else
      while #members < batch do
        local member, score = next_member()
        if not member then break end
        table.insert(members, member)
        table.insert(scores, score)
        table.insert(alive, true)
      end
    end
    if #members == 0 then break end
    examined = examined + #members
    if examined > walk_limit then return nil end
    for _, set in ipairs(sets) do
      local found = probe(set, members, alive)
      for i = 1, #members do
        if alive[i] and not found[i] then alive[i] = false end
        if alive[i] and not by_word and not set.filter then scores[i] = tonumber(found[i]) end
      end
    end
    for i = 1, #members do
      local matched = alive[i]
      if matched and not by_word then matched = scores[i] >= low and scores[i] <= high end
      if matched and has_fields(records, members[i]) then
        total = total + 1
        if not by_word or #page < want * 2 then
          table.insert(page, members[i])
          table.insert(page, scores[i])
        end
      end
    end
    if by_word and #page >= want * 2 and total >= budget then break end
    -- The next batch: about what the matching rate so far says the page still needs.
    local missing = want - #page / 2
    batch = 128
    if by_word and missing > 0 and total > 0 then
      batch = math.max(16, math.min(128, math.ceil(missing * examined / total * 1.25)))
    end
  end
  return total, page
end

-- The members of the words' smaller postings (all but each word's largest) that are in every set but not
-- in `core` (the intersection of the largest postings), as {member, score}, newest first.
local function beyond_core(sets, core)
  local extra, seen = {}, {}
  for _, set in ipairs(sets) do
    for i = 2, #set.postings do
      local found = redis.call('ZRANGEBYSCORE', set.postings[i], low, high, 'WITHSCORES')
      local members, scores, alive = {}, {}, {}
      for j = 1, #found, 2 do
        if not seen[found[j]] then
          seen[found[j]] = true
          table.insert(members, found[j])
          table.insert(scores, tonumber(found[j + 1]))
          table.insert(alive, true)
        end
      end
      local checks = {{postings = {core}, exclude = true}}
      for _, other in ipairs(sets) do
        if other ~= set then table.insert(checks, other) end
      end
      for _, check in ipairs(checks) do
        local found_there = probe(check, members, alive)
        for k = 1, #members do
          if alive[k] and (found_there[k] and check.exclude or not (found_there[k] or check.exclude)) then
            alive[k] = false
          end
        end
      end
      for k = 1, #members do
        if alive[k] then table.insert(extra, {members[k], scores[k]}) end
      end
    end
  end
  table.sort(extra, function(a, b) return a[2] > b[2] end)
  return extra
end

-- The exact count and newest hits: the largest postings of the words (and the chat or sender index)
-- intersected by `ZINTERSTORE` (which walks the smallest), plus what the smaller postings add.
local function exact(sets, records)
  local core = sets[1].postings[1]
  if #sets > 1 then
    local keys, weights = {}, {}
    for _, set in ipairs(sets) do
      table.insert(keys, set.postings[1])
      table.insert(weights, set.filter and 0 or 1)  -- an index's scores are arrival times
    end
    core = store('ZINTERSTORE', temp(), keys, weights)
  end
  local extra = beyond_core(sets, core)
  local total, page, start, added = 0, {}, 0, 0
  if wanted_type == '' and wanted_direction == '' then
    total = redis.call('ZCOUNT', core, low, high) + #extra
    page = redis.call('ZREVRANGEBYSCORE', core, high, low, 'WITHSCORES', 'LIMIT', 0, want)
  else
    while start < scan do
      local chunk = redis.call('ZREVRANGEBYSCORE', core, high, low, 'WITHSCORES', 'LIMIT', start, 256)
      if #chunk == 0 then break end
      for j = 1, #chunk, 2 do
        if has_fields(records, chunk[j]) then
          total = total + 1
          if #page < want * 2 then
            table.insert(page, chunk[j])
            table.insert(page, chunk[j + 1])
          end
        end
      end
      start = start + 256
    end
  end
  for _, entry in ipairs(extra) do
    if has_fields(records, entry[1]) then
      if wanted_type ~= '' or wanted_direction ~= '' then total = total + 1 end
      if added < want then
        table.insert(page, entry[1])
        table.insert(page, entry[2])
        added = added + 1
      end
    end
  end
  return total, page
end

-- One word, no filter: its largest posting's count when that reaches the budget (or the word has one
-- token) and its newest hits; nil when the count needs the other postings.
local function one_word(set)
  local total = redis.call('ZCOUNT', set.postings[1], low, high)
  if #set.postings > 1 and total < budget then return nil end
  local page, next_member = {}, descending(set)
  while #page < want * 2 do
    local member, score = next_member()
    if not member then break end
    table.insert(page, member)
    table.insert(page, score)
  end
  return total, page
end

local function search(records, filters)
  local sets = {}
  for i = 1, word_count do
    local set = word_set(ARGV[9 + i])
    if not set then return 0, {} end
    table.insert(sets, set)
  end
  local plain = wanted_type == '' and wanted_direction == '' and #filters == 0
  if plain and #sets == 1 then
    local total, page = one_word(sets[1])
    if total then return total, page end
  end
  for _, filter in ipairs(filters) do
    table.insert(sets, {size = redis.call('ZCARD', filter), postings = {filter}, filter = true})
  end
  if budget <= 0 then  -- the count is complete already: only this session's newest hits are needed
    local walked = {}
    for i, set in ipairs(sets) do walked[i] = set end
    local total, page = walk(walked, records)
    if total then return total, page end
  end
  return exact(sets, records)
end

local replies = {}
for s = 10 + word_count, #ARGV, 4 do
  head, temps, step = ARGV[s], {}, 0
  local filters = {}
  if ARGV[s + 2] ~= '' then table.insert(filters, ARGV[s + 2]) end
  if ARGV[s + 3] ~= '' then table.insert(filters, ARGV[s + 3]) end
  local total, page = search(ARGV[s + 1], filters)
  budget = math.max(0, budget - total)
  if #temps > 0 then redis.call('DEL', unpack(temps)) end
  table.insert(replies, {total, page})
end
return replies
""".replace("MAX_EXPANSION", str(MAX_EXPANSION))


@dataclass(frozen=True)
class SearchFilters:
    """What a hit must also be. Scores are message timestamps in ms; None means unbounded."""

    type: str | None = None
    direction: str | None = None
    chat_id: str | None = None
    sender: str | None = None
    lowest: int | None = None
    highest: int | None = None


@dataclass(frozen=True)
class SessionHits:
    """One session's answer: how many messages match (`total`, counted among at most the scan limit's
    newest entries when filtering by type or direction) and its newest `(id, score)` pairs."""

    session_id: str
    total: int
    newest: list[tuple[str, float]]


_NEVER = 2**53  # past any timestamp in ms, and exact as a Redis score


class MessageSearchIndex:
    """Queries the postings (writes happen with the records, in `MessageRepository`)."""

    def __init__(
        self,
        conn: Redis,
        keys: Keys,
        *,
        scan_limit: int = 5000,
        bound: int = TOTAL_BOUND,
        walk_limit: int = WALK_LIMIT,
    ) -> None:
        """`scan_limit`: entries of a stored intersection examined per session at most when filtering by
        record fields; `bound`: matches counted exactly at most, over all sessions (past it a session
        stops counting once it has its newest hits); `walk_limit`: entries a session's walk examines
        before it falls back to a stored intersection."""
        self._conn, self._keys, self._scan_limit = conn, keys, scan_limit
        self._bound, self._walk_limit = bound, walk_limit
        self._query = conn.register_script(_QUERY_LUA)

    def query(
        self, session_ids: Iterable[str], words: list[str], filters: SearchFilters, *, newest: int
    ) -> list[SessionHits]:
        """Each session's messages having a token each of `words` begins, with `filters`: their count and
        their `newest` newest ids, by timestamp."""
        sessions = list(session_ids)
        if not sessions or not words:
            return []
        args: list[Any] = [
            0 if filters.lowest is None else filters.lowest,
            _NEVER if filters.highest is None else filters.highest,
            newest,
            self._scan_limit,
            orjson.dumps(filters.type) if filters.type else "",
            orjson.dumps(filters.direction) if filters.direction else "",
            self._bound,
            self._walk_limit,
            len(words),
            *words,
        ]
        for session_id in sessions:
            args += [
                self._keys.search_index(session_id),
                self._keys.message(session_id, ""),
                self._keys.chat_messages(session_id, filters.chat_id) if filters.chat_id else "",
                self._keys.sender_messages(session_id, filters.sender) if filters.sender else "",
            ]
        with translate_redis_errors():
            replies = self._query(keys=[], args=args)
        return [_session_hits(session_id, reply) for session_id, reply in zip(sessions, replies, strict=True)]


def _session_hits(session_id: str, reply: list[Any]) -> SessionHits:
    total, flat = reply
    pairs = [(text(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]
    return SessionHits(session_id, int(total), pairs)
