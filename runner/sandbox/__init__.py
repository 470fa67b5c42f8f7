"""The WhatsApp sandbox: a local WhatsApp network plus a WhatsApp Web double (DESIGN §1.4).

`python -m runner.sandbox` (or `openwa sandbox`) serves, on one port (default 2786):
- `/` the WhatsApp Web double: a QR page that, once a virtual phone links it, implements wa-js's `window.WPP`;
- `/_wa/*` the page's own channel to the network (Server-Sent Events down, JSON POSTs up);
- `/_sandbox/*` the control API for tests and people (phones, linking, inbound messages, reads, faults).
"""
