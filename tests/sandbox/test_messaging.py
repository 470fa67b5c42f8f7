"""Messages through the WhatsApp Web double: WPP sends reach phone inboxes with the given ids, phone messages
fire chat.new_message, acks fire chat.msg_ack_change."""

from __future__ import annotations

import base64

from playwright.sync_api import Page

from tests.sandbox.conftest import ALICE, BOB, SandboxClient, wait_event

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_text_sent_with_message_id_arrives_and_acks_advance_to_read(
    alice: Page, sandbox: SandboxClient
) -> None:
    result = alice.evaluate(
        "() => WPP.chat.sendTextMessage('15550000002@c.us', 'hello Bob', {messageId: '3EB0A1B2C3D4E5F60718'})"
    )
    assert result["id"] == "true_15550000002@c.us_3EB0A1B2C3D4E5F60718"
    assert result["sendMsgResult"]["messageSendResult"] == "OK"
    [received] = sandbox.inbox(BOB)
    assert (received["id"], received["body"], received["type"]) == (
        "false_15550000001@c.us_3EB0A1B2C3D4E5F60718",
        "hello Bob",
        "chat",
    )
    delivered = wait_event(alice, "chat.msg_ack_change", "args[0].ack === 2")
    assert delivered[0]["ids"][0]["_serialized"] == result["id"]
    assert delivered[0]["chat"] == "15550000002@c.us"

    sandbox.post(f"/_sandbox/phones/{BOB}/read", {"chat": "15550000001@c.us"})
    read = wait_event(alice, "chat.msg_ack_change", "args[0].ack === 3")
    assert read[0]["ids"][0]["_serialized"] == result["id"]
    again = alice.evaluate(
        "() => WPP.chat.sendTextMessage('15550000002', 'hello Bob', {messageId: '3EB0A1B2C3D4E5F60718'})"
    )
    assert again["id"] == result["id"]
    assert len(sandbox.inbox(BOB)) == 1  # the same id is never relayed twice


def test_media_sent_from_the_page_arrives_with_bytes_caption_and_filename(
    alice: Page, sandbox: SandboxClient
) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    result = alice.evaluate(
        """(url) => WPP.chat.sendFileMessage('15550000002@c.us', url,
             {type: 'image', caption: 'a dot', filename: 'dot.png', messageId: '3EB0FFEEDDCCBBAA0099'})""",
        data_url,
    )
    assert result["id"] == "true_15550000002@c.us_3EB0FFEEDDCCBBAA0099"
    [received] = sandbox.inbox(BOB)
    assert received["type"] == "image"
    assert received["caption"] == "a dot"
    assert received["media"]["filename"] == "dot.png"
    assert received["media"]["mimetype"] == "image/png"
    assert base64.b64decode(received["media"]["base64"]) == PNG


def test_phone_message_fires_new_message_and_its_media_downloads(alice: Page, sandbox: SandboxClient) -> None:
    alice.evaluate(
        "() => { window.__got = []; WPP.on('chat.new_message', (msg) => window.__got.push(msg)); }"
    )
    first = sandbox.post(f"/_sandbox/phones/{BOB}/messages", {"to": f"{ALICE}@c.us", "text": "hi Alice"}, 201)
    media = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png", "filename": "dot.png"}
    body = {"to": ALICE, "media": media, "caption": "look", "quotedId": first["id"]}
    second = sandbox.post(f"/_sandbox/phones/{BOB}/messages", body, 201)
    alice.wait_for_function("() => window.__got.length === 2")
    text, image = alice.evaluate("() => window.__got.map((m) => m.serialize())")
    assert text["id"]["_serialized"] == f"false_{BOB}@c.us_{first['stanzaId']}"
    assert (text["body"], text["from"], text["isNewMsg"]) == ("hi Alice", f"{BOB}@c.us", True)
    assert (image["type"], image["caption"], image["quotedStanzaID"]) == ("image", "look", first["stanzaId"])
    downloaded = alice.evaluate(
        """(id) => WPP.chat.downloadMedia(id).then(async (blob) => {
             const bytes = new Uint8Array(await blob.arrayBuffer());
             return btoa(String.fromCharCode(...bytes));
           })""",
        f"false_{BOB}@c.us_{second['stanzaId']}",
    )
    assert base64.b64decode(downloaded) == PNG


def test_location_contact_poll_reaction_edit_and_revoke(alice: Page, sandbox: SandboxClient) -> None:
    to = "15550000002@c.us"
    alice.evaluate(f"() => WPP.chat.sendLocationMessage('{to}', {{lat: 52.37, lng: 4.89, name: 'Dam'}})")
    alice.evaluate(
        f"() => WPP.chat.sendVCardContactMessage('{to}', {{id: '15550000001@c.us', name: 'Alice'}})"
    )
    poll = alice.evaluate(f"() => WPP.chat.sendCreatePollMessage('{to}', 'Lunch?', ['yes', 'no'])")
    text = alice.evaluate(f"() => WPP.chat.sendTextMessage('{to}', 'tpyo')")
    location, vcard, poll_msg, _ = sandbox.inbox(BOB)
    assert (location["type"], location["lat"], location["lng"]) == ("location", 52.37, 4.89)
    assert vcard["type"] == "vcard"
    assert "waid=15550000001" in vcard["body"]
    assert [o["name"] for o in poll_msg["pollOptions"]] == ["yes", "no"]

    sandbox.post(f"/_sandbox/phones/{BOB}/votes", {"messageId": poll["id"], "options": [0]})
    assert wait_event(alice, "chat.poll_response")[0]["selectedOptions"] == [0]
    sandbox.post(f"/_sandbox/phones/{BOB}/reactions", {"messageId": text["id"], "reaction": "👍"})
    reaction = wait_event(alice, "chat.new_reaction")[0]
    assert (reaction["reactionText"], reaction["msgId"]["_serialized"]) == ("👍", text["id"])
    alice.evaluate(f"() => WPP.chat.editMessage('{text['id']}', 'typo')")
    assert sandbox.inbox(BOB)[-1]["body"] == "typo"
    assert wait_event(alice, "chat.msg_edited")[0]["msg"]["body"] == "typo"
    alice.evaluate(f"() => WPP.chat.deleteMessage('{to}', '{text['id']}', false, true)")
    assert wait_event(alice, "chat.msg_revoke")[0]["refId"]["_serialized"] == text["id"]
    assert sandbox.inbox(BOB)[-1]["type"] == "revoked"
