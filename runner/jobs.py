"""Jobs of queue `session:<id>` (paths in `functions.queueing.SessionJob`), run by that session's process.

Module-level functions taking the session id first (DESIGN §3.4). Each hands its browser work to the
engine's loop and waits at most `BROWSER_TIMEOUT` seconds, below RQ's job timeout, so a wedged page fails the
job instead of killing the worker. Return values are what the API relays (the pairing code job returns
`{"pairingCode": "ABCD1234"}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.core.errors import DomainError
from runner.engines.base import EngineError

if TYPE_CHECKING:
    from runner.session_process import SessionRuntime

BROWSER_TIMEOUT = 25.0
# A media send waits for its upload and WhatsApp's ack (wa-js `waitForAck`, kept on: a refused send shows
# only in the send's result, ack -1 is never an event), which can take far longer than a text; failing it at
# BROWSER_TIMEOUT would report a message the page is still delivering. Below the send job RQ timeout (120 s).
MEDIA_SEND_TIMEOUT = 100.0
_runtime: SessionRuntime | None = None


class NotThisSession(Exception):
    """A job for another session reached this process (it only consumes its own queue, so: a bug)."""


def install(runtime: SessionRuntime) -> None:
    """Called once by the session process: the runtime the jobs of this process act on."""
    global _runtime
    _runtime = runtime


def current(session_id: str) -> SessionRuntime:
    """This process's runtime; NotThisSession for any other session id."""
    if _runtime is None or _runtime.session_id != session_id:
        raise NotThisSession(session_id)
    return _runtime


def logout(session_id: str) -> dict[str, Any]:
    """Unlink the device and wipe its stored credentials; the API then marks the session stopped. The wipe
    happens whatever the page does: `WPP.conn.logout()` may never return while WhatsApp Web navigates to its
    post-logout page, and credentials of a device the user asked to unlink must not survive a timeout."""
    runtime = current(session_id)
    runtime.reporter.closing = True  # no snapshot of a logged-out browser may overwrite the wipe
    try:
        runtime.run(runtime.engine.logout(), BROWSER_TIMEOUT)
    finally:
        runtime.auth.wipe(session_id)
    return {"loggedOut": True}


def request_pairing_code(session_id: str, phone_number: str) -> dict[str, Any]:
    runtime = current(session_id)
    code = runtime.run(runtime.engine.request_pairing_code(phone_number), BROWSER_TIMEOUT)
    return {"pairingCode": code}


def send_message(session_id: str, message_id: str) -> dict[str, Any]:
    """Send stored message `message_id` (from `POST .../messages/send-*`); idempotent by message id."""
    return current(session_id).outbox.send(message_id)


def release_held(session_id: str) -> dict[str, Any]:
    """Queue the sends held for readiness, in their places (run between jobs; see `runner.outbox`)."""
    return {"released": current(session_id).outbox.release_held()}


def engine_capability(session_id: str, name: str, args: list[Any]) -> dict[str, Any]:
    """Run optional engine capability `name` (`functions.core.chats.Capability`) with `args`.

    Returns `{"value": ...}`, or `{"error": {status, code, message, details}}` for what the API relays as
    its own answer: a domain error (unknown message 404, not supported 501, refused 403...) or an engine
    failure (502). A job that raises would reach the caller only as "the runner failed".
    """
    runtime = current(session_id)
    try:
        value = runtime.run(runtime.engine.capability(name, *args), BROWSER_TIMEOUT)
    except DomainError as exc:
        error = {"status": exc.status, "code": exc.code, "message": exc.message, "details": exc.details}
        return {"error": error}
    except EngineError as exc:
        return {"error": {"status": 502, "code": "RUNNER_COMMAND_FAILED", "message": str(exc), "details": {}}}
    return {"value": value}
