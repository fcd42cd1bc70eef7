"""Properties over phrase dictionaries, script conversion and input size.

- A phrase dictionary is refused at a line (DG020) or is text: converting with it
  never adds markup, never loses text, and what reaches a note is the sanitized
  zh-Hans markup, nothing more.
- Parsing and checking a card costs time linear in its size, whatever it repeats
  (the malformed-cloze search was quadratic: 65 s for 192 KB of ``{{c``).

Both run in the ``ci`` profile of tests/test_fuzz.py (DECKGEN_FUZZ=long for more).
"""

from __future__ import annotations

import functools
import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deckgen.cardfile import CardText
from deckgen.cardtext import CheckContext
from deckgen.check import check_card
from deckgen.convert import Converter, Phrase, load_phrases, read_phrases
from deckgen.errors import DeckgenError
from deckgen.parse import parse_card
from deckgen.sanitize import sanitize_html

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
EXAMPLES = {"ci": 25, "long": 2000, "dev": 5}[os.environ.get("DECKGEN_FUZZ", "ci")]
PROPERTY = settings(max_examples=EXAMPLES, **_COMMON)  # type: ignore[arg-type]

# Characters that matter: Simplified words with several Traditional forms, markup,
# quotes, spaces, and the characters OpenCC's readers split on.
ALPHABET = "头发干后里面只着几表了解汇报运营黑板报看<>&\"'/= \t　\\{}[]*_`"
MARKUP = re.compile(r"[<>&\"'`]")


@functools.cache
def _converter(phrases: tuple[Phrase, ...]) -> Converter:
    return Converter("s2tw", [*load_phrases(None), *phrases])


def _dictionary(tmp: Path, entries: list[tuple[str, str]]) -> tuple[Phrase, ...] | None:
    path = tmp / "phrases.txt"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in entries), "utf-8")
    try:
        return tuple(read_phrases(path))
    except DeckgenError as error:
        assert all(p.code == "DG020" and p.location.line >= 1 for p in error.problems)
        return None


WORDS = [
    "头发",
    "理发",
    "面对",
    "只有",
    "一只",
    "干净",
    "干部",
    "后来",
    "这里",
    "汇报",
    "了解",
    "黑板报",
]


@st.composite
def plausible_entry(draw: st.DrawFn) -> tuple[str, str]:
    """A word and one of its Traditional forms, character by character (maybe a wrong one)."""
    from deckgen.convert import ambiguous_characters

    word = draw(st.sampled_from(WORDS))
    forms = ambiguous_characters()
    plain = Converter("s2t", []).text(word)
    return word, "".join(
        draw(st.sampled_from(forms[c].split())) if c in forms else t
        for c, t in zip(word, plain, strict=True)
    )


hostile_entry = st.tuples(
    st.text(ALPHABET, min_size=1, max_size=4), st.text(ALPHABET, min_size=1, max_size=4)
)
entries = st.lists(st.one_of(plausible_entry(), hostile_entry), min_size=1, max_size=3)


@PROPERTY
@given(entries=entries, text=st.text(ALPHABET, max_size=30))
def test_a_phrase_dictionary_is_refused_or_is_text(
    tmp_path_factory: pytest.TempPathFactory, entries: list[tuple[str, str]], text: str
) -> None:
    phrases = _dictionary(tmp_path_factory.mktemp("phrases"), entries)
    assume(phrases is not None)
    assert phrases is not None
    for phrase in phrases:
        assert not MARKUP.search(phrase.traditional) and not phrase.traditional.isspace()
    # Text that uses every entry, around whatever else was drawn.
    sample = text + "".join(p.simplified for p in phrases) + text
    converted = _converter(phrases).text(sample)
    assert len(converted) == len(sample)  # nothing dropped (s2tw maps character by character)
    assert MARKUP.findall(converted) == MARKUP.findall(sample)  # no markup made, none lost


@PROPERTY
@given(
    entries=entries,
    words=st.lists(st.sampled_from([*WORDS, "**", "`码`", "<b>", "&amp;", "\\{{"]), max_size=8),
)
def test_no_markup_reaches_a_note_that_the_sanitized_cards_do_not_have(
    tmp_path_factory: pytest.TempPathFactory, entries: list[tuple[str, str]], words: list[str]
) -> None:
    phrases = _dictionary(tmp_path_factory.mktemp("phrases"), entries)
    assume(phrases is not None)
    assert phrases is not None
    markdown = "看" + "".join(words) + "。"
    card, _ = parse_card(
        CardText(Path("p.md"), 1, "{#p}\n## 问题？\n\n" + markdown + "\n", "", ()),
        deck_dir=Path("."),
    )
    assume(card is not None)
    assert card is not None
    simplified = sanitize_html(Converter("none", []).html(card.answer.html))
    traditional = sanitize_html(_converter(phrases).html(card.answer.html))
    assert _tags(traditional) == _tags(simplified)


def _tags(html: str) -> list[str]:
    return re.findall(r"<[^>]*>", html)


# --- Time linear in size ---------------------------------------------------------------

PATTERNS = [
    "{{c",
    "{{c1::",
    "{{c1::a",
    "{{c1::a}",
    "}}{{c1::",
    "\\{{c1::",
    "[",
    "](",
    "![",
    "*",
    "**a",
    "_",
    "`",
    "<",
    "<a ",
    "&",
    "&#",
    "> ",
    "- ",
    "1. ",
    "| a ",
    ":::",
    "$",
    "$$",
    "\\(",
    "~~",
    "{#",
    "发",
]


def _cost(text: str) -> float:
    """Best of three: the seconds to parse and check one card holding ``text``."""
    source = CardText(Path("t.md"), 1, "{#t .cloze}\n## 问题？\n\n" + text + "\n", "", ())
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        card, _ = parse_card(source, deck_dir=Path("."))
        if card is not None:
            check_card(card, CheckContext(load_phrases(None)), deck_allow=frozenset())
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("pattern", PATTERNS, ids=[repr(p) for p in PATTERNS])
def test_time_is_linear_in_adversarial_repetition(pattern: str) -> None:
    small = max(1, 1500 // len(pattern))
    ratio = _cost(pattern * small * 8) / max(_cost(pattern * small), 1e-4)
    # 8x the input: linear about 8, quadratic about 64; room for a busy machine.
    assert ratio < 20, f"{pattern!r}: 8x the input took {ratio:.1f}x the time"


@settings(max_examples=max(5, EXAMPLES // 4), **_COMMON)  # type: ignore[arg-type]
@given(pattern=st.text("{}c1:[]()*_`<>&$\\|#!-~ \n发", min_size=1, max_size=5))
def test_time_is_linear_for_any_short_repetition(pattern: str) -> None:
    small = max(1, 1500 // len(pattern))
    ratio = _cost(pattern * small * 8) / max(_cost(pattern * small), 1e-3)
    assert ratio < 20, f"{pattern!r}: 8x the input took {ratio:.1f}x the time"
