"""Messages through the WhatsApp Web double: WPP sends reach phone inboxes with the given ids, phone messages
fire chat.new_message, acks fire chat.msg_ack_change."""

from __future__ import annotations

import base64

from playwright.sync_api import Page

from runner.sandbox.ids import lid_of
from tests.sandbox.conftest import ALICE, BOB, SandboxClient, wait_event

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_text_sent_with_message_id_arrives_and_acks_advance_to_read(
    alice: Page, sandbox: SandboxClient
) -> None:
    send = "(key) => WPP.chat.sendTextMessage('15550000002@c.us', 'hello Bob', {messageId: key})"
    # The page addresses Bob's chat by his LID (see the LID test below); the control API by his number.
    result = alice.evaluate(send, f"true_{lid_of(BOB)}_3EB0A1B2C3D4E5F60718")
    assert result["id"] == f"true_{lid_of(BOB)}_3EB0A1B2C3D4E5F60718"
    assert result["sendMsgResult"]["messageSendResult"] == "OK"
    [received] = sandbox.inbox(BOB)
    assert (received["id"], received["body"], received["type"]) == (
        "false_15550000001@c.us_3EB0A1B2C3D4E5F60718",
        "hello Bob",
        "chat",
    )
    delivered = wait_event(alice, "chat.msg_ack_change", "args[0].ack === 2")
    assert delivered[0]["ids"][0]["_serialized"] == result["id"]
    assert delivered[0]["chat"] == lid_of(BOB)

    sandbox.post(f"/_sandbox/phones/{BOB}/read", {"chat": "15550000001@c.us"})
    read = wait_event(alice, "chat.msg_ack_change", "args[0].ack === 3")
    assert read[0]["ids"][0]["_serialized"] == result["id"]
    again = alice.evaluate(send.replace("15550000002@c.us", "15550000002", 1), result["id"])
    assert again["id"] == result["id"]
    assert len(sandbox.inbox(BOB)) == 1  # the same id is never relayed twice


def test_media_sent_from_the_page_arrives_with_bytes_caption_and_filename(
    alice: Page, sandbox: SandboxClient
) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    result = alice.evaluate(
        """([url, key]) => WPP.chat.sendFileMessage('15550000002@c.us', url,
             {type: 'image', caption: 'a dot', filename: 'dot.png', messageId: key})""",
        [data_url, f"true_{lid_of(BOB)}_3EB0FFEEDDCCBBAA0099"],
    )
    assert result["id"] == f"true_{lid_of(BOB)}_3EB0FFEEDDCCBBAA0099"
    [received] = sandbox.inbox(BOB)
    assert received["type"] == "image"
    assert received["caption"] == "a dot"
    assert received["media"]["filename"] == "dot.png"
    assert received["media"]["mimetype"] == "image/png"
    assert base64.b64decode(received["media"]["base64"]) == PNG


def test_phone_message_fires_new_message_and_its_media_downloads(alice: Page, sandbox: SandboxClient) -> None:
    # Each received message is announced twice, as on WhatsApp Web: a `ciphertext` placeholder, then
    # decrypted (wa-js registerNewMessageEvent.ts). A new chat opens with the (unencrypted) encryption notice;
    # a media message's body is its base64 JPEG thumbnail, and the quoted key is a getter, not serialized.
    alice.evaluate(
        """() => {
          window.__got = [];
          window.__placeholders = [];
          WPP.on('chat.new_message', (msg) => (msg.type === 'ciphertext' ? __placeholders : __got).push(msg));
        }"""
    )
    first = sandbox.post(f"/_sandbox/phones/{BOB}/messages", {"to": f"{ALICE}@c.us", "text": "hi Alice"}, 201)
    media = {"base64": base64.b64encode(PNG).decode(), "mimetype": "image/png", "filename": "dot.png"}
    body = {"to": ALICE, "media": media, "caption": "look", "quotedId": first["id"]}
    second = sandbox.post(f"/_sandbox/phones/{BOB}/messages", body, 201)
    alice.wait_for_function("() => window.__got.length === 3")
    placeholders = alice.evaluate("() => window.__placeholders.map((m) => m.serialize())")
    assert [(p["id"]["id"], p["body"]) for p in placeholders] == [
        (first["stanzaId"], ""),
        (second["stanzaId"], ""),
    ]
    notice, text, image = alice.evaluate("() => window.__got.map((m) => m.serialize())")
    assert (notice["type"], notice["from"], notice["body"]) == ("e2e_notification", lid_of(BOB), "")
    assert text["id"]["_serialized"] == f"false_{lid_of(BOB)}_{first['stanzaId']}"
    assert (text["body"], text["from"], text["isNewMsg"]) == ("hi Alice", lid_of(BOB), True)
    assert (image["type"], image["caption"], image["quotedStanzaID"]) == ("image", "look", first["stanzaId"])
    assert base64.b64decode(image["body"]).startswith(b"\xff\xd8\xff")  # a JPEG, not the caption
    assert "quotedMsgId" not in image
    quoted = alice.evaluate(
        """() => [window.__got[2].quotedMsgId._serialized,
                  (() => { try { return window.__got[1].quotedMsgId; } catch (e) { return e.code; } })()]"""
    )
    assert quoted == [text["id"]["_serialized"], "message_not_have_a_reply"]
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


def test_a_message_id_must_be_a_full_own_key_for_the_chat_wa_js_resolves(
    alice: Page, sandbox: SandboxClient
) -> None:
    # wa-js prepareRawMessage.ts: MsgKey.fromString(options.messageId), then message_key_is_not_from_me
    # unless fromMe and message_key_remote_id_is_not_same_of_chat unless its remote is the chat's id.
    attempt = """async (messageId) => {
      try { await WPP.chat.sendTextMessage('15550000002@c.us', 'keyed', { messageId }); return 'sent'; }
      catch (error) { return error.code || error.message; }
    }"""
    assert (
        alice.evaluate(attempt, "false_15550000002@c.us_3EB0AAAA0000000000A1") == "message_key_is_not_from_me"
    )
    assert (
        alice.evaluate(attempt, "true_15550000009@c.us_3EB0AAAA0000000000A2")
        == "message_key_remote_id_is_not_same_of_chat"
    )
    assert alice.evaluate(attempt, "3EB0AAAA0000000000A3") != "sent"  # a bare id is not a key
    assert sandbox.inbox(BOB) == []
    # Bob's chat is @lid on the page: a key naming his phone number is for another chat.
    phone_key = "true_15550000002@c.us_3EB0AAAA0000000000A5"
    assert alice.evaluate(attempt, phone_key) == "message_key_remote_id_is_not_same_of_chat"
    assert alice.evaluate(attempt, f"true_{lid_of(BOB)}_3EB0AAAA0000000000A4") == "sent"
    assert [m["stanzaId"] for m in sandbox.inbox(BOB)] == ["3EB0AAAA0000000000A4"]


def test_an_own_group_key_carries_our_lid_as_participant(alice: Page, sandbox: SandboxClient) -> None:
    # generateMessageID.ts: groups address the sender by LID, so our own group keys end in `_<our LID>`.
    group = sandbox.post(
        "/_sandbox/groups", {"owner": ALICE, "subject": "Pair", "participants": [BOB]}, expect=201
    )
    lid = alice.evaluate("() => String(WPP.conn.getMyUserLid())")
    assert lid.endswith("@lid")
    assert lid != f"{ALICE}@lid"
    key = alice.evaluate("async (g) => String(await WPP.chat.generateMessageID(g))", group["id"])
    assert key.startswith(f"true_{group['id']}_3EB0")
    assert key.endswith(f"_{lid}")
    sent = alice.evaluate(
        "async ([g, key]) => await WPP.chat.sendTextMessage(g, 'to the pair', { messageId: key })",
        [group["id"], key],
    )
    assert sent["id"] == key


def test_one_to_one_chats_are_addressed_by_lid_and_get_pn_lid_entry_maps_them(
    alice: Page, sandbox: SandboxClient
) -> None:
    # After the LID migration most 1:1 chats on WhatsApp Web are @lid: WPP.chat.find of a phone number
    # returns the @lid chat (findOrCreateLatestChat), keys, `from` and acks carry the LID, and
    # WPP.contact.getPnLidEntry maps LID <-> phone number. The control API keeps phone numbers.
    bob_lid = alice.evaluate(
        "async () => (await WPP.contact.getPnLidEntry('15550000002@c.us')).lid._serialized"
    )
    assert bob_lid.endswith("@lid")
    entry = alice.evaluate("async (lid) => await WPP.contact.getPnLidEntry(lid)", bob_lid)
    assert entry["phoneNumber"] == {"id": BOB, "server": "c.us", "_serialized": f"{BOB}@c.us"}
    assert entry["lid"]["_serialized"] == bob_lid
    assert entry["contact"]["pushname"] == "Bob"
    chat = alice.evaluate("async () => (await WPP.chat.find('15550000002@c.us')).id._serialized")
    assert chat == bob_lid

    sent = alice.evaluate(
        "(key) => WPP.chat.sendTextMessage('15550000002@c.us', 'by lid', {messageId: key})",
        f"true_{bob_lid}_3EB0AAAA0000000000B1",
    )
    assert sent["id"] == f"true_{bob_lid}_3EB0AAAA0000000000B1"
    delivered = wait_event(alice, "chat.msg_ack_change", "args[0].ack === 2")
    assert delivered[0]["ids"][0]["_serialized"] == sent["id"]
    assert delivered[0]["chat"] == bob_lid
    [received] = sandbox.inbox(BOB)
    assert received["id"] == f"false_{ALICE}@c.us_3EB0AAAA0000000000B1"  # the control API: phone numbers

    alice.evaluate("() => { window.__got = []; WPP.on('chat.new_message', (m) => window.__got.push(m)); }")
    reply = sandbox.post(f"/_sandbox/phones/{BOB}/messages", {"to": ALICE, "text": "lid back"}, 201)
    alice.wait_for_function("() => window.__got.some((m) => m.body === 'lid back')")
    got = alice.evaluate("() => window.__got.find((m) => m.body === 'lid back').serialize()")
    assert got["id"]["_serialized"] == f"false_{bob_lid}_{reply['stanzaId']}"
    assert got["from"] == bob_lid
