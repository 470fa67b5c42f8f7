"""wa-js events as the bridge forwards them -> OpenWA message events."""

from __future__ import annotations

from runner.engines.webjs.events import message_events

INBOUND = {
    "id": {
        "fromMe": False,
        "remote": "15550002222@c.us",
        "id": "3EB0AB",
        "_serialized": "false_15550002222@c.us_3EB0AB",
    },
    "from": "15550002222@c.us",
    "to": "15550001111@c.us",
    "body": "hi",
    "type": "chat",
    "t": 1764064800,
    "notifyName": "Bob",
}


def test_an_inbound_chat_message_is_message_received() -> None:
    [(name, data)] = list(message_events("chat.new_message", INBOUND))
    assert name == "message.received"
    assert data["id"] == "false_15550002222@c.us_3EB0AB"
    assert (data["from"], data["body"], data["timestamp"], data["isGroup"]) == (
        "15550002222@c.us",
        "hi",
        1764064800,
        False,
    )
    assert data["contact"]["pushName"] == "Bob"


def test_an_ack_change_is_one_message_ack_per_id_with_its_status() -> None:
    payload = {
        "ack": 3,
        "chat": "15550002222@c.us",
        "ids": [{"_serialized": "true_x_1"}, {"_serialized": "true_x_2"}],
    }
    events = list(message_events("chat.msg_ack_change", payload))
    assert [(name, data["messageId"], data["status"], data["ack"]) for name, data in events] == [
        ("message.ack", "true_x_1", "read", 3),
        ("message.ack", "true_x_2", "read", 3),
    ]


def test_events_the_engine_does_not_map_produce_nothing() -> None:
    # Poll votes have no OpenWA event; group.participant_changed repeats what gp2 messages say.
    assert list(message_events("chat.poll_response", {"msgId": "x", "selectedOptions": [0]})) == []
    assert list(message_events("group.participant_changed", {"groupId": "1@g.us", "action": "add"})) == []


def _gp2(subtype: str, **fields: object) -> dict[str, object]:
    key = {"fromMe": False, "remote": "1203@g.us", "id": "3EB0GP", "_serialized": "false_1203@g.us_3EB0GP"}
    return {"id": key, "type": "gp2", "subtype": subtype, "author": "155501@c.us", "t": 1764064800, **fields}


def test_gp2_messages_are_group_events_by_subtype_and_system_messages_are_nothing() -> None:
    cases = {
        "invite": "group.join",
        "create": "group.join",
        "leave": "group.leave",
        "remove": "group.leave",
        "demote": "group.update",
        "membership_approval_request": "group.join_request",
    }
    for subtype, event in cases.items():
        [(name, data)] = list(message_events("chat.new_message", _gp2(subtype, recipients=["155502@c.us"])))
        assert (name, data["groupId"], data["actorId"]) == (event, "1203@g.us", "155501@c.us")
        assert data["participantIds"] == ["155502@c.us"]
    [(_, renamed)] = list(message_events("chat.new_message", _gp2("subject", body="New name")))
    assert renamed["changes"] == {"subject": "New name"}
    settings = [("announce", "on"), ("restrict", "off"), ("picture", "set"), ("picture", "removed")]
    changes = [
        data["changes"]
        for subtype, body in settings
        for _, data in message_events("chat.new_message", _gp2(subtype, body=body))
    ]
    assert changes == [{"announce": True}, {"locked": False}, {"picture": True}, {"picture": False}]
    for kind in ("e2e_notification", "call_log", "notification_template"):
        assert list(message_events("chat.new_message", {**INBOUND, "type": kind, "body": ""})) == []


def test_a_media_message_is_its_caption_and_a_status_post_is_status_received() -> None:
    photo = {**INBOUND, "type": "image", "body": "/9j/4AAQSkZJRg==", "caption": "look", "directPath": "/m/1"}
    [(_, data)] = list(message_events("chat.new_message", photo))
    assert (data["body"], data["caption"]) == ("look", "look")
    post = {**photo, "id": {**INBOUND["id"], "remote": "status@broadcast"}, "from": "status@broadcast"}
    [(name, status)] = list(message_events("chat.new_message", {**post, "author": "15550002222@c.us"}))
    assert name == "status.received"
    assert (status["caption"], status["hasMedia"], status["postedAt"]) == ("look", True, 1764064800000)


def test_calls_presence_and_revokes() -> None:
    call = {"id": "C1", "isVideo": True, "isGroup": False, "offerTime": 5, "sender": "155501@c.us"}
    assert list(message_events("call.incoming_call", call)) == [
        (
            "call.received",
            {"callId": "C1", "from": "155501@c.us", "isVideo": True, "isGroup": False, "timestamp": 5},
        )
    ]
    typing = {
        "id": "1203@g.us",
        "isGroup": True,
        "state": "typing",
        "t": 1764064800000,
        "participants": [{"id": "155501@c.us", "state": "typing"}],
    }
    [(_, presence)] = list(message_events("chat.presence_change", typing))
    assert presence == {
        "chatId": "1203@g.us",
        "participants": [{"id": "155501@c.us", "state": "composing", "lastSeen": None}],
        "observedAt": "2025-11-25T10:00:00.000Z",
    }
    revoke = {"id": "false_x_2", "refId": "false_x_1", "from": "155501@c.us", "to": "155502@c.us"}
    [(_, revoked)] = list(message_events("chat.msg_revoke", revoke))
    assert revoked["timestamp"] > 1764064800  # no `t` in chat.msg_revoke: the time it arrived


def test_a_lid_addressed_message_and_its_ack_are_named_by_phone_number_with_the_lid_beside() -> None:
    lid, phone = "987654321012345@lid", "15550002222@c.us"
    by_lid = {
        **INBOUND,
        "id": {**INBOUND["id"], "remote": lid, "_serialized": f"false_{lid}_3EB0AB"},  # type: ignore[dict-item]
        "from": lid,
    }
    [(_, data)] = list(message_events("chat.new_message", by_lid, {lid: phone}))
    assert (data["id"], data["chatId"], data["from"]) == (f"false_{phone}_3EB0AB", phone, phone)
    assert (data["chatLid"], data["waMessageId"]) == (lid, f"false_{lid}_3EB0AB")
    ack = {"ack": 3, "chat": lid, "ids": [{"_serialized": f"true_{lid}_3EB0CD"}]}
    [(name, acked)] = list(message_events("chat.msg_ack_change", ack, {lid: phone}))
    assert (name, acked["id"], acked["waMessageId"]) == (
        "message.ack",
        f"true_{phone}_3EB0CD",
        f"true_{lid}_3EB0CD",
    )
    [(_, unmapped)] = list(message_events("chat.new_message", by_lid))  # no phone number known: the LID stays
    assert (unmapped["chatId"], "chatLid" in unmapped) == (lid, False)
