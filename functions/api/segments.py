"""URL converters for a path segment that holds an id beside static siblings.

`/contacts/blocked` and `/contacts/<contact_id>` both match `/contacts/blocked`; Werkzeug routes the static
one first, but an OPTIONS answer advertises the methods of every rule that matches, so the id rule must not
match the static names at all. The id itself is checked by the handler (a 400 naming it); the segment is
documented as a string. A request that puts a static name where the id goes with another method (PUT
`/contacts/blocked`) answers 405, which the routes document."""

from __future__ import annotations

import re

from werkzeug.routing import Map, UnicodeConverter


def segment_except(*names: str) -> type[UnicodeConverter]:
    """A converter for any single path segment other than `names`."""
    pattern = r"(?!(?:" + "|".join(re.escape(name) for name in names) + r")$)[^/]{1,}"

    class Segment(UnicodeConverter):
        excluded = names

        def __init__(self, url_map: Map) -> None:
            super().__init__(url_map)
            self.regex = pattern  # UnicodeConverter sets its own in __init__

    return Segment
