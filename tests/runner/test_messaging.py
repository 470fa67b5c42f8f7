"""Messaging stories through the OpenWA SDK: a linked session on a real runner and the sandbox.

Alice's account is the session; Bob and Carol are phones on the sandbox network. Every send is checked in
the receiving phone's inbox (what WhatsApp delivered), every inbound message in our stored records.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from openwa import OpenWAClient
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from functions.cli.redis_server import free_port
from functions.queueing import enqueue_send, session_queue
from functions.state.keys import Keys
from functions.state.messages import MessageRepository
from tests.runner.conftest import MEDIA_MAX_BYTES, Stack, wait_for
from tests.runner.test_session_lifecycle import raw_qr, wait_status

pytestmark = pytest.mark.e2e

ALICE, BOB, CAROL = "15550001111", "15550002222", "15550003333"
BOB_CHAT = f"{BOB}@c.us"
# A 1x1 PNG: its signature lets the gateway sniff image/png whatever the client claims.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Linked:
    stack: Stack
    client: OpenWAClient
    session_id: str

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.stack.api_url, headers={"X-API-Key": self.stack.master_key}, timeout=20.0
        )

    def inbox(self, number: str, chat: str | None = None) -> list[dict[str, Any]]:
        params = {"chat": chat} if chat else None
        found: list[dict[str, Any]] = self.stack.control("GET", f"/phones/{number}/messages", params=params)
        return found

    def delivered(self, number: str, message_id: str) -> dict[str, Any]:
        """The message as phone `number` received it (its id ends with our message's key)."""
        key = message_id.rsplit("_", 1)[1]

        def probe() -> dict[str, Any] | None:
            return next((m for m in self.inbox(number) if m["id"].endswith(key)), None)

        found: dict[str, Any] = wait_for(probe, 20, f"{message_id} in {number}'s inbox")
        return found

    def record(self, message_id: str) -> dict[str, Any]:
        chat = message_id.split("_")[1]
        with self.http() as http:
            response = http.get(f"/api/sessions/{self.session_id}/messages/{chat}/{message_id}")
        response.raise_for_status()
        record: dict[str, Any] = response.json()
        return record


def link_alice(stack: Stack, session_name: str, number: str = ALICE) -> Linked:
    """A new session, started on the runner already running and linked to Alice's phone (`number`) by its
    QR."""
    client = stack.client()
    session_id = client.sessions.create({"name": session_name})["id"]
    client.sessions.start(session_id)
    wait_status(client, session_id, "qr_ready")
    stack.control("POST", f"/phones/{number}/link", json={"qr": raw_qr(stack, session_id)})
    wait_status(client, session_id, "ready")
    return Linked(stack, client, session_id)


@pytest.fixture(scope="module")
def linked(stack: Stack) -> Iterator[Linked]:
    """One linked session (Alice) for the whole module, with Bob and Carol on the network."""
    stack.reset()
    for number, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-msg")
    yield link_alice(stack, "alice-messages")
    stack.stop_runners()


@pytest.fixture(scope="module")
def media_server() -> Iterator[str]:
    """A local HTTP server with a PDF at /doc.pdf and an oversized body at /big.bin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = {"/doc.pdf": PDF, "/big.bin": b"\0" * (MEDIA_MAX_BYTES + 1)}.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/octet-stream")  # sniffing must find the PDF
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_send_text_answers_at_once_then_reaches_the_phone_and_moves_to_read(linked: Linked) -> None:
    accepted = linked.client.messages.send_text(linked.session_id, {"chatId": BOB, "text": "hello Bob"})
    assert set(accepted) == {"messageId", "timestamp"}
    assert accepted["messageId"].startswith(f"true_{BOB_CHAT}_3EB0")
    got = linked.delivered(BOB, accepted["messageId"])
    assert got["body"] == "hello Bob"
    wait_for(lambda: linked.record(accepted["messageId"])["status"] in ("sent", "delivered"), 10, "sent")
    key = accepted["messageId"].rsplit("_", 1)[1]

    def own_ack() -> int:
        """The ack of the message on Alice's (the sender's) phone: what the network says happened."""
        mine = linked.stack.control("GET", f"/phones/{ALICE}/messages", params={"all": "1"})
        [own] = [m for m in mine if m["id"].endswith(key)]
        assert own["fromMe"] is True
        return int(own["ack"])

    # Bob's phone has it but has not read it: neither the network nor the gateway may say "read" yet.
    wait_for(lambda: linked.record(accepted["messageId"])["status"] == "delivered", 10, "delivered")
    assert own_ack() == 2

    linked.stack.control("POST", f"/phones/{BOB}/read", json={"chat": f"{ALICE}@c.us"})
    wait_for(lambda: linked.record(accepted["messageId"])["status"] == "read", 10, "read status")
    # The read the gateway reports is the one the network saw: ack 3 on Alice's (the sender's) side.
    assert own_ack() == 3
    assert linked.record(accepted["messageId"])["ack"] == 3
    published = [
        (name, data)
        for name, data in linked.stack.events(linked.session_id)
        if data.get("id") == accepted["messageId"]
    ]
    assert [name for name, _ in published].count("message.sent") == 1
    acks = [data for name, data in published if name == "message.ack"]
    assert (acks[-1]["ack"], acks[-1]["status"]) == (3, "read")
    assert [data["ack"] for data in acks] == sorted(data["ack"] for data in acks)  # never moves back


def test_same_idempotency_key_sends_once_and_a_different_body_is_422(linked: Linked) -> None:
    body = {"chatId": BOB_CHAT, "text": "only once"}
    first = linked.client.messages.send_text(linked.session_id, body, idempotency_key="order-42")
    again = linked.client.messages.send_text(linked.session_id, body, idempotency_key="order-42")
    assert again == first
    linked.delivered(BOB, first["messageId"])
    wait_for(lambda: linked.record(first["messageId"])["status"] != "pending", 10, "the send")
    assert [m["body"] for m in linked.inbox(BOB)].count("only once") == 1
    with linked.http() as http:
        response = http.post(
            f"/api/sessions/{linked.session_id}/messages/send-text",
            json={"chatId": BOB_CHAT, "text": "something else"},
            headers={"Idempotency-Key": "order-42"},
        )
    assert response.status_code == 422
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_image_by_base64_and_document_by_url_arrive_with_equal_bytes(
    linked: Linked, media_server: str
) -> None:
    image = linked.client.messages.send_image(
        linked.session_id,
        {"chatId": BOB, "base64": base64.b64encode(PNG).decode(), "mimetype": "image/jpeg", "caption": "dot"},
    )
    document = linked.client.messages.send_document(
        linked.session_id, {"chatId": BOB, "url": f"{media_server}/doc.pdf", "filename": "terms.pdf"}
    )
    got_image = linked.delivered(BOB, image["messageId"])
    assert base64.b64decode(got_image["media"]["base64"]) == PNG
    assert (got_image["media"]["mimetype"], got_image["caption"]) == ("image/png", "dot")  # sniffed
    got_doc = linked.delivered(BOB, document["messageId"])
    assert base64.b64decode(got_doc["media"]["base64"]) == PDF
    assert (got_doc["media"]["mimetype"], got_doc["media"]["filename"]) == ("application/pdf", "terms.pdf")
    record = linked.record(image["messageId"])
    assert record["mediaPath"] == f"media/{linked.session_id}/{image['messageId']}"
    assert httpx.get(record["media"]["url"], timeout=10).content == PNG


def test_location_contact_poll_reply_and_forward(linked: Linked) -> None:
    sid, messages = linked.session_id, linked.client.messages
    location = messages.send_location(
        sid,
        {"chatId": BOB, "latitude": 52.37, "longitude": 4.89, "description": "Dam", "address": "Amsterdam"},
    )
    contact = messages.send_contact(
        sid, {"chatId": BOB, "contactName": "Carol", "contactNumber": f"+{CAROL}"}
    )
    poll = messages.send_poll(sid, {"chatId": BOB, "name": "Lunch?", "options": ["Pizza", "Sushi"]})
    original = messages.send_text(sid, {"chatId": BOB, "text": "quote me"})
    reply = messages.reply(sid, {"chatId": BOB, "quotedMessageId": original["messageId"], "text": "quoted"})
    forward = messages.forward(
        sid, {"fromChatId": BOB, "toChatId": f"{CAROL}@c.us", "messageId": original["messageId"]}
    )

    got = linked.delivered(BOB, location["messageId"])
    assert (got["type"], got["lat"], got["lng"]) == ("location", 52.37, 4.89)
    got = linked.delivered(BOB, contact["messageId"])
    assert got["type"] == "vcard"
    assert f"waid={CAROL}" in got["body"]
    got = linked.delivered(BOB, poll["messageId"])
    assert (got["pollName"], [o["name"] for o in got["pollOptions"]]) == ("Lunch?", ["Pizza", "Sushi"])
    got = linked.delivered(BOB, reply["messageId"])
    assert str(got["quotedId"]).endswith(original["messageId"].rsplit("_", 1)[1])
    wait_for(lambda: linked.record(forward["messageId"])["status"] == "sent", 20, "the forward")
    assert [m["body"] for m in linked.inbox(CAROL) if m.get("forwarded")] == ["quote me"]


def test_inbound_text_and_media_become_records_with_working_media_urls(linked: Linked) -> None:
    stack = linked.stack
    stack.control("POST", f"/phones/{BOB}/messages", json={"to": f"{ALICE}@c.us", "text": "hi Alice"})
    media = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png", "filename": "dot.png"}
    stack.control("POST", f"/phones/{BOB}/messages", json={"to": f"{ALICE}@c.us", "media": media})

    def inbound() -> list[dict[str, Any]]:
        page = linked.client.messages.list(linked.session_id, {"chatId": BOB_CHAT, "limit": 100})
        return [m for m in page["messages"] if m["direction"] == "incoming"]

    records = wait_for(lambda: (found := inbound()) and len(found) >= 2 and found, 20, "two inbound records")
    assert [r["type"] for r in records[:2]] == ["image", "text"]  # newest first
    image, text = records[0], records[1]
    assert (text["body"], text["from"]) == ("hi Alice", BOB_CHAT)
    assert (image["type"], image["media"]["mimetype"]) == ("image", "image/png")
    assert httpx.get(image["media"]["url"], timeout=10).content == PNG
    received = [d for name, d in stack.events(linked.session_id) if name == "message.received"]
    assert all("base64" not in d.get("media", {}) and "data" not in d.get("media", {}) for d in received)
    assert any(d.get("media", {}).get("url") for d in received)


@pytest.mark.parametrize(
    ("route", "body", "status", "code"),
    [
        ("send-text", {"chatId": "not-a-chat", "text": "x"}, 400, "VALIDATION_ERROR"),
        ("send-text", {"chatId": BOB, "text": "x", "colour": "red"}, 400, "VALIDATION_ERROR"),
        (
            "send-image",
            {"chatId": BOB, "url": "http://127.0.0.1/x.png", "base64": "AAAA"},
            400,
            "VALIDATION_ERROR",
        ),
        ("send-image", {"chatId": BOB, "url": "http://10.1.2.3/x.png"}, 400, "MEDIA_URL_REFUSED"),
        (
            "send-image",
            {"chatId": BOB, "base64": "not base64!", "mimetype": "image/png"},
            400,
            "INVALID_MEDIA",
        ),
    ],
)
def test_bad_sends_get_a_clear_4xx_and_send_nothing(
    linked: Linked, route: str, body: dict[str, Any], status: int, code: str
) -> None:
    before = len(linked.inbox(BOB))
    with linked.http() as http:
        response = http.post(f"/api/sessions/{linked.session_id}/messages/{route}", json=body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    if code == "VALIDATION_ERROR":
        assert response.json()["details"], "the error names the field"
    assert len(linked.inbox(BOB)) == before


def test_oversized_media_is_413_by_base64_and_by_url(linked: Linked, media_server: str) -> None:
    big = base64.b64encode(b"\0" * (MEDIA_MAX_BYTES + 1)).decode()
    with linked.http() as http:
        by_base64 = http.post(
            f"/api/sessions/{linked.session_id}/messages/send-document",
            json={"chatId": BOB, "base64": big, "mimetype": "application/octet-stream"},
        )
        by_url = http.post(
            f"/api/sessions/{linked.session_id}/messages/send-document",
            json={"chatId": BOB, "url": f"{media_server}/big.bin"},
        )
    assert (by_base64.status_code, by_base64.json()["code"]) == (413, "MEDIA_TOO_LARGE")
    assert (by_url.status_code, by_url.json()["code"]) == (413, "MEDIA_TOO_LARGE")


def test_send_to_an_unready_session_is_409_unless_queued(linked: Linked) -> None:
    other = linked.client.sessions.create({"name": "not-started"})["id"]
    with linked.http() as http:
        refused = http.post(
            f"/api/sessions/{other}/messages/send-text", json={"chatId": BOB, "text": "too early"}
        )
        queued = http.post(
            f"/api/sessions/{other}/messages/send-text", json={"chatId": BOB, "text": "later", "queue": True}
        )
    assert (refused.status_code, refused.json()["code"]) == (409, "SESSION_NOT_READY")
    assert queued.status_code == 201
    with linked.http() as http:
        record = http.get(f"/api/sessions/{other}/messages/{BOB_CHAT}/{queued.json()['messageId']}").json()
    assert record["status"] == "pending"


def test_a_send_taken_while_earlier_sends_are_held_goes_out_behind_them(linked: Linked) -> None:
    """The window between the session process holding a send it found unready (A) and the session being
    ready again while a send accepted after A (B) is still queued: B must not overtake A. A is held as
    the process holds a send it took off its queue; B's job is then queued on the ready session."""
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with linked.http() as http:
        ids = [
            http.post(
                f"/api/sessions/{linked.session_id}/messages/send-text",
                json={"chatId": BOB, "text": f"held order {label}", "sendAt": later},
            ).json()["messageId"]
            for label in ("A", "B")
        ]
    conn = linked.stack.redis()
    scheduled = ScheduledJobRegistry(queue=session_queue(conn, linked.session_id))  # type: ignore[no-untyped-call]
    for job in Job.fetch_many(scheduled.get_job_ids(), connection=conn):
        if job is not None and job.args[1] in ids:  # records only: what follows queues them
            scheduled.remove(job, delete_job=True)
    keys = Keys(linked.stack.settings.redis_prefix)
    MessageRepository(conn, keys, retention_seconds=3600).hold(linked.session_id, ids[0])
    with conn.pipeline(transaction=True) as pipe:
        enqueue_send(conn, linked.session_id, ids[1], pipeline=pipe)
        pipe.execute()

    for message_id in ids:
        linked.delivered(BOB, message_id)
    arrived = [m["body"] for m in linked.inbox(BOB) if str(m.get("body", "")).startswith("held order")]
    assert arrived == ["held order A", "held order B"]
    assert conn.zcard(keys.held_messages(linked.session_id)) == 0
