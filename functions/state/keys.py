"""The Redis key layout, in one place.

| key                                   | type   | holds                                              |
|---------------------------------------|--------|----------------------------------------------------|
| `<p>:session:<id>`                    | string | one session, a JSON document                       |
| `<p>:sessions`                        | zset   | session ids scored by creation time (ms)           |
| `<p>:session-names`                   | hash   | session name -> id (uniqueness, lookup by name)    |
| `<p>:lease:session:<id>`              | string | `<runnerId>|<generation>` holding the session (PX) |
| `<p>:lease-generation:session:<id>`   | string | fencing counter, +1 on every lease claim           |
| `<p>:runner:<runnerId>`               | string | a live runner's heartbeat, JSON (PX)               |
| `<p>:runners`                         | zset   | runner ids by last heartbeat (ms)                  |
| `<p>:runner-drain:<runnerId>`         | string | a drain request for that runner (EX 1 h)           |
| `<p>:apikey:<id>`                     | hash   | one API key record; each field a JSON value        |
| `<p>:apikeys`                         | zset   | key ids scored by creation time (ms)               |
| `<p>:apikey-hashes`                   | hash   | key hash -> key id (authentication lookup)         |
| `<p>:lock:apikeys`                    | string | lock serialising changes that may drop the last admin |
| `<p>:apikeys:changed`                 | pubsub | a key id, on every write to that key (auth caches) |
| `<p>:webhook:<id>`                    | hash   | one webhook config; each field a JSON value        |
| `<p>:session:<id>:webhooks`           | zset   | webhook ids of a session by creation time          |
| `<p>:webhooks`                        | zset   | every webhook id by creation time (cross-session)  |
| `<p>:session:<id>:events`             | stream | the session's events, capped (EVENT_STREAM_MAXLEN) |
| `<p>:events`                          | stream | every session's events, capped (`/api/events`)     |
| `<p>:events:pending`                  | zset   | `<sid> <eventId>` not yet fanned out, by time (ms) |
| `<p>:delivery:<id>`                   | hash   | one webhook delivery: body bytes, state, attempt   |
| `<p>:delivery:<id>:attempts`          | list   | that delivery's attempts, JSON, oldest first       |
| `<p>:webhook:<id>:attempts`           | list   | the webhook's last attempts, JSON, newest first    |
| `<p>:deliveries:inflight`             | zset   | `<deliveryId>:<attempt>` running, by deadline (ms) |
| `<p>:delivery-failures`               | zset   | dead-lettered delivery ids by time (ms)            |
| `<p>:lock:webhook-maintenance`        | string | one worker sweeps and reconciles per interval      |
| `<p>:audit`                           | stream | audit entries, capped by count and age             |
| `<p>:audit:sample:<digest>`           | string | auth failure audited for this key prefix+IP (EX 60)|
| `<p>:metrics:<name>`                  | hash   | one metric's counts (`functions.state.metrics`)    |
| `<p>:message-stats:<YYYY-MM-DD>`      | hash   | messages `sent`/`received` that UTC day (3 d TTL)  |
| `<p>:message:<sid>:<messageId>`       | hash   | one message record; each field a JSON value (TTL)  |
| `<p>:message-key:<sid>:<ID>`          | string | the record id of bare WhatsApp id `<ID>` (TTL)     |
| `<p>:session:<sid>:messages`          | zset   | message ids by timestamp (ms), trimmed by retention |
| `<p>:session:<sid>:chat:<chat>:msgs`  | zset   | the same, one chat                                 |
| `<p>:session:<sid>:from:<jid>:msgs`   | zset   | the same, one sender                               |
| `<p>:session:<sid>:holds`             | zset   | sends waiting for the session, by acceptance number |
| `<p>:session:<sid>:send-seq`          | string | the session's last acceptance number (INCR, TTL)   |
| `<p>:idempotency:<sid>:<sha256>`      | string | the first answer to an Idempotency-Key (24 h)      |
| `<p>:pacing:<sid>`                    | hash   | send pacing: day, sent, cold, failures, openUntil  |
| `<p>:pacing:<sid>:chats`              | set    | chats this session has sent to (not cold any more) |
| `<p>:pacing-phone:<phone>`            | string | UTC day the phone was first seen (account age)     |
| `<p>:batch:<sid>:<batchId>`           | hash   | one bulk batch; each field a JSON value (TTL)      |
| `<p>:template:<sid>:<templateId>`     | string | one message template, JSON (`state.templates`)     |
| `<p>:session:<sid>:templates`         | zset   | the session's template ids by creation (ms)        |
| `<p>:session:<sid>:template-names`    | hash   | template name -> id (unique per session)           |
| `<p>:story:<sid>:<statusId>`          | string | one received story, JSON (PX: until it expires)    |
| `<p>:session:<sid>:stories`           | zset   | the session's stored story ids by expiry (ms)      |
| `<p>:automation-rule:<sid>:<ruleId>`  | string | one auto-reply rule, JSON (`automation_rules`)     |
| `<p>:session:<sid>:automation-rules`  | zset   | the session's rule ids by creation (ms)            |
| `<p>:auto-reply-cooldown:<sid>:<ruleId>:<chat>` | string | message a rule answered there (EX) |
| `<p>:message-activity:hour:<hour>`    | hash   | message counts that UTC hour (`message_activity`)  |
| `<p>:message-activity:day:<day>`      | hash   | the same, that UTC day (31 d TTL)                  |
| `<p>:message-activity:chats:<day>`    | zset   | `<sid> <chatId>` -> messages that day (trimmed)    |
| `<p>:session:<sid>:message-totals`    | hash   | the session's messages sent/received/failed ever   |
| `<p>:session:<sid>:top-chats`         | zset   | chat -> messages, its busiest chats (trimmed)      |
| `<p>:session:<sid>:chat-last`         | zset   | chat -> last message time (ms; trimmed)            |
| `<p>:search:<sid>:w:<token>`          | zset   | message ids having the word, by timestamp (ms, TTL) |
| `<p>:search:<sid>:words`              | zset   | the session's indexed words, for prefixes (TTL)    |
| `<p>:runner:wake`                     | pubsub | nudges runners to reconcile desired state now      |
| `<p>:limits:*`                        | —      | flask-limiter counters (its own layout)            |

RQ keeps its own `rq:*` keys (queues `session:<id>` and `webhooks`). Next to the `webhooks` queue,
`functions.queueing` keeps its ready list of deliveries (`rq:queue:webhooks:ready`, `<deliveryId>:<attempt>`)
the flag saying a drain job is waiting (`rq:queue:webhooks:wake`, PX) and the bell waking a lingering one
(`rq:queue:webhooks:bell`, at most two tokens).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Builds every key name from the configured prefix."""

    prefix: str

    def session(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}"

    @property
    def sessions(self) -> str:
        return f"{self.prefix}:sessions"

    @property
    def session_names(self) -> str:
        return f"{self.prefix}:session-names"

    def session_lease(self, session_id: str) -> str:
        return f"{self.prefix}:lease:session:{session_id}"

    def session_lease_generation(self, session_id: str) -> str:
        return f"{self.prefix}:lease-generation:session:{session_id}"

    def runner(self, runner_id: str) -> str:
        return f"{self.prefix}:runner:{runner_id}"

    @property
    def runners(self) -> str:
        return f"{self.prefix}:runners"

    def runner_drain(self, runner_id: str) -> str:
        return f"{self.prefix}:runner-drain:{runner_id}"

    @property
    def api_keys(self) -> str:
        return f"{self.prefix}:apikeys"

    @property
    def api_key_hashes(self) -> str:
        return f"{self.prefix}:apikey-hashes"

    @property
    def api_keys_lock(self) -> str:
        return f"{self.prefix}:lock:apikeys"

    @property
    def api_keys_changed(self) -> str:
        return f"{self.prefix}:apikeys:changed"

    def webhook(self, webhook_id: str) -> str:
        return f"{self.prefix}:webhook:{webhook_id}"

    def session_webhooks(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:webhooks"

    @property
    def webhooks(self) -> str:
        return f"{self.prefix}:webhooks"

    def session_events(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:events"

    @property
    def all_events(self) -> str:
        return f"{self.prefix}:events"

    @property
    def open_streams(self) -> str:
        """ZSET of the event streams open on every API process: stream tokens, scored by lease end."""
        return f"{self.prefix}:open-streams"

    def key_open_streams(self, key_id: str) -> str:
        """ZSET of one API key's open event streams (as `open_streams`)."""
        return f"{self.prefix}:open-streams:key:{key_id}"

    @property
    def events_pending(self) -> str:
        return f"{self.prefix}:events:pending"

    def delivery(self, delivery_id: str) -> str:
        return f"{self.prefix}:delivery:{delivery_id}"

    def delivery_attempts(self, delivery_id: str) -> str:
        return f"{self.prefix}:delivery:{delivery_id}:attempts"

    def webhook_attempts(self, webhook_id: str) -> str:
        return f"{self.prefix}:webhook:{webhook_id}:attempts"

    @property
    def deliveries_inflight(self) -> str:
        return f"{self.prefix}:deliveries:inflight"

    @property
    def delivery_failures(self) -> str:
        return f"{self.prefix}:delivery-failures"

    @property
    def webhook_maintenance_lock(self) -> str:
        return f"{self.prefix}:lock:webhook-maintenance"

    @property
    def audit(self) -> str:
        return f"{self.prefix}:audit"

    def audit_sample(self, digest: str) -> str:
        return f"{self.prefix}:audit:sample:{digest}"

    def metric(self, name: str) -> str:
        return f"{self.prefix}:metrics:{name}"

    def message_stats(self, day: str) -> str:
        """Per-UTC-day message counters; `day` is `YYYY-MM-DD`."""
        return f"{self.prefix}:message-stats:{day}"

    @property
    def limits_prefix(self) -> str:
        return f"{self.prefix}:limits"

    def message(self, session_id: str, message_id: str) -> str:
        return f"{self.prefix}:message:{session_id}:{message_id}"

    def message_key(self, session_id: str, bare_id: str) -> str:
        """The record id of the message WhatsApp knows by the bare id `bare_id` (`3EB0...`), whatever the
        remote (`@c.us`, `@lid`) or participant WhatsApp reports it under."""
        return f"{self.prefix}:message-key:{session_id}:{bare_id}"

    def session_messages(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:messages"

    def chat_messages(self, session_id: str, chat_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:chat:{chat_id}:msgs"

    def sender_messages(self, session_id: str, sender: str) -> str:
        return f"{self.prefix}:session:{session_id}:from:{sender}:msgs"

    def media_pending(self, session_id: str) -> str:
        """SET of the ids of received messages whose media is not stored yet (storage was down)."""
        return f"{self.prefix}:session:{session_id}:media-pending"

    def held_messages(self, session_id: str) -> str:
        """Sends waiting for the session to be ready: a sorted set scored by acceptance order."""
        return f"{self.prefix}:session:{session_id}:holds"

    def held_off_queue(self, session_id: str) -> str:
        """The held sends that the session process took off its queue (the rest were held by the API before
        ever being queued): a sorted set like `held_messages`, always a subset of it."""
        return f"{self.prefix}:session:{session_id}:holds:off-queue"

    def send_sequence(self, session_id: str) -> str:
        """The session's acceptance counter: each send accepted now takes the next number."""
        return f"{self.prefix}:session:{session_id}:send-seq"

    def idempotency(self, session_id: str, digest: str) -> str:
        return f"{self.prefix}:idempotency:{session_id}:{digest}"

    def pacing(self, session_id: str) -> str:
        return f"{self.prefix}:pacing:{session_id}"

    def pacing_chats(self, session_id: str) -> str:
        return f"{self.prefix}:pacing:{session_id}:chats"

    def pacing_phone(self, phone: str) -> str:
        return f"{self.prefix}:pacing-phone:{phone}"

    def batch(self, session_id: str, batch_id: str) -> str:
        return f"{self.prefix}:batch:{session_id}:{batch_id}"

    def template(self, session_id: str, template_id: str) -> str:
        return f"{self.prefix}:template:{session_id}:{template_id}"

    def session_templates(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:templates"

    def template_names(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:template-names"

    def story(self, session_id: str, status_id: str) -> str:
        return f"{self.prefix}:story:{session_id}:{status_id}"

    def session_stories(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:stories"

    def automation_rule(self, session_id: str, rule_id: str) -> str:
        return f"{self.prefix}:automation-rule:{session_id}:{rule_id}"

    def session_automation_rules(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:automation-rules"

    def auto_reply_cooldown(self, session_id: str, rule_id: str, chat_id: str) -> str:
        return f"{self.prefix}:auto-reply-cooldown:{session_id}:{rule_id}:{chat_id}"

    def message_activity_hour(self, hour: str) -> str:
        """Message counts of one UTC hour; `hour` is `YYYY-MM-DDTHH`."""
        return f"{self.prefix}:message-activity:hour:{hour}"

    def message_activity_day(self, day: str) -> str:
        return f"{self.prefix}:message-activity:day:{day}"

    def message_activity_chats(self, day: str) -> str:
        return f"{self.prefix}:message-activity:chats:{day}"

    def session_message_totals(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:message-totals"

    def session_top_chats(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:top-chats"

    def session_chat_last(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:chat-last"

    def search_index(self, session_id: str) -> str:
        """The head of the session's search index keys (`functions.state.message_search`): `<head>:w:<token>`
        postings and the `<head>:words` dictionary. The session id is a segment, so a purge finds them."""
        return f"{self.prefix}:search:{session_id}"
