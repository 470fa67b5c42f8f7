"""Message templates in our vocabulary (no Redis, no Flask): limits, placeholders, rendering and errors.

A template (OpenWA's, `reference/openwa.md` §2.4) is a `body` with `{{variable}}` placeholders and an
optional `header` and `footer` that may hold placeholders too. Rendering fills every placeholder from the
request's `vars` and joins the non-empty parts with a blank line; a placeholder without a value is an error
naming it, never an empty gap in a message that cannot be unsent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from functions.core.errors import Conflict, DomainError, NotFound

MAX_NAME = 100
MAX_BODY = 4096
MAX_HEADER_FOOTER = 1024
# What one send may carry, the same cap as send-text's `text`.
MAX_RENDERED = 4096
# Templates are few per session; a cap keeps one session's share of Redis bounded.
MAX_TEMPLATES_PER_SESSION = 1000

# `{{name}}`, spaces inside the braces allowed; names as upstream writes them (`first_name`, `order.id`).
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.-]{1,64})\s*\}\}")


class TemplateNotFound(NotFound):
    code, default_message = "TEMPLATE_NOT_FOUND", "Template not found"


class TemplateNameTaken(Conflict):
    code, default_message = "TEMPLATE_NAME_TAKEN", "A template with this name already exists in this session"


class TooManyTemplates(Conflict):
    code, default_message = "TEMPLATE_LIMIT_REACHED", "This session holds the most templates it may"


class TemplateVariableMissing(DomainError):
    status, code, default_message = 400, "TEMPLATE_VARIABLE_MISSING", "A template variable has no value"


class RenderedTooLong(DomainError):
    status, code = 400, "TEMPLATE_RENDERED_TOO_LONG"
    default_message = f"The rendered template is longer than {MAX_RENDERED} characters"


def variables(*parts: str | None) -> list[str]:
    """The distinct placeholder names in `parts`, in order of first appearance."""
    names: dict[str, None] = {}
    for part in parts:
        for match in PLACEHOLDER.finditer(part or ""):
            names.setdefault(match.group(1), None)
    return list(names)


def render(body: str, header: str | None, footer: str | None, values: Mapping[str, str]) -> str:
    """The message text: header, body and footer (those not empty) filled from `values` and joined by a
    blank line. Raises TemplateVariableMissing naming every placeholder without a value, and
    RenderedTooLong beyond MAX_RENDERED. Values are inserted as given: a value holding `{{x}}` is text,
    not a placeholder (each part is substituted once)."""
    missing = [name for name in variables(header, body, footer) if name not in values]
    if missing:
        raise TemplateVariableMissing(
            f"Missing template variable(s): {', '.join(missing)}", details={"missing": missing}
        )
    filled = [PLACEHOLDER.sub(lambda m: values[m.group(1)], part) for part in (header, body, footer) if part]
    text = "\n\n".join(filled)
    if len(text) > MAX_RENDERED:
        raise RenderedTooLong(details={"length": len(text), "max": MAX_RENDERED})
    return text
