"""How texts and queries become search tokens (`functions.core.search_text`): folded words, per-character
Chinese and Japanese, bounded sizes, and the snippet around the first match."""

from __future__ import annotations

from functions.core.search_text import MAX_TOKEN_CHARS, MAX_TOKENS_PER_TEXT, matches, snippet, tokens


def test_words_fold_case_accents_and_compatibility_forms() -> None:
    assert tokens("Café CAFÉ cafe") == ["cafe"]
    full_width = "\uff26\uff55\uff4c\uff4c"  # "Full" in full-width letters
    assert tokens(f"Straße \ufb01ne {full_width}") == ["strasse", "fine", "full"]
    assert tokens("Привет, мир! 42 snake_case") == ["привет", "мир", "42", "snake_case"]


def test_chinese_and_japanese_are_tokenised_per_character() -> None:
    assert tokens("東京タワー") == ["東", "京", "タ", "ワ", "ー"]
    assert matches(tokens("東京"), "東京タワーで会いましょう")


def test_sizes_are_bounded() -> None:
    assert tokens("x" * 100) == ["x" * MAX_TOKEN_CHARS]
    assert len(tokens(" ".join(f"w{n}" for n in range(500)))) == MAX_TOKENS_PER_TEXT


def test_every_query_word_must_begin_a_word() -> None:
    assert matches(["caf", "noi"], "Café Noir")
    assert not matches(["afe"], "Café Noir")
    assert not matches(["caf", "blanc"], "Café Noir")


def test_a_snippet_is_the_text_around_the_first_match() -> None:
    assert snippet("short text", ["text"]) == "short text"
    long = "a" * 200 + " the Café is here " + "b" * 200
    cut = snippet(long, ["caf"], width=60)
    assert "Café" in cut
    assert cut.startswith("…")
    assert cut.endswith("…")
