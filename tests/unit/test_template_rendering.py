"""Rendering a message template: every placeholder filled, missing ones named, values inserted as text."""

from __future__ import annotations

import pytest

from functions.core.templates import RenderedTooLong, TemplateVariableMissing, render, variables


def test_header_body_and_footer_are_filled_and_joined_by_a_blank_line() -> None:
    text = render("Hi {{ name }}, {{name}}!", "{{shop}}", None, {"name": "Zoë", "shop": "Acme"})
    assert text == "Acme\n\nHi Zoë, Zoë!"


def test_a_value_that_looks_like_a_placeholder_is_inserted_as_text() -> None:
    assert render("{{a}} {{b}}", None, None, {"a": "{{b}}", "b": "x"}) == "{{b}} x"


def test_every_missing_variable_is_named_once_in_order() -> None:
    with pytest.raises(TemplateVariableMissing) as refused:
        render("{{b}} {{a}} {{b}}", "{{c}}", None, {"a": "1"})
    assert refused.value.details == {"missing": ["c", "b"]}
    assert "c, b" in refused.value.message


def test_a_rendered_text_beyond_what_one_send_carries_is_refused() -> None:
    with pytest.raises(RenderedTooLong):
        render("{{x}}", None, None, {"x": "y" * 4097})


def test_variables_lists_distinct_names_across_parts() -> None:
    assert variables("{{a}} {{ b }}", None, "{{a}}{{c.d}}") == ["a", "b", "c.d"]
