"""Message search (issue 18): `GET /api/search` over the stored message records, through the index the
records' own writes keep (`functions.state.message_search`), on a real Redis. Inbound records are written
as the runner's inbox writes them (`MessageRepository.create_if_absent`, `update`); outbound ones by the
send route."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from functions.config import Settings
from functions.core.enums import SessionStatus
from functions.state.keys import Keys
from functions.state.messages import MessageRepository
from functions.state.session_data import purge_session, session_keys
from functions.state.sessions import SessionRepository

ANA, BOB, OWN = "15550001111@c.us", "15550002222@c.us", "15550009999@c.us"
GROUP = "120363000000000001@g.us"
Search = Callable[..., dict[str, Any]]


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return Keys(settings.redis_prefix)


@pytest.fixture
def repo(redis_conn: Redis, keys: Keys, settings: Settings) -> MessageRepository:
    """The repository as the session process builds it (same retention as the API's)."""
    return MessageRepository(redis_conn, keys, retention_seconds=settings.message_retention_days * 86_400)


def _session(client: FlaskClient, headers: dict[str, str], name: str) -> str:
    created = client.post("/api/sessions", json={"name": name}, headers=headers)
    assert created.status_code == 201
    return str(created.get_json()["id"])


def _key(client: FlaskClient, admin_headers: dict[str, str], role: str, **extra: Any) -> dict[str, str]:
    created = client.post(
        "/api/auth/api-keys", json={"name": f"{role}-key", "role": role, **extra}, headers=admin_headers
    )
    assert created.status_code == 201
    return {"X-API-Key": created.get_json()["apiKey"]}


def _search_as(client: FlaskClient, headers: dict[str, str]) -> Search:
    def search(**query: Any) -> dict[str, Any]:
        answer = client.get("/api/search", query_string=query, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        body: dict[str, Any] = answer.get_json()
        return body

    return search


@pytest.fixture
def search(client: FlaskClient, admin_headers: dict[str, str]) -> Search:
    return _search_as(client, admin_headers)


def _received(
    repo: MessageRepository,
    session_id: str,
    message_id: str,
    body: str,
    *,
    chat: str = ANA,
    sender: str | None = None,
    kind: str = "text",
    at: int | None = None,
) -> dict[str, Any]:
    """An inbound message recorded as the runner's inbox records one."""
    record = {
        "id": message_id,
        "waMessageId": message_id,
        "sessionId": session_id,
        "chatId": chat,
        "from": sender or chat,
        "to": OWN,
        "body": body,
        "type": kind,
        "direction": "incoming",
        "fromMe": False,
        "timestamp": at if at is not None else int(time.time()),
        "status": "delivered",
        "createdAt": "2026-01-01T00:00:00Z",
    }
    assert repo.create_if_absent(record)
    return record


def _ids(result: dict[str, Any]) -> list[str]:
    return [hit["messageId"] for hit in result["hits"]]


def test_words_are_found_by_prefix_whatever_their_case_accents_or_script(
    client: FlaskClient, admin_headers: dict[str, str], repo: MessageRepository, search: Search
) -> None:
    sid = _session(client, admin_headers, "words")
    _received(repo, sid, "m-cafe", "Meet me at the Café Noir tomorrow?")
    _received(repo, sid, "m-strasse", "Die STRASSE ist gesperrt")
    _received(repo, sid, "m-ru", "Привет, как дела?")
    _received(repo, sid, "m-el", "Καλημέρα σας")
    _received(repo, sid, "m-ja", "東京タワーで会いましょう")
    _received(repo, sid, "m-ar", "مرحبا بالعالم")
    _received(repo, sid, "m-other", "nothing to see here")

    assert _ids(search(q="caf")) == ["m-cafe"]
    assert _ids(search(q="CAFÉ")) == ["m-cafe"]
    assert _ids(search(q="café noi")) == ["m-cafe"]
    assert _ids(search(q="straße")) == ["m-strasse"]
    assert _ids(search(q="привет")) == ["m-ru"]
    assert _ids(search(q="καλημ")) == ["m-el"]
    assert _ids(search(q="東京")) == ["m-ja"]
    assert _ids(search(q="مرح")) == ["m-ar"]
    # Every word must match, each at a word's start.
    assert search(q="café xyz")["hits"] == []
    assert search(q="afé")["hits"] == []
    assert search(q="oir")["hits"] == []


def test_a_hit_is_upstreams_search_hit_for_inbound_and_outbound_messages(
    client: FlaskClient,
    admin_headers: dict[str, str],
    settings: Settings,
    redis_conn: Redis,
    repo: MessageRepository,
    search: Search,
) -> None:
    sid = _session(client, admin_headers, "shapes")
    SessionRepository(redis_conn, Keys(settings.redis_prefix)).update(
        sid, status=SessionStatus.READY, phone="15550009999"
    )
    _received(repo, sid, "m-in", "Is the invoice ready?", at=1_900_000_000)
    sent = client.post(
        f"/api/sessions/{sid}/messages/send-text",
        json={"chatId": ANA, "text": "The invoice is attached"},
        headers=admin_headers,
    )
    assert sent.status_code == 201, sent.get_json()
    sent_id = sent.get_json()["messageId"]

    result = search(q="invoice")

    assert result["total"] == 2
    assert result["provider"] == "builtin-redis"
    assert isinstance(result["tookMs"], int)
    assert result["hits"][0] == {
        "messageId": "m-in",
        "waMessageId": "m-in",
        "sessionId": sid,
        "chatId": ANA,
        "body": "Is the invoice ready?",
        "snippet": "Is the invoice ready?",
        "timestamp": 1_900_000_000,
        "type": "text",
        "direction": "incoming",
        "from": ANA,
    }
    outbound = result["hits"][1]
    assert (outbound["messageId"], outbound["direction"], outbound["from"]) == (sent_id, "outgoing", OWN)
    assert _ids(search(q="invoice", direction="outgoing")) == [sent_id]
    assert _ids(search(q="invoice", **{"from": OWN})) == [sent_id]


def test_filters_narrow_the_hits(
    client: FlaskClient, admin_headers: dict[str, str], repo: MessageRepository, search: Search
) -> None:
    sid = _session(client, admin_headers, "filters")
    now = int(time.time())
    _received(repo, sid, "m-1", "order shipped", chat=ANA, at=now - 300)
    _received(repo, sid, "m-2", "order photo", chat=BOB, kind="image", at=now - 200)
    _received(repo, sid, "m-3", "order late", chat=GROUP, sender=BOB, at=now - 100)
    _received(repo, sid, "m-4", "a sticker", chat=ANA, kind="sticker", at=now - 50)

    assert _ids(search(q="order")) == ["m-3", "m-2", "m-1"]
    assert _ids(search(q="order", chatId=ANA)) == ["m-1"]
    assert _ids(search(q="order", chatId=GROUP, **{"from": BOB})) == ["m-3"]
    assert _ids(search(q="order", **{"from": BOB})) == ["m-3", "m-2"]
    assert _ids(search(q="order", type="image")) == ["m-2"]
    assert search(q="order", type="image")["total"] == 1
    assert _ids(search(q="order", direction="incoming", type="text")) == ["m-3", "m-1"]
    nothing = search(q="order", direction="outgoing")
    assert (nothing["hits"], nothing["total"]) == ([], 0)
    assert _ids(search(q="order", dateFrom=(now - 250) * 1000, dateTo=(now - 150) * 1000)) == ["m-2"]
    assert _ids(search(q="order", dateFrom=(now - 200) * 1000)) == ["m-3", "m-2"]
    assert _ids(search(q="order", sessionId=sid)) == ["m-3", "m-2", "m-1"]
    assert search(q="order", sessionId="another")["hits"] == []
    # A sticker's body is not text anyone wrote: not indexed.
    assert search(q="sticker")["hits"] == []


def test_a_prefix_standing_for_several_words_counts_each_message_once(
    client: FlaskClient, admin_headers: dict[str, str], repo: MessageRepository, search: Search
) -> None:
    sid = _session(client, admin_headers, "prefixes")
    now = int(time.time())
    _received(repo, sid, "m-1", "plan the planet trip", chat=ANA, at=now - 50)
    _received(repo, sid, "m-2", "planning again", chat=BOB, at=now - 40)
    for n in range(5):
        _received(repo, sid, f"m-plan-{n}", f"plan {n}", chat=BOB, at=now - 30 + n)
    _received(repo, sid, "m-3", "planets and trips", chat=ANA, at=now - 10)

    every = search(q="plan")
    assert every["total"] == 8
    assert _ids(every)[:3] == ["m-3", "m-plan-4", "m-plan-3"]
    assert _ids(search(q="plan", limit=3, offset=6)) == ["m-2", "m-1"]
    assert _ids(search(q="planet")) == ["m-3", "m-1"]
    assert _ids(search(q="plan trip")) == ["m-3", "m-1"]
    assert _ids(search(q="trip plan", chatId=ANA)) == ["m-3", "m-1"]
    assert _ids(search(q="plan", chatId=ANA)) == ["m-3", "m-1"]
    assert _ids(search(q="plan", chatId=BOB, limit=2)) == ["m-plan-4", "m-plan-3"]
    assert search(q="plan", chatId=BOB)["total"] == 6
    assert search(q="pla agai")["total"] == 1


def test_pages_go_newest_first_across_sessions(
    client: FlaskClient, admin_headers: dict[str, str], repo: MessageRepository, search: Search
) -> None:
    first, second = _session(client, admin_headers, "one"), _session(client, admin_headers, "two")
    now = int(time.time())
    for n in range(6):
        _received(repo, first if n % 2 else second, f"m-{n}", f"reminder number {n}", at=now - 100 + n)

    pages = [search(q="remind", limit=4, offset=offset) for offset in (0, 4, 8)]

    assert [_ids(page) for page in pages] == [["m-5", "m-4", "m-3", "m-2"], ["m-1", "m-0"], []]
    assert {page["total"] for page in pages} == {6}
    assert [hit["sessionId"] for hit in pages[0]["hits"]] == [first, second, first, second]


def test_an_edited_message_is_found_by_its_new_text_and_a_revoked_one_is_not_found(
    client: FlaskClient, admin_headers: dict[str, str], repo: MessageRepository, search: Search
) -> None:
    sid = _session(client, admin_headers, "changes")
    _received(repo, sid, "m-edit", "see you at nine")
    _received(repo, sid, "m-revoke", "secret plan at nine")
    _received(repo, sid, "m-mine", "only for me at nine")

    repo.update(sid, "m-edit", body="see you at ten", editedAt="2026-01-01T00:00:01Z")
    repo.update(sid, "m-revoke", type="revoked", body="", revokedAt="2026-01-01T00:00:01Z")
    repo.update(sid, "m-mine", deletedForMe=True)
    repo.update(sid, "m-edit", starred=True)  # a change that is not about the text keeps it found

    assert _ids(search(q="ten")) == ["m-edit"]
    assert _ids(search(q="nine")) == []
    assert search(q="secret")["hits"] == []
    assert search(q="only")["hits"] == []


def test_a_deleted_chat_takes_its_postings_along(
    client: FlaskClient,
    admin_headers: dict[str, str],
    repo: MessageRepository,
    keys: Keys,
    redis_conn: Redis,
    search: Search,
) -> None:
    sid = _session(client, admin_headers, "chat-gone")
    _received(repo, sid, "m-ana", "lunch today", chat=ANA)
    _received(repo, sid, "m-bob", "lunch tomorrow", chat=BOB)

    repo.delete_chat(sid, ANA)

    assert _ids(search(q="lunch")) == ["m-bob"]
    assert redis_conn.zrange(f"{keys.search_index(sid)}:w:lunch", 0, -1) == [b"m-bob"]


def test_postings_keep_to_the_retention(
    client: FlaskClient,
    admin_headers: dict[str, str],
    settings: Settings,
    repo: MessageRepository,
    keys: Keys,
    redis_conn: Redis,
    search: Search,
) -> None:
    sid = _session(client, admin_headers, "retention")
    retention = settings.message_retention_days * 86_400
    now = int(time.time())
    _received(repo, sid, "m-old", "archive note", at=now - retention - 60)
    assert _ids(search(q="archive")) == []  # older than the retention: not searched
    _received(repo, sid, "m-new", "archive entry", at=now)

    posting = f"{keys.search_index(sid)}:w:archive"
    assert redis_conn.zrange(posting, 0, -1) == [b"m-new"]  # the old entry trimmed by the next write
    assert 0 < redis_conn.ttl(posting) <= retention
    assert 0 < redis_conn.ttl(f"{keys.search_index(sid)}:words") <= retention
    assert _ids(search(q="archive")) == ["m-new"]

    redis_conn.delete(posting)  # expired: the dictionary entry goes at the next query
    assert search(q="archive")["hits"] == []
    assert redis_conn.zscore(f"{keys.search_index(sid)}:words", "archive") is None


def test_a_deleted_sessions_postings_are_purged(
    client: FlaskClient,
    admin_headers: dict[str, str],
    repo: MessageRepository,
    keys: Keys,
    redis_conn: Redis,
    search: Search,
) -> None:
    sid = _session(client, admin_headers, "doomed")
    keep = _session(client, admin_headers, "kept")
    _received(repo, sid, "m-1", "farewell party")
    _received(repo, keep, "m-2", "farewell card")
    assert any(":search:" in name for name in session_keys(redis_conn, keys, sid))

    assert client.delete(f"/api/sessions/{sid}", headers=admin_headers).status_code == 204
    assert _ids(search(q="farewell")) == ["m-2"]  # a deleted session is not searched
    purge_session(redis_conn, keys, sid)  # what the session purge job runs

    assert session_keys(redis_conn, keys, sid) == []
    assert not list(redis_conn.scan_iter(match=f"{keys.search_index(sid)}*"))
    assert list(redis_conn.scan_iter(match=f"{keys.search_index(keep)}:w:*"))


def test_a_scoped_key_never_sees_another_sessions_hits(
    client: FlaskClient, admin_headers: dict[str, str], repo: MessageRepository
) -> None:
    mine, theirs = _session(client, admin_headers, "mine"), _session(client, admin_headers, "theirs")
    _received(repo, mine, "m-mine", "quarterly report")
    _received(repo, theirs, "m-theirs", "quarterly report")
    scoped = _search_as(client, _key(client, admin_headers, "operator", allowedSessions=[mine]))

    assert _ids(scoped(q="quarterly")) == ["m-mine"]
    assert scoped(q="quarterly")["total"] == 1
    elsewhere = scoped(q="quarterly", sessionId=theirs)
    assert (elsewhere["hits"], elsewhere["total"]) == ([], 0)
    viewer = _key(client, admin_headers, "viewer")
    refused = client.get("/api/search", query_string={"q": "quarterly"}, headers=viewer)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "FORBIDDEN")
    assert client.get("/api/search", query_string={"q": "quarterly"}).status_code == 401


def test_a_query_reads_postings_never_scans_keys(
    client: FlaskClient,
    admin_headers: dict[str, str],
    repo: MessageRepository,
    redis_conn: Redis,
    search: Search,
) -> None:
    sid = _session(client, admin_headers, "no-scan")
    for n in range(50):
        _received(repo, sid, f"m-{n}", f"status update {n}")
    redis_conn.config_resetstat()

    assert search(q="upd", limit=5)["total"] == 50

    commands = redis_conn.info("commandstats")
    assert not {name for name in commands if name.split("_")[-1] in {"scan", "keys", "hgetall"}} - {
        "cmdstat_hgetall"
    }
    assert commands.get("cmdstat_hgetall", {}).get("calls", 0) <= 5  # the page's records only


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "?!"},
        {"q": "a b c d e f g h i"},
        {"q": "x" * 257},
        {"q": "hi", "limit": 101},
        {"q": "hi", "limit": 0},
        {"q": "hi", "offset": -1},
        {"q": "hi", "offset": 10_001},
        {"q": "hi", "dateFrom": "yesterday"},
        {"q": "hi", "dateTo": -5},
        {"q": "hi", "dateFrom": 2000, "dateTo": 1000},
        {"q": "hi", "type": "gif"},
        {"q": "hi", "direction": "sideways"},
        {"q": "hi", "chatId": "not-a-chat"},
        {"q": "hi", "from": "nobody"},
    ],
)
def test_bad_queries_are_400_with_a_code_and_change_nothing(
    client: FlaskClient, admin_headers: dict[str, str], redis_conn: Redis, query: dict[str, Any]
) -> None:
    _session(client, admin_headers, "bad")
    before = sorted(redis_conn.keys("*"))

    answer = client.get("/api/search", query_string=query, headers=admin_headers)

    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["code"] == "VALIDATION_ERROR"
    assert sorted(redis_conn.keys("*")) == before
