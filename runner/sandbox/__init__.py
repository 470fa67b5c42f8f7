"""The WhatsApp sandbox: a local WhatsApp network plus a WhatsApp Web double (DESIGN §1.4).

`python -m runner.sandbox` (or `openwa sandbox`) serves, on one port (default 2786):
- `/` the WhatsApp Web double: a QR page, and once a virtual phone links it the linked app, served under a
  CSP like WhatsApp Web's and with no `window.WPP` of its own;
- `/_wa/*` the page's own channel to the network (Server-Sent Events down, JSON POSTs up);
- `/_sandbox/*` the control API for tests and people (phones, linking, inbound messages, reads, faults).

`WPP_DOUBLE_SCRIPTS` is the sandbox's wa-js: the files a client injects into the page (in this order, as
context init scripts) to get wa-js's `window.WPP`, exactly as it injects wa-js into WhatsApp Web.
"""

from pathlib import Path

WPP_DOUBLE_SCRIPTS = tuple(
    Path(__file__).parent / "wpp" / name
    for name in (
        "wa-api.js",
        "wa-chat.js",
        "wa-group.js",
        "wa-account.js",
        "wa-status.js",
        "wa-labels.js",
        "wa-newsletter.js",
    )
)
