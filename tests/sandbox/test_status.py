"""The WPP double's stories (`wpp/wa-status.js`, rpc `status.post`/`status.remove`) against what wa-js's
`status/functions/*.ts` do, on Alice's linked page, checked from Bob's side (the control API's Status tab).
The engine meets them through WPP in `tests/runner/test_status.py`."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.sandbox.conftest import ALICE, BOB, SandboxClient

ATTEMPT = """async ([call, args]) => {
  try { const sent = await WPP.status[call](...args); return { ok: true, id: sent.id, ack: sent.ack,
          result: sent.sendMsgResult && sent.sendMsgResult.messageSendResult }; }
  catch (error) { return { ok: false, code: error.code || error.message }; }
}"""


def statuses(sandbox: SandboxClient, number: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = sandbox.get(f"/_sandbox/phones/{number}/statuses")
    return found


def test_a_text_story_takes_wa_js_fonts_and_colours(alice: Page, sandbox: SandboxClient) -> None:
    # sendTextStatus.ts: a font only in 0-5 (else 0); backgroundColor through assertColor (ARGB, opaque).
    first = alice.evaluate(ATTEMPT, ["sendTextStatus", ["hello", {"backgroundColor": "#25D366", "font": 2}]])
    second = alice.evaluate(ATTEMPT, ["sendTextStatus", ["again", {"font": 9}]])
    assert (first["ok"], first["result"], second["result"]) == (True, "OK", "OK")
    assert first["id"].startswith("true_status@broadcast_")
    seen = [(s["body"], s["backgroundColor"], s["font"]) for s in statuses(sandbox, BOB)]
    assert seen == [("hello", 0xFF25D366, 2), ("again", 0xFF000000, 0)]
    assert statuses(sandbox, ALICE) == []  # one's own story is not in one's Status tab


def test_a_story_key_must_be_own_and_of_status_broadcast(alice: Page, sandbox: SandboxClient) -> None:
    # prepareRawMessage.ts checks a caller's key as for any message: from us, for status@broadcast.
    png = "data:image/png;base64,iVBORw0KGgo="
    not_mine = f"false_status@broadcast_3EB0AAAA0000000000B1_{ALICE}@c.us"
    other_chat = f"true_{BOB}@c.us_3EB0AAAA0000000000B2"
    refused = [
        alice.evaluate(ATTEMPT, ["sendImageStatus", [png, {"messageId": not_mine}]])["code"],
        alice.evaluate(ATTEMPT, ["sendVideoStatus", [png, {"messageId": other_chat}]])["code"],
    ]
    assert refused == ["message_key_is_not_from_me", "message_key_remote_id_is_not_same_of_chat"]
    assert statuses(sandbox, BOB) == []


def test_remove_revokes_only_an_own_live_story(alice: Page, sandbox: SandboxClient) -> None:
    # remove.ts: getMessageById first (msg_not_found), then error_on_remove_status when it cannot revoke.
    posted = alice.evaluate(ATTEMPT, ["sendTextStatus", ["brb", {}]])
    bobs = sandbox.post(f"/_sandbox/phones/{BOB}/status", {"text": "mine"}, expect=201)
    bobs_key = f"false_status@broadcast_{bobs['statusId']}_{BOB}@c.us"
    unknown = f"true_status@broadcast_3EB0AAAA0000000000C1_{ALICE}@c.us"
    assert alice.evaluate(ATTEMPT, ["remove", [unknown]]) == {"ok": False, "code": "msg_not_found"}
    assert alice.evaluate(ATTEMPT, ["remove", [bobs_key]]) == {"ok": False, "code": "error_on_remove_status"}
    assert [s["body"] for s in statuses(sandbox, BOB)] == ["brb"]

    remove = "async (id) => await WPP.status.remove(id)"
    assert alice.evaluate(remove, posted["id"]) is True
    assert statuses(sandbox, BOB) == []
    assert alice.evaluate(ATTEMPT, ["remove", [posted["id"]]]) == {
        "ok": False,
        "code": "error_on_remove_status",
    }
    assert [s["body"] for s in statuses(sandbox, ALICE)] == ["mine"]  # Bob's story is untouched


def test_a_file_sent_to_status_broadcast_is_a_story(alice: Page, sandbox: SandboxClient) -> None:
    # WhatsApp Web sends a story as a message of status@broadcast: a voice story is a ptt file sent there.
    ogg = "data:audio/ogg;base64,T2dnUwACAAAAAAAA"
    send = """async (content) => {
      const options = { type: 'audio', isPtt: true };
      const sent = await WPP.chat.sendFileMessage('status@broadcast', content, options);
      return sent.sendMsgResult.messageSendResult;
    }"""
    assert alice.evaluate(send, ogg) == "OK"
    [story] = statuses(sandbox, BOB)
    assert (story["type"], story["media"]["mimetype"]) == ("ptt", "audio/ogg")  # type: ignore[index]


def test_the_control_api_refuses_a_bad_story_and_an_unknown_phone(sandbox: SandboxClient) -> None:
    sandbox.phone(ALICE, "Alice")
    sandbox.phone(BOB, "Bob")
    for bad in (
        {"text": "hi", "backgroundColor": "#ffffff"},
        {"text": "hi", "font": True},
        {"text": "hi", "x": 1},
    ):
        sandbox.post(f"/_sandbox/phones/{BOB}/status", bad, expect=400)
    assert statuses(sandbox, ALICE) == []  # nothing was posted
    assert sandbox.http.get("/_sandbox/phones/15559999999/statuses").status_code == 404
