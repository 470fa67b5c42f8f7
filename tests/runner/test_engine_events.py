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
    assert list(message_events("chat.presence_change", {"id": "x"})) == []
