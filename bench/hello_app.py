"""The baseline: a hello-world Flask app answering `GET /api/sessions` with a small JSON list.

Served by gunicorn with exactly the settings used for the real app, so the ratio between the two isolates what
the gateway adds (auth, Redis, schemas, middleware) on top of Flask and gunicorn themselves.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask(__name__)

_SESSIONS = [{"id": "hello", "name": "hello-world", "status": "created"}]


@app.get("/api/sessions")
def list_sessions() -> Response:
    return jsonify(_SESSIONS)
