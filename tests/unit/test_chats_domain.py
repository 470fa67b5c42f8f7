"""The pure parts of chats and message actions: ids, kinds, reaction grouping, chat summaries, and how an
engine's error travels back to the API under its own code."""

from __future__ import annotations

import pytest

from functions.core.chats import ChatNotFound, EngineRefused, chat_kind, chat_of_key, group_reactions
from functions.core.errors import EngineNotSupported
from functions.services.chats import chat_summary
from functions.services.messages import MessageNotFound
from functions.services.runner_commands import RunnerCommandFailed
from functions.services.session_engine import relayed
from runner.engines.base import EngineError
from runner.engines.webjs.capabilities import translate


@pytest.mark.parametrize(
    ("chat", "kind"),
    [
        ("15550001111@c.us", "individual"),
        ("1234567890@lid", "individual"),
        ("120363000000000001@g.us", "group"),
        ("120363000000000001@newsletter", "channel"),
        ("status@broadcast", "status"),
        ("1234567@broadcast", "broadcast"),
        ("weird", "unknown"),
    ],
)
def test_chat_kind_follows_the_id_server(chat: str, kind: str) -> None:
    assert chat_kind(chat) == kind


def test_a_message_key_names_its_chat_and_anything_else_names_none() -> None:
    assert chat_of_key("true_15550002222@c.us_3EB0ABCDEF") == "15550002222@c.us"
    assert chat_of_key("false_120363000000000001@g.us_3EB0ABCDEF_15550002222@c.us") == (
        "120363000000000001@g.us"
    )
    assert chat_of_key("3EB0ABCDEF") is None
    assert chat_of_key("maybe_15550002222@c.us_3EB0ABCDEF") is None


def test_reactions_are_grouped_by_emoji_in_order_of_first_appearance() -> None:
    stored = {
        "1@c.us": {"emoji": "👍", "timestamp": 10},
        "2@c.us": {"emoji": "❤", "timestamp": 11},
        "3@c.us": {"emoji": "👍", "timestamp": 12},
        "4@c.us": {"emoji": "", "timestamp": 13},  # a removed reaction is not one
    }
    assert group_reactions(stored) == [
        {
            "emoji": "👍",
            "senders": [
                {"senderId": "1@c.us", "emoji": "👍", "timestamp": 10},
                {"senderId": "3@c.us", "emoji": "👍", "timestamp": 12},
            ],
        },
        {"emoji": "❤", "senders": [{"senderId": "2@c.us", "emoji": "❤", "timestamp": 11}]},
    ]
    assert group_reactions(None) == []


def test_a_chat_summary_gives_the_mute_expiry_in_milliseconds_only_when_muted() -> None:
    row = {"id": "15550002222@c.us", "name": "Bob", "unreadCount": 2, "t": 1700000000, "pin": True}
    muted = chat_summary({**row, "isMuted": True, "muteExpiration": 1800000000, "last": {"body": "hi"}})
    assert muted["muteExpiration"] == 1_800_000_000_000
    assert (muted["kind"], muted["pinned"], muted["archived"], muted["lastMessage"]) == (
        "individual",
        True,
        False,
        "hi",
    )
    assert chat_summary({**row, "isMuted": True, "muteExpiration": -1})["muteExpiration"] == 0  # forever
    assert "muteExpiration" not in chat_summary({**row, "isMuted": False, "muteExpiration": 0})


def test_wa_js_error_codes_become_our_errors() -> None:
    assert isinstance(translate("msg_not_found", "gone"), MessageNotFound)
    assert isinstance(translate("chat_not_found", "gone"), ChatNotFound)
    assert isinstance(translate("offline", "no network"), EngineError)
    refused = translate("not_sender", "only the sender can edit")
    assert isinstance(refused, EngineRefused)
    assert refused.details == {"reason": "not_sender"}


def test_a_relayed_error_is_raised_under_its_own_code_and_an_unknown_one_as_a_runner_failure() -> None:
    error = relayed({"status": 404, "code": "MESSAGE_NOT_FOUND", "message": "no such", "details": {"a": 1}})
    assert isinstance(error, MessageNotFound)
    assert (error.message, error.details) == ("no such", {"a": 1})
    assert isinstance(relayed({"code": "ENGINE_NOT_SUPPORTED"}), EngineNotSupported)
    failed = relayed({"code": "SOMETHING_ELSE", "message": "the browser did not answer"})
    assert isinstance(failed, RunnerCommandFailed)
    assert (failed.status, failed.message) == (502, "the browser did not answer")
