"""The sandbox's Flask app and its lifetime (network, hub, store)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response

from runner.sandbox.control import control
from runner.sandbox.control_business import control_business
from runner.sandbox.control_groups import control_groups
from runner.sandbox.control_status import control_status
from runner.sandbox.hub import Hub
from runner.sandbox.network import Network
from runner.sandbox.store import Store
from runner.sandbox.web import page, register_errors

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_PORT = 2786
DEFAULT_QR_INTERVAL = 20.0  # seconds, as WhatsApp Web rotates its QR


@dataclass(frozen=True)
class SandboxConfig:
    data_dir: Path
    qr_interval: float = DEFAULT_QR_INTERVAL


def create_app(config: SandboxConfig) -> tuple[Flask, Network]:
    """The app and its network; call `network.store.close()` on shutdown to save the last changes."""
    store = Store(config.data_dir)
    network = Network(store, Hub())
    store.start(network.snapshot)
    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/_wa/static")
    app.config["SANDBOX_QR_INTERVAL"] = config.qr_interval
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 0  # the page's scripts change while developing
    app.extensions["sandbox.network"] = network
    app.register_blueprint(page)
    app.register_blueprint(control)
    app.register_blueprint(control_groups)
    app.register_blueprint(control_status)
    app.register_blueprint(control_business)
    register_errors(app)

    @app.errorhandler(404)
    def _not_found(exc: Exception) -> Response:
        body = {"error": "not_found", "message": "no such route"}
        return Response(json.dumps(body), status=404, mimetype="application/json")

    @app.errorhandler(405)
    def _not_allowed(exc: Exception) -> Response:
        body = {"error": "method_not_allowed", "message": "method not allowed on this route"}
        return Response(json.dumps(body), status=405, mimetype="application/json")

    return app, network
