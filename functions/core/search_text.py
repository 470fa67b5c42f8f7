"""Words for message search: how a text and a query are cut into the tokens the index keeps.

A token is a word folded for matching: Unicode NFKD with the combining marks dropped, then casefolded, so
"Café", "CAFE" and "café" are all `cafe` (and "Straße" is `strasse`). Words are runs of Unicode word
characters (`\\w`: letters and digits of any script, underscore), except in Chinese and Japanese scripts,
which put no spaces between words: there each character is a token of its own. A query matches a text when
every query token is a prefix of one of the text's tokens ("caf" finds "Café").

Pure domain code (no Redis). The index stores tokens as they are made here, so changing the folding means
re-indexing.
"""

from __future__ import annotations

import re
import unicodedata

# A token longer than this is kept (and queried) by its first MAX_TOKEN_CHARS characters: prefixes of it
# still match, and one pasted blob cannot make a huge key.
MAX_TOKEN_CHARS = 32
# Distinct tokens indexed per message at most (the first ones): bounds a long message's postings.
MAX_TOKENS_PER_TEXT = 128
# Words in a query at most (a 400 past it).
MAX_QUERY_WORDS = 8

_WORD = re.compile(r"\w+")
# Han, Hiragana, Katakana (and their extensions): written without spaces, tokenised per character.
_UNSPACED = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]",
)


def fold(text: str) -> str:
    """`text` folded for matching: NFKD, combining marks dropped, casefolded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def tokens(text: str) -> list[str]:
    """The distinct tokens of `text`, in order of first appearance, at most MAX_TOKENS_PER_TEXT."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        for token in _split_unspaced(word):
            seen.setdefault(token[:MAX_TOKEN_CHARS], None)
            if len(seen) >= MAX_TOKENS_PER_TEXT:
                return list(seen)
    return list(seen)


def _split_unspaced(word: str) -> list[str]:
    """`word` with each Han/kana character standing alone (the runs between them stay whole)."""
    if not _UNSPACED.search(word):
        return [word]
    parts = [part for part in _UNSPACED.split(word) if part]
    parts += _UNSPACED.findall(word)
    return parts


def matches(query_tokens: list[str], text: str) -> bool:
    """Whether every query token is a prefix of some token of `text`."""
    words = tokens(text)
    return all(any(word.startswith(query) for word in words) for query in query_tokens)


def snippet(text: str, query_tokens: list[str], width: int = 120) -> str:
    """A window of about `width` characters of `text` around the first word a query token begins, with
    `…` where it was cut; the whole text when it is short enough."""
    if len(text) <= width:
        return text
    start = 0
    for match in _WORD.finditer(text):
        folded = fold(match.group())
        if any(folded.startswith(query) for query in query_tokens):
            start = match.start()
            break
    begin = max(0, min(start - width // 4, len(text) - width))
    window = text[begin : begin + width]
    return ("…" if begin > 0 else "") + window + ("…" if begin + width < len(text) else "")
