"""The Redis key layout, in one place.

| key                                   | type   | holds                                              |
|---------------------------------------|--------|----------------------------------------------------|
| `<p>:session:<id>`                    | string | one session, a JSON document                       |
| `<p>:sessions`                        | zset   | session ids scored by creation time (ms)           |
| `<p>:session-names`                   | hash   | session name -> id (uniqueness, lookup by name)    |
| `<p>:lease:session:<id>`              | string | runner id holding the session (runner issue; PX)   |
| `<p>:apikey:<id>`                     | hash   | one API key record; each field a JSON value        |
| `<p>:apikeys`                         | zset   | key ids scored by creation time (ms)               |
| `<p>:apikey-hashes`                   | hash   | key hash -> key id (authentication lookup)         |
| `<p>:lock:apikeys`                    | string | lock serialising changes that may drop the last admin |
| `<p>:webhook:<id>`                    | hash   | one webhook config; each field a JSON value        |
| `<p>:session:<id>:webhooks`           | zset   | webhook ids of a session by creation time          |
| `<p>:audit`                           | stream | audit entries, capped by count and age             |
| `<p>:runner:wake`                     | pubsub | nudges runners to reconcile desired state now      |
| `<p>:limits:*`                        | —      | flask-limiter counters (its own layout)            |

RQ keeps its own `rq:*` keys (queues `session:<id>` and `webhooks`).
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

    @property
    def api_keys(self) -> str:
        return f"{self.prefix}:apikeys"

    @property
    def api_key_hashes(self) -> str:
        return f"{self.prefix}:apikey-hashes"

    @property
    def api_keys_lock(self) -> str:
        return f"{self.prefix}:lock:apikeys"

    def webhook(self, webhook_id: str) -> str:
        return f"{self.prefix}:webhook:{webhook_id}"

    def session_webhooks(self, session_id: str) -> str:
        return f"{self.prefix}:session:{session_id}:webhooks"

    @property
    def audit(self) -> str:
        return f"{self.prefix}:audit"

    @property
    def limits_prefix(self) -> str:
        return f"{self.prefix}:limits"
