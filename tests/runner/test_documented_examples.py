"""Every documented request example works on a ready session (issue 19 item 8): what Swagger UI's "Try it
out" sends for each operation with a JSON body, sent to the real stack (API, runner, Chromium, the sandbox).

The OpenAPI document is read from the running API. `ORDER` names every operation with a JSON body, in the
order the story sends them (a thing is made before it is used, a participant added before it is promoted);
a test checks it names exactly the document's operations, so a new route joins the story. Path parameters
are ids the story made; `SUBSTITUTIONS` lists every body field replaced by the id of something made first (a
message, a poll, an invite code); everything else is sent exactly as documented. `NOT_2XX` lists the few
operations that cannot succeed by design, with the answer they must give instead.

The examples' phones are the README sandbox story's: Alice (the session's own account, a business one, as
labels need), Bob and Carol. The hosts the examples name (`cdn.example.com` for media, `hooks.example.com`,
`proxy.example.com`) are answered by the gateway's own seams: `SSRF_HOST_OVERRIDES` maps them to a loopback
address of their own, where this test serves real files made on the spot (port 80, the examples' port), and
`SSRF_ALLOWED_HOSTS` allows that address. Nothing leaves the machine.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from functions.api.examples import BOB
from functions.core.batches import FINISHED
from tests import media_samples
from tests.runner.conftest import Stack, wait_for
from tests.runner.test_messaging import link_alice
from tests.runner.test_session_lifecycle import wait_status

pytestmark = pytest.mark.e2e

ALICE_NUMBER, BOB_NUMBER, CAROL_NUMBER = "15551230001", "15551230002", "15551230003"
EXAMPLE_HOSTS = ("cdn.example.com", "hooks.example.com", "proxy.example.com")
S = "/api/sessions/{session_id}"
G = f"{S}/groups/{{group_id}}"

ORDER = [
    # The session itself; the example's new session ("sales") is started for a pairing code (it asks from
    # the QR screen) and takes the proxy, so the linked session keeps its direct connection.
    f"PATCH {S}/config",
    "POST /api/sessions",
    f"POST {S}/pairing-code",
    f"PUT {S}/proxy",
    f"PATCH {S}/proxy",
    # Sends to Bob; the text and the poll are what the actions below act on.
    f"POST {S}/messages/send-text",
    f"POST {S}/messages/send-image",
    f"POST {S}/messages/send-video",
    f"POST {S}/messages/send-audio",
    f"POST {S}/messages/send-document",
    f"POST {S}/messages/send-sticker",
    f"POST {S}/messages/send-location",
    f"POST {S}/messages/send-contact",
    f"POST {S}/messages/send-poll",
    f"POST {S}/messages/reply",
    f"POST {S}/messages/forward",
    f"POST {S}/messages/react",
    f"POST {S}/messages/edit",
    f"POST {S}/messages/star",
    f"POST {S}/messages/pin",
    f"POST {S}/messages/unpin",
    f"POST {S}/messages/vote-poll",
    f"POST {S}/messages/delete",
    f"POST {S}/messages/send-bulk",
    # Templates (the send names the one just made) and auto-replies.
    f"POST {S}/templates",
    f"PUT {S}/templates/{{template_id}}",
    f"POST {S}/messages/send-template",
    f"POST {S}/automation-rules",
    f"PUT {S}/automation-rules/{{rule_id}}",
    f"POST {S}/media/convert/voice",
    f"POST {S}/media/convert/video",
    # Bob's chat, the address book, the account.
    f"POST {S}/chats/read",
    f"POST {S}/chats/unread",
    f"POST {S}/chats/archive",
    f"POST {S}/chats/mute",
    f"POST {S}/chats/pin",
    f"POST {S}/chats/typing",
    f"PUT {S}/contacts/{{contact_id}}",
    f"PUT {S}/profile/name",
    f"PUT {S}/profile/status",
    f"PUT {S}/profile/picture",
    f"PUT {S}/presence",
    f"POST {S}/presence/subscribe",
    f"POST {S}/calls/link",
    # A group the session makes with Bob: Carol is added, promoted, demoted, removed; then her requests to
    # join are approved, and (once she has left) rejected. Then the session joins Bob's group by its invite.
    f"POST {S}/groups",
    f"PUT {G}/picture",
    f"PUT {G}/subject",
    f"PUT {G}/description",
    f"PUT {G}/settings",
    f"POST {G}/participants",
    f"POST {G}/participants/promote",
    f"POST {G}/participants/demote",
    f"DELETE {G}/participants",
    f"POST {G}/membership-requests/approve",
    f"POST {G}/membership-requests/reject",
    f"POST {S}/groups/join",
    # Labels (the first label WhatsApp numbers is 1: the PUT makes it) and channels.
    f"PUT {S}/labels/{{label_key}}",
    f"POST {S}/labels/chat/{{chat_key}}",
    f"POST {S}/channels",
    f"POST {S}/channels/subscribe",
    f"POST {S}/channels/{{channel_key}}/mute",
    f"POST {S}/channels/{{channel_key}}/admins/demote",
    f"POST {S}/channels/{{channel_key}}/owner/transfer",
    f"POST {S}/messages/send-product",
    f"POST {S}/messages/click-button",
    # Stories.
    f"POST {S}/status/send-text",
    f"POST {S}/status/send-image",
    f"POST {S}/status/send-video",
    f"POST {S}/status/send-voice",
    # Keys and webhooks.
    "POST /api/auth/api-keys",
    "PUT /api/auth/api-keys/{key_id}",
    f"POST {S}/webhooks",
    f"PUT {S}/webhooks/{{webhook_id}}",
    "POST /api/webhooks/delivery-failures/redrive",
    # Last: deleting Bob's chat.
    f"POST {S}/chats/delete",
]

# Every body field replaced by the id of a thing the story made first (and nothing else is touched): the
# message and poll ids WhatsApp has never seen, the invite codes of a group and a channel Bob made.
SUBSTITUTIONS: dict[str, dict[str, str]] = {
    f"POST {S}/messages/reply": {"quotedMessageId": "text"},
    f"POST {S}/messages/forward": {"messageId": "text"},
    f"POST {S}/messages/react": {"messageId": "text"},
    f"POST {S}/messages/edit": {"messageId": "text"},
    f"POST {S}/messages/star": {"messageId": "text"},
    f"POST {S}/messages/pin": {"messageId": "text"},
    f"POST {S}/messages/unpin": {"messageId": "text"},
    f"POST {S}/messages/vote-poll": {"pollMessageId": "poll"},
    f"POST {S}/messages/delete": {"messageId": "text"},
    f"POST {S}/groups/join": {"inviteCode": "bobs_group_invite"},
    f"POST {S}/channels/subscribe": {"inviteCode": "bobs_channel_invite"},
}

# What cannot be 2xx by design, and the answer instead. Upstream serves product messages, button clicks,
# channel admin demotion and ownership transfer on Baileys only, and poll votes on whatsapp-web.js only: wa-js
# (this engine) has none of them, nor call links, so they are upstream's 501 ENGINE_NOT_SUPPORTED.
NOT_2XX: dict[str, tuple[int, str]] = {
    f"POST {S}/messages/vote-poll": (501, "ENGINE_NOT_SUPPORTED"),
    f"POST {S}/calls/link": (501, "ENGINE_NOT_SUPPORTED"),
    f"POST {S}/channels/{{channel_key}}/admins/demote": (501, "ENGINE_NOT_SUPPORTED"),
    f"POST {S}/channels/{{channel_key}}/owner/transfer": (501, "ENGINE_NOT_SUPPORTED"),
    f"POST {S}/messages/send-product": (501, "ENGINE_NOT_SUPPORTED"),
    f"POST {S}/messages/click-button": (501, "ENGINE_NOT_SUPPORTED"),
}

# The operations whose answer is a message on its way (or a bulk batch): each must then be sent.
QUEUED = [
    f"POST {S}/messages/{name}"
    for name in (
        *("send-text", "send-image", "send-video", "send-audio", "send-document", "send-sticker"),
        *("send-location", "send-contact", "send-poll", "reply", "forward", "edit", "send-bulk"),
        "send-template",
    )
]

# The operations that act on the example's new session rather than the linked one.
ON_SALES = {f"POST {S}/pairing-code", f"PUT {S}/proxy", f"PATCH {S}/proxy"}

# Where each path parameter's value comes from: a fixed id, or the name of one the story made.
PATH_VALUES = {
    "contact_id": BOB,
    "chat_key": BOB,
    "label_key": "1",
    "group_id": "group",
    "template_id": "template",
    "rule_id": "rule",
    "key_id": "key",
    "webhook_id": "webhook",
    "channel_key": "channel",
}

# The ids the story keeps from answers: operation -> (name, field of the answer).
KEEP = {
    "POST /api/sessions": ("sales", "id"),
    f"POST {S}/messages/send-text": ("text", "messageId"),
    f"POST {S}/messages/send-poll": ("poll", "messageId"),
    f"POST {S}/groups": ("group", "id"),
    f"POST {S}/templates": ("template", "id"),
    f"POST {S}/automation-rules": ("rule", "id"),
    "POST /api/auth/api-keys": ("key", "id"),
    f"POST {S}/webhooks": ("webhook", "id"),
    f"POST {S}/channels": ("channel", "id"),
}


def _served_files() -> dict[str, tuple[bytes, str]]:
    """The files behind the examples' media URLs: path -> (bytes, content type)."""
    mp4, ogg = media_samples.mp4_clip(), media_samples.ogg_opus_tone()
    return {
        "/videos/tour.mp4": (mp4, "video/mp4"),
        "/videos/clip.mov": (media_samples.mp4_clip(container="mov"), "video/quicktime"),
        "/stickers/thanks.webp": (media_samples.webp(512, 512), "image/webp"),
        "/voice/welcome.ogg": (ogg, "audio/ogg"),
        "/voice/greeting.mp3": (media_samples.mp3_tone(), "audio/mpeg"),
        "/stories/opening.mp4": (mp4, "video/mp4"),
        "/stories/hello.ogg": (ogg, "audio/ogg"),
    }


@dataclass
class ExampleHosts:
    """Where the examples' hosts lead: a loopback `address`, serving `files`; the paths asked for so far."""

    address: str
    files: dict[str, tuple[bytes, str]]
    requested: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def example_hosts() -> Iterator[ExampleHosts]:
    """A server on port 80 of a loopback address of its own (so no other test's port is taken), serving the
    examples' media."""
    address = f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    hosts = ExampleHosts(address, _served_files())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.requested.add(self.path)
            found = hosts.files.get(self.path)
            self.send_response(200 if found else 404)
            body, mimetype = found or (b"", "text/plain")
            self.send_header("Content-Type", mimetype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    try:
        server = ThreadingHTTPServer((address, 80), Handler)
    except PermissionError:  # the examples' URLs have no port: a media URL with one would not be theirs
        pytest.fail("serving the examples' media needs port 80 (root or CAP_NET_BIND_SERVICE)")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hosts
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack_settings(example_hosts: ExampleHosts) -> dict[str, str]:
    return {
        "SSRF_HOST_OVERRIDES": ",".join(f"{host}={example_hosts.address}" for host in EXAMPLE_HOSTS),
        "SSRF_ALLOWED_HOSTS": f"127.0.0.1,{example_hosts.address}",
        "MEDIA_CONVERSION_ENABLED": "true",
    }


@dataclass
class Story:
    """The linked session, the ids made so far and an HTTP client with the admin key."""

    stack: Stack
    http: httpx.Client
    ids: dict[str, str] = field(default_factory=dict)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # operation -> its answer
    outcomes: dict[str, str] = field(default_factory=dict)  # operation -> `sent` or what happened

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.stack.control(method, path, **kwargs)

    def url(self, operation: str, template: str) -> str:
        values = {"session_id": self.ids["sales" if operation in ON_SALES else "alice"]}
        for name, value in PATH_VALUES.items():
            values[name] = self.ids.get(value, value)
        return template.format(**values)

    def wait_sent(self, name: str) -> None:
        """Until the message the story kept as `name` has been sent (it is acted on only then)."""
        assert self.outcome({"messageId": self.ids[name]}) == "sent"

    def settle(self) -> None:
        """Wait for every send accepted so far to leave the queue, and keep what became of it."""
        self.outcomes.update({operation: self.outcome(answer) for operation, answer in self.accepted.items()})
        self.accepted.clear()

    def outcome(self, accepted: dict[str, Any]) -> str:
        """What became of an accepted send once it left the queue: `sent` (also when delivered or read), or
        its record; for a bulk batch, `sent` once every message in it was, or the batch."""
        if "statusUrl" in accepted:
            batch = self._settled(accepted["statusUrl"], lambda got: got["status"] in FINISHED)
            every_one = batch["progress"]["sent"] == batch["progress"]["total"]
            return "sent" if batch["status"] == "completed" and every_one else json.dumps(batch)
        message_id = accepted["messageId"]
        path = f"/api/sessions/{self.ids['alice']}/messages/{message_id.split('_')[1]}/{message_id}"
        record = self._settled(path, lambda got: got.get("status", "pending") != "pending")
        return "sent" if record["status"] in ("sent", "delivered", "read") else json.dumps(record)

    def _settled(self, path: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            got: dict[str, Any] = self.http.get(path).json()
            return got if done(got) else None

        found: dict[str, Any] = wait_for(probe, 60, path)
        return found


@pytest.fixture(scope="module")
def story(stack: Stack) -> Iterator[Story]:
    stack.reset()
    stack.control("POST", "/phones", json={"number": ALICE_NUMBER, "name": "Alice", "business": True})
    for number, name in ((BOB_NUMBER, "Bob"), (CAROL_NUMBER, "Carol")):
        stack.control("POST", "/phones", json={"number": number, "name": name})
    stack.start_runner("runner-examples")
    linked = link_alice(stack, "alice", ALICE_NUMBER).session_id  # the README story's session
    headers = {"X-API-Key": stack.master_key}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30.0) as http:
        yield Story(stack, http, {"alice": linked})
    stack.stop_runners()


def _start_sales(story: Story) -> None:
    story.http.post(f"/api/sessions/{story.ids['sales']}/start").raise_for_status()
    wait_status(story.stack.client(), story.ids["sales"], "qr_ready")


def _bobs_group(story: Story) -> None:
    made = story.control("POST", "/groups", json={"owner": BOB_NUMBER, "subject": "Bob's club"})
    story.ids["bobs_group_invite"] = story.control("GET", f"/groups/{made['id']}")["inviteCode"]


def _bobs_channel(story: Story) -> None:
    made = story.control("POST", f"/phones/{BOB_NUMBER}/channels", json={"name": "Bob's bakery"})
    story.ids["bobs_channel_invite"] = made["inviteCode"]


def _carol_asks_to_join(story: Story) -> None:
    story.control("POST", f"/groups/{story.ids['group']}/join-requests", json={"number": CAROL_NUMBER})


def _carol_leaves_and_asks_again(story: Story) -> None:
    story.control("POST", f"/groups/{story.ids['group']}/leave", json={"number": CAROL_NUMBER})
    _carol_asks_to_join(story)


# What the story does before an operation, beyond sending examples.
BEFORE: dict[str, Callable[[Story], None]] = {
    f"POST {S}/pairing-code": _start_sales,
    f"POST {S}/messages/reply": lambda story: story.wait_sent("text"),
    f"POST {S}/messages/vote-poll": lambda story: story.wait_sent("poll"),
    f"POST {G}/membership-requests/approve": _carol_asks_to_join,
    f"POST {G}/membership-requests/reject": _carol_leaves_and_asks_again,
    f"POST {S}/groups/join": _bobs_group,
    f"POST {S}/channels/subscribe": _bobs_channel,
    # Deleting the chat deletes its messages' records: what became of the sends is read before.
    f"POST {S}/chats/delete": Story.settle,
}


def json_body_operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`METHOD /path` -> the documented example, for every operation with a JSON request body."""
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = (
                operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            )
            if "application/json" in content:
                found[f"{method.upper()} {path}"] = content["application/json"]["example"]
    return found


def fetched_hosts(example: Any) -> set[str]:
    """The hosts of every URL the gateway would connect to for `example` (its `url` and `proxyUrl` fields,
    at any depth): each must be one `SSRF_HOST_OVERRIDES` answers, or the API would ask DNS."""
    if isinstance(example, list):
        return set().union(*map(fetched_hosts, example)) if example else set()
    if not isinstance(example, dict):
        return set()
    hosts = {urlsplit(value).hostname or "" for key, value in example.items() if key in ("url", "proxyUrl")}
    return hosts.union(*map(fetched_hosts, example.values()))


def send_example(story: Story, operation: str, example: dict[str, Any]) -> httpx.Response:
    """The example as Swagger UI sends it (after the listed substitutions), to the operation's URL."""
    method, template = operation.split(" ", 1)
    body = copy.deepcopy(example)
    for field_name, made in SUBSTITUTIONS.get(operation, {}).items():
        body[field_name] = story.ids[made]
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    return story.http.request(method, story.url(operation, template), content=content, headers=headers)


def test_the_story_names_every_operation_with_a_json_body_once(story: Story) -> None:
    documented = json_body_operations(story.http.get("/api/openapi.json").json())
    assert len(ORDER) == len(set(ORDER))
    assert sorted(ORDER) == sorted(documented)
    assert set(NOT_2XX) | set(SUBSTITUTIONS) | set(BEFORE) | set(KEEP) | ON_SALES | set(QUEUED) <= set(ORDER)


def test_every_documented_example_succeeds_on_a_ready_session(
    story: Story, example_hosts: ExampleHosts
) -> None:
    """Each example is answered 2xx (or its NOT_2XX answer), and every message it accepted is then sent."""
    documented = json_body_operations(story.http.get("/api/openapi.json").json())
    assert fetched_hosts(list(documented.values())) <= set(EXAMPLE_HOSTS)  # nothing leaves the machine
    unexpected = {}
    for operation in ORDER:
        if operation in BEFORE:
            BEFORE[operation](story)
        response = send_example(story, operation, documented[operation])
        body = response.json() if response.content else {}
        expected = NOT_2XX.get(operation)
        if expected is not None:
            ok = (response.status_code, body.get("code")) == expected
        else:
            ok = 200 <= response.status_code < 300
        if not ok:
            unexpected[operation] = (response.status_code, body)
            continue
        if operation in KEEP:
            name, key = KEEP[operation]
            story.ids[name] = body[key]
        if expected is None and ("messageId" in body or "statusUrl" in body):
            story.accepted[operation] = body
    assert not unexpected, json.dumps(unexpected, indent=1, ensure_ascii=False)
    story.settle()
    assert story.outcomes == dict.fromkeys(QUEUED, "sent")
    assert example_hosts.requested == set(example_hosts.files)  # every media example was fetched from here
