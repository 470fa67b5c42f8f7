"""An empty query string loads to the schema's defaults, as marshmallow would, each request its own copy;
schemas whose empty load could vary are loaded every time."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from marshmallow import Schema, fields, post_load, validate
from werkzeug.exceptions import BadRequest

from functions.api.openapi import Parser

app = Flask("query-parsing")


class PageSchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    name = fields.String()


_ticks = itertools.count()


class ComputedDefaultSchema(Schema):
    tick = fields.Integer(load_default=lambda: next(_ticks))


class HookedSchema(Schema):
    limit = fields.Integer(load_default=1)

    @post_load
    def double(self, data: dict[str, int], **_: object) -> dict[str, int]:
        return {"limit": data["limit"] * 2 + next(_ticks)}


def _parse(parser: Parser, schema: Schema, url: str = "/x") -> dict[str, object]:
    with app.test_request_context(url):
        loaded: dict[str, object] = parser.parse(schema, location="query", unknown=None)
        return loaded


def test_an_empty_query_gets_the_defaults_in_a_fresh_dict_each_time() -> None:
    parser, schema = Parser(), PageSchema()
    first = _parse(parser, schema)
    first["limit"] = 5  # a handler changing its arguments...
    assert _parse(parser, schema) == {"limit": 100}  # ...does not change the next request's
    assert _parse(parser, schema, "/x?limit=7&name=a") == {"limit": 7, "name": "a"}
    with pytest.raises(BadRequest):
        _parse(parser, schema, "/x?limit=0")


def test_schemas_whose_empty_load_can_vary_are_loaded_every_time() -> None:
    parser = Parser()
    computed, hooked = ComputedDefaultSchema(), HookedSchema()
    assert _parse(parser, computed) != _parse(parser, computed)
    assert _parse(parser, hooked) != _parse(parser, hooked)
