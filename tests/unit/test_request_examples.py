"""Every request body the API documents has an example (what Swagger UI's "Try it out" sends), and each
example is valid: it loads through the route's own schema without an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema

from functions.api.app import create_app
from functions.api.examples import EXAMPLES
from functions.config import Settings

BODY_METHODS = ("post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    data = tmp_path_factory.mktemp("examples")
    return create_app(Settings(redis_url="redis://127.0.0.1:9/0", data_dir=Path(data), log_level="error"))


def json_bodies(app: Flask) -> Iterator[tuple[str, Schema, Any]]:
    """(endpoint.method, schema, example) of every documented JSON body."""
    for endpoint, view in app.view_functions.items():
        view_class = getattr(view, "view_class", None)
        for method in BODY_METHODS:
            handler = getattr(view_class, method, None)
            for parameter in getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                if parameter["in"] == "json":
                    yield f"{endpoint}.{method}", parameter["schema"], parameter.get("example")


def test_every_documented_body_has_an_example(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in BODY_METHODS
        and "requestBody" in operation
        and "example" not in operation["requestBody"]["content"]["application/json"]
    ]
    assert missing == []


def test_every_example_loads_through_its_own_schema(app: Flask) -> None:
    bodies = list(json_bodies(app))
    assert len(bodies) > 60
    problems = {}
    for where, schema, example in bodies:
        errors = schema.validate(example)
        if errors:
            problems[where] = errors
    assert problems == {}


def test_no_example_is_left_unused(app: Flask) -> None:
    used = {type(schema).__name__ for _, schema, _ in json_bodies(app)}
    assert {name.split(":")[0] for name in EXAMPLES} <= used
