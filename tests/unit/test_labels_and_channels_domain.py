"""Label and channel ids, invite codes and the errors they raise (functions.core.labels, .channels): what
the routes check before anything reaches a session."""

from __future__ import annotations

import pytest

from functions.core import channels, labels
from functions.core.errors import ValidationFailed


@pytest.mark.parametrize("value", ["1", "42", "12345678901234567890"])
def test_a_label_id_is_whatsapps_decimal_number(value: str) -> None:
    assert labels.label_id(value) == value


@pytest.mark.parametrize("value", ["", "a1", "-1", "1.5", " 1", "123456789012345678901"])
def test_anything_else_is_a_400_naming_the_field(value: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        labels.label_id(value, "labelId")
    assert list(info.value.details["fields"]) == ["labelId"]


def test_a_channel_carries_no_labels_but_any_other_chat_can() -> None:
    assert labels.labelled_chat_id("15550001111@c.us") == "15550001111@c.us"
    assert labels.labelled_chat_id("120363040000000001@g.us") == "120363040000000001@g.us"
    with pytest.raises(labels.ChatLabelsUnsupported) as info:
        labels.labelled_chat_id("120363040000000002@newsletter")
    assert (info.value.status, info.value.code) == (422, "CHAT_LABELS_UNSUPPORTED")


def test_upstreams_words_for_a_personal_account() -> None:
    error = labels.NotABusinessAccount()
    assert (error.status, error.code, error.message) == (
        422,
        "NOT_A_BUSINESS_ACCOUNT",
        "Chat labels require a WhatsApp Business account.",
    )


@pytest.mark.parametrize("value", ["120363040000000002@newsletter", "12345@newsletter"])
def test_a_channel_id_is_digits_at_newsletter(value: str) -> None:
    assert channels.channel_id(value) == value


@pytest.mark.parametrize("value", ["120363040000000002@g.us", "abc@newsletter", "1234@newsletter", "x"])
def test_another_id_is_not_a_channel(value: str) -> None:
    with pytest.raises(ValidationFailed):
        channels.channel_id(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0029VaExampleCode1", "0029VaExampleCode1"),
        ("https://whatsapp.com/channel/0029VaExampleCode1", "0029VaExampleCode1"),
        (" https://whatsapp.com/channel/0029VaExampleCode1/ ", "0029VaExampleCode1"),
    ],
)
def test_an_invite_is_its_code_or_its_link(value: str, code: str) -> None:
    assert channels.invite_code(value) == code


@pytest.mark.parametrize("value", ["", "abc", "no way", "https://chat.whatsapp.com/AbCdEf123", "x" * 65])
def test_anything_else_is_not_an_invite(value: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        channels.invite_code(value)
    assert info.value.details == {"fields": {"inviteCode": ["not a channel invite code or link"]}}
