"""The documented example of every request body, by the name of its marshmallow schema class: what Swagger
UI's "Try it out" fills in, so it must be a request that works. Field-level examples alone gave `"string"`
chat ids, a past `sendAt` and media bodies with both `url` and `base64`.

The chats are the README sandbox story's phones (Bob `15551230002`, Carol `15551230003`) and one group; ids of
things a reader must have made first (a message, a template, a webhook) look like real ones. Each example
loads without error through its own schema (`tests/unit/test_request_examples.py`), and
`Blueprint.arguments` attaches it to every route taking that schema (routes name none of their own).
`tests/runner/test_documented_examples.py` sends every one to a ready sandbox session and gets a 2xx; the
media URLs are plain `http` so that test can serve them from loopback through `SSRF_HOST_OVERRIDES` (an
`https` one would need a certificate the gateway trusts).
"""

from __future__ import annotations

import copy
from typing import Any

from marshmallow import Schema

BOB = "15551230002@c.us"
CAROL = "15551230003@c.us"
GROUP = "120363041234567890@g.us"
MESSAGE = f"true_{BOB}_3EB0C0FFEE0123456789"
POLL = f"true_{BOB}_3EB0C0FFEE0123456790"
# A 1x1 PNG: small enough to paste, real enough for the type sniffing.
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
TEXT_BASE64 = "SGVsbG8gZnJvbSB0aGUgQVBJCg=="  # "Hello from the API\n"

_IMAGE = {"base64": PNG_BASE64, "mimetype": "image/png", "caption": "Today's menu"}

EXAMPLES: dict[str, dict[str, Any]] = {
    # sessions
    "CreateSessionSchema": {"name": "sales", "config": {"autoRejectCalls": False}},
    "SessionConfigPatchSchema": {"maxReconnectAttempts": 5, "reconnectBaseDelay": 5000},
    "PairingCodeRequestSchema": {"phoneNumber": "15551230001"},
    # sends
    "SendTextSchema": {"chatId": BOB, "text": "Hello from the API"},
    "ReplySchema": {"chatId": BOB, "quotedMessageId": MESSAGE, "text": "Yes, we are open today"},
    "SendMediaSchema": {"chatId": BOB, **_IMAGE},
    # The media routes share SendMediaSchema; each shows media of its own kind ("<schema>:<route>").
    "SendMediaSchema:send-video": {
        "chatId": BOB,
        "url": "http://cdn.example.com/videos/tour.mp4",
        "caption": "A tour of the shop",
    },
    "SendMediaSchema:send-document": {
        "chatId": BOB,
        "base64": TEXT_BASE64,
        "mimetype": "text/plain",
        "filename": "hello.txt",
        "caption": "Your receipt",
    },
    "SendMediaSchema:send-sticker": {"chatId": BOB, "url": "http://cdn.example.com/stickers/thanks.webp"},
    "SendAudioSchema": {"chatId": BOB, "url": "http://cdn.example.com/voice/welcome.ogg", "ptt": True},
    "SendLocationSchema": {
        "chatId": BOB,
        "latitude": -6.2088,
        "longitude": 106.8456,
        "description": "Our shop",
        "address": "Jl. Sudirman 1, Jakarta",
    },
    "SendContactSchema": {"chatId": BOB, "contactName": "Carol", "contactNumber": "15551230003"},
    "SendPollSchema": {"chatId": BOB, "name": "Lunch?", "options": ["Pizza", "Sushi"]},
    "ForwardSchema": {"fromChatId": BOB, "toChatId": CAROL, "messageId": MESSAGE},
    "SendTemplateSchema": {
        "chatId": BOB,
        "templateName": "order-shipped",
        "vars": {"name": "Bob", "order": "A-1042"},
    },
    "SendBulkSchema": {
        "messages": [
            {
                "chatId": BOB,
                "type": "text",
                "content": {"text": "Hi {{name}}, your order is ready"},
                "variables": {"name": "Bob"},
            },
            {
                "chatId": CAROL,
                "type": "image",
                "content": {"image": {"base64": PNG_BASE64}, "caption": "New!"},
            },
        ],
        "options": {"delayBetweenMessages": 3000, "randomizeDelay": True},
    },
    # message actions
    "ReactSchema": {"chatId": BOB, "messageId": MESSAGE, "emoji": "👍"},
    "EditMessageSchema": {"chatId": BOB, "messageId": MESSAGE, "body": "Hello from the API (edited)"},
    "DeleteMessageSchema": {"chatId": BOB, "messageId": MESSAGE, "forEveryone": True},
    "StarMessageSchema": {"chatId": BOB, "messageId": MESSAGE, "star": True},
    "PinMessageSchema": {"chatId": BOB, "messageId": MESSAGE, "durationSeconds": 86400},
    "UnpinMessageSchema": {"chatId": BOB, "messageId": MESSAGE},
    "VotePollSchema": {"chatId": BOB, "pollMessageId": POLL, "options": ["Pizza"]},
    # chats, contacts, presence, profile
    "MarkReadSchema": {"chatId": BOB},
    "ChatBodySchema": {"chatId": BOB},
    "ArchiveChatSchema": {"chatId": BOB, "archive": True},
    "MuteChatSchema": {"chatId": BOB, "muteUntil": 1893456000000},  # epoch ms: 2030-01-01
    "PinChatSchema": {"chatId": BOB, "pin": True},
    "TypingSchema": {"chatId": BOB, "state": "typing"},
    "UpsertContactSchema": {"firstName": "Bob", "lastName": "Brown"},
    "SetOwnPresenceSchema": {"available": True},
    "SubscribePresenceSchema": {"chatId": BOB},
    "ProfileNameSchema": {"name": "Alice's Shop"},
    "ProfileStatusSchema": {"status": "Open 9-17"},
    "ProfilePictureBodySchema": {"base64": PNG_BASE64, "mimetype": "image/png"},
    "CreateCallLinkSchema": {"type": "video", "startTime": 1893456000000},
    # groups
    "CreateGroupSchema": {"name": "Support team", "participants": [BOB]},
    "JoinGroupSchema": {"inviteCode": "AbCdEfGhIjKlMnOpQrStUv"},
    "GroupPictureSchema": {"base64": PNG_BASE64, "mimetype": "image/png"},
    "ParticipantsSchema": {"participants": [CAROL]},
    "SubjectSchema": {"subject": "Support team"},
    "DescriptionSchema": {"description": "Questions about orders"},
    "GroupSettingsSchema": {"announce": False, "locked": True},
    "MembershipAnswerSchema": {"participants": [CAROL]},
    # keys, webhooks
    "CreateApiKeySchema": {"name": "crm-bot", "role": "operator"},
    "UpdateApiKeySchema": {"name": "crm-bot", "role": "viewer"},
    "CreateWebhookSchema": {
        "url": "https://hooks.example.com/whatsapp",
        "events": ["message.received", "message.ack"],
        "secret": "change-me-to-a-long-random-string",
        "filters": {"conditions": [{"field": "isGroup", "operator": "is", "value": False}]},
        "retryCount": 3,
    },
    "UpdateWebhookSchema": {"events": ["*"], "active": True},
    "RedriveSchema": {"limit": 100},
    # templates, automation, media
    "CreateTemplateSchema": {
        "name": "order-shipped",
        "body": "Hello {{name}}, your order {{order}} has shipped.",
        "footer": "Reply STOP to opt out",
    },
    "UpdateTemplateSchema": {"footer": "Questions? Just reply."},
    "CreateAutomationRuleSchema": {
        "name": "Price enquiries",
        "replyText": "Thanks! Our price list: https://example.com/prices",
        "conditions": [{"field": "body", "operator": "contains", "value": "price"}],
        "cooldownSeconds": 3600,
    },
    "UpdateAutomationRuleSchema": {"enabled": False},
    "ConvertMediaSchema": {"url": "http://cdn.example.com/voice/greeting.mp3"},
    "ConvertMediaSchema:convert-video": {"url": "http://cdn.example.com/videos/clip.mov"},
    # labels, channels, catalog, stories, proxy
    "UpsertLabelSchema": {"name": "New customer", "color": 4},
    "AddLabelSchema": {"labelId": "1"},
    "CreateChannelSchema": {"name": "Shop news", "description": "Offers, weekly"},
    "SubscribeChannelSchema": {"inviteCode": "0029VaExampleCode1"},
    "MuteChannelSchema": {"mute": True},
    "DemoteChannelAdminSchema": {"userId": BOB},
    "TransferChannelOwnershipSchema": {"newOwnerId": BOB},
    "SendProductSchema": {"chatId": BOB, "productId": "7316048991811133", "body": "Back in stock"},
    "ClickButtonSchema": {"chatId": BOB, "messageId": MESSAGE, "buttonId": "yes", "text": "Yes"},
    "SendTextStatusSchema": {"text": "Back at 3 pm", "backgroundColor": "#25D366", "font": 1},
    "SendImageStatusSchema": {
        "image": {"base64": PNG_BASE64, "mimetype": "image/png"},
        "caption": "Opening today",
    },
    "SendVideoStatusSchema": {
        "video": {"url": "http://cdn.example.com/stories/opening.mp4"},
        "caption": "Opening",
    },
    "SendVoiceStatusSchema": {"audio": {"url": "http://cdn.example.com/stories/hello.ogg"}},
    "UpdateSessionProxySchema": {"proxyUrl": "http://alice:s3cret@proxy.example.com:3128"},
}


def request_example(schema: Schema | type[Schema], route: str | None = None) -> dict[str, Any] | None:
    """A copy of the documented example for `schema`'s class (for `route`, when it has one of its own), or
    None when there is none."""
    name = schema.__name__ if isinstance(schema, type) else type(schema).__name__
    example = EXAMPLES.get(f"{name}:{route}") or EXAMPLES.get(name)
    return copy.deepcopy(example) if example is not None else None
