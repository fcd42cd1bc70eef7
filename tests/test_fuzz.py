"""Property tests over the parser, the renderer and the converter.

Whatever a card file holds (arbitrary Unicode or bytes, random Markdown
structure, random cloze markers), the only outcomes are cards that render to
allowlisted HTML and convert cleanly, or a DeckgenError whose problems name
the file and a line inside it. Any other exception is a bug.

Running the fuzzers
-------------------

Plain ``pytest`` (and CI) runs the ``ci`` profile: a bounded number of
examples per property, a few seconds in all. For a long run before a release,
or after touching parse.py, cloze.py, render.py or convert.py::

    DECKGEN_FUZZ=long pytest tests/test_fuzz.py --hypothesis-show-statistics

``long`` runs 50 times as many examples with no time limit (several minutes).
``DECKGEN_FUZZ=dev`` runs a handful, for editing the strategies. A failure
prints the smallest input that breaks the property; turn it into a case in
tests/test_bad_inputs.py (if it is a user mistake that deserves a better
message) or a test beside the module that had the bug. Hypothesis keeps
failing examples in ``.hypothesis/`` (git-ignored) and replays them first.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_DECK
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_sanitize import unsafe

from deckgen.cardfile import read_card_file
from deckgen.cardtext import CheckContext
from deckgen.check import check_deck
from deckgen.config import load_config
from deckgen.convert import Converter, load_phrases, read_phrases
from deckgen.errors import DeckgenError, Problem
from deckgen.model import PROTECT_CLOSE, PROTECT_OPEN, Card, Kind
from deckgen.parse import CARD_ID, parse_card
from deckgen.stages import Job, process_card

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=150, **_COMMON)
settings.register_profile("long", max_examples=7500, **_COMMON)
settings.register_profile("dev", max_examples=10, **_COMMON)
# Applied per test, so that other modules' hypothesis settings are left alone.
FUZZ = settings.get_profile(os.environ.get("DECKGEN_FUZZ", "ci"))

FRAGMENTS = [
    *("## ", "# ", "### ", "\n", "\n\n", "\r\n", "\r", "\t", " ", "\ufeff", "\x00", "\ue000"),
    *("{#card-a}\n", "{#card-b .cloze}\n", '{#card-c .reversed tags="a b"}\n', "{#Bad_Id}\n"),
    *("{.cloze}\n", '{#card-d allow="DG101"}\n', "{#card-e .flashcard}\n", '{tags="<x>"}\n'),
    *("{{c1::", "{{c2::", "{{c3::", "}}", "::", "{{c0::", "{{c1000::", "{{c1:", "\\{{", "{{"),
    *("{{c1::业务}}", "{{c2::**产品**::提示}}", "{{c1::`代码`}}", "{{c1::{{c2::嵌套}}}}"),
    *("> ", "::: note\n", ":::\n", "---\n", "deck: 基础\n", "tags: [a, b]\n", "tags: 3\n"),
    *("deck: [1, 2]\n", "tag: x\n", "- ", "1. ", "| a | b |\n|---|---|\n| 1 | 2 |\n"),
    *("**", "*", "_", "`", "```\n", "~~", "\\", "&amp;", "&#123;", "&#0;", "<b>", "<script>"),
    *("[链接](https://ok.example/)", "[x](javascript:alert(1))", "<https://ok.example>"),
    *("![图](images/dot.png)", "![x](../x.png)", "![x](/etc/passwd)", "![x](images/no.png)"),
    *("运营", "产品", "發", "头发", "面对", "干", "。", "，", "“", "？"),
]
markdown = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40).map(
    "".join
)
# Fragments that are no mistake by themselves, so that many examples parse into cards.
_SAFE = [
    f
    for f in FRAGMENTS
    if not any(bad in f for bad in ("<", "javascript", "../", "/etc", "no.png", "{", "\ue000"))
    and f not in ("# ", "## ", "### ", "---\n", "::: note\n", "\x00")
]
safe_markdown = st.lists(
    st.one_of(st.sampled_from(_SAFE), st.text(alphabet="运营产品 *_`~-.\n", max_size=4)),
    min_size=1,
    max_size=20,
).map(lambda text: "答" + "".join(text))
cloze_answer = st.lists(
    st.one_of(
        st.sampled_from(["{{c1::", "{{c2::", "}}", "::", "**", "`", "业务", "、", "\\{{", "\n"]),
        st.text(alphabet="运营产品{}:c123*`\\ \n", max_size=5),
    ),
    min_size=1,
    max_size=20,
).map("".join)


@st.composite
def card_files(draw: st.DrawFn) -> str:
    """Mostly well-formed card files, with random cloze markers and Markdown inside."""
    cards = []
    for number in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["", " .cloze", " .reversed"]))
        question = draw(st.one_of(st.just("问题是什么？"), safe_markdown, markdown))
        if kind == " .cloze":
            answer = draw(st.one_of(cloze_answer, cloze_answer.map("要整合{{c1::业务}}".__add__)))
        else:
            answer = draw(st.one_of(safe_markdown, markdown))
        extra = draw(st.sampled_from(["", "\n\n> 引文\n", "\n\n::: note\n注释\n:::\n"]))
        cards.append(f"{{#card-{number}{kind}}}\n## {question}\n\n{answer}{extra}\n")
    return draw(st.sampled_from(["", "---\ndeck: 基础\n---\n\n"])) + "\n".join(cards)


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deck folder (sample config and image) whose one card file each example rewrites."""
    folder = tmp_path_factory.mktemp("fuzz") / "deck"
    shutil.copytree(SAMPLE_DECK, folder)
    for path in folder.glob("*.md"):
        path.unlink()
    return folder


def _parse(deck: Path, data: bytes) -> list[Card] | DeckgenError:
    """The file's cards as the build reads them, or every problem it has."""
    path = deck / "fuzz.md"
    path.write_bytes(data)
    read = read_card_file(path, deck_dir=deck)
    problems: list[Problem] = list(read.problems)
    cards = []
    for text in read.cards:
        card, found = parse_card(text, deck_dir=deck)
        problems += found
        if card is not None:
            cards.append(card)
    if not problems:
        return cards
    event("DeckgenError")
    lines = data.count(b"\n") + data.count(b"\r") + 1
    for problem in problems:
        assert problem.location.path == path
        assert 0 <= problem.location.line <= lines, problem.format()
        assert problem.message and problem.code.startswith("DG")
    return DeckgenError(problems)


_CONVERTER: list[Converter] = []


def _converter() -> Converter:
    if not _CONVERTER:
        phrases = [*load_phrases(None), *read_phrases(SAMPLE_DECK / "phrases.txt")]
        _CONVERTER.append(Converter("s2tw", phrases))
    return _CONVERTER[0]


def _ascii(text: str) -> str:
    return re.sub(r"[^\x00-\x7f]", "", text)


def _assert_valid(cards: list[Card], deck: Path) -> None:
    """Parsed cards are well-formed, and the rest of the card stages (check, render,
    convert, sanitize) raise nothing and leave only allowlisted HTML in every variant."""
    event("parsed into cards" if cards else "parsed, no cards")
    config = load_config(deck)
    phrases = load_phrases(config)
    job = Job(deck, config, phrases)
    for card in cards:
        assert CARD_ID.match(card.id) and isinstance(card.kind, Kind)
        assert card.question.text.strip() and card.answer.markdown.strip()
        if card.kind is Kind.CLOZE:
            assert card.cloze_numbers
    summaries = []
    for text in read_card_file(deck / "fuzz.md", deck_dir=deck).cards:
        result = process_card(text, job)
        summaries += [result.summary] if result.summary else []
        for note in result.notes:
            for field in note.fields:
                assert unsafe(field) == [], field
                assert PROTECT_OPEN not in field and PROTECT_CLOSE not in field
    check_deck(summaries, CheckContext.of(config, phrases), deck=config)


@FUZZ
@given(text=markdown)
def test_random_markdown_parses_or_fails_cleanly(deck: Path, text: str) -> None:
    result = _parse(deck, text.encode("utf-8", "surrogatepass"))
    if not isinstance(result, DeckgenError):
        _assert_valid(result, deck)


@FUZZ
@given(text=card_files())
def test_cards_with_random_cloze_markers(deck: Path, text: str) -> None:
    result = _parse(deck, text.encode())
    if not isinstance(result, DeckgenError):
        _assert_valid(result, deck)


@FUZZ
@given(text=st.text())
def test_arbitrary_unicode(deck: Path, text: str) -> None:
    result = _parse(deck, text.encode("utf-8", "surrogatepass"))
    if not isinstance(result, DeckgenError):
        _assert_valid(result, deck)


@FUZZ
@given(data=st.binary(max_size=200), prefix=st.sampled_from([b"", b"{#card-a}\n## q\n\n"]))
def test_arbitrary_bytes(deck: Path, data: bytes, prefix: bytes) -> None:
    result = _parse(deck, prefix + data)
    if not isinstance(result, DeckgenError):
        _assert_valid(result, deck)


@FUZZ
# Files are UTF-8 (no lone surrogates) and the parser refuses U+E000/U+E001 (DG003).
@given(
    text=st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters=PROTECT_OPEN + PROTECT_CLOSE)
    )
)
def test_converter_keeps_ascii_and_protected_spans(text: str) -> None:
    protected = f"{PROTECT_OPEN}<code>{text}</code>{PROTECT_CLOSE}"
    converted = _converter().html(f"<p>{text}</p>{protected}")
    assert converted.endswith(f"<code>{text}</code>")
    assert _ascii(converted) == _ascii(f"<p>{text}</p><code>{text}</code>")
    # Plain text too (tags, deck names): nothing but CJK changes, NUL bytes included.
    assert _ascii(_converter().text(text)) == _ascii(text)
