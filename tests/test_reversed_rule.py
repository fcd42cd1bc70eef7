"""DG112: a reversed card asks in both directions, so its front must be a question and
its answer (the reverse card's prompt) a self-contained cue, in any deck.

Each case writes a one-file deck into tmp_path (attributes on line 1, the heading
on 2, the answer on 4, the quote on 6, ``::: note`` on 8) and runs ``deckgen check
--format json``, as tests/test_rules.py does. Example texts avoid characters with
several Traditional forms (DG201).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run

DECK_TOML = """\
[deck]
id = 1700000000112
title = "双向卡样例"
script = "{script}"

[source]
title = "如何做好运营工作"
author = "@思无邪"
site = "人人都是产品经理"

[variants.{script}]
opencc = "none"
"""

LABEL = "运营人员必备的基础素质【结果导向】"
QUESTION = "《如何做好运营工作》里，运营人员的基础素质“结果导向”指什么？"
BARE = "不达目标不罢休"
CUE = "不达目标不罢休：思无邪说这是运营人员必备的基础素质"


def card(question: str, answer: str, *, kind: str = ".reversed", attrs: str = "") -> str:
    """One card in the documented layout, with a quote and a note."""
    return (
        f"{{#result-oriented {kind}{attrs}}}\n## {question}\n\n{answer}\n\n"
        "> 不达目标不罢休也是运营人员必备的基础素质\n\n"
        "::: note\n先定一个可衡量的目标，一条路走不通就换一条。\n:::\n"
    )


@dataclass(frozen=True)
class Case:
    text: str
    """The card file."""
    lines: tuple[int, ...]
    """The lines DG112 is reported at (none: the card is clean)."""
    message: str = ""
    """A word the (first) message must contain."""


CASES = {
    "label-front-and-bare-answer": Case(card(LABEL, BARE), (2, 4), "not a question"),
    "label-front": Case(card(LABEL, CUE), (2,), "not a question"),
    "bare-answer": Case(card(QUESTION, BARE), (4,), "bare term"),
    "answer-without-the-question's-words": Case(
        card(QUESTION, "不达目标不罢休，一条路不通就换一条"), (4,), "shares no word"
    ),
    "question-and-cue": Case(card(QUESTION, CUE), ()),
    "question-word-without-question-mark": Case(
        card("《如何做好运营工作》里，运营人员的基础素质“结果导向”指什么", CUE), ()
    ),
    "question-mark-inside-closing-quote": Case(
        card("作者问：“运营人员的基础素质结果导向是说？”", CUE), ()
    ),
    "latin-words-are-shared-words": Case(
        card(
            "Which tool does the author suggest to learn with?",
            "ChatGPT, the tool the author suggests to learn with",
        ),
        (),
    ),
    "basic-cards-are-not-concerned": Case(card(LABEL, BARE, kind=".basic"), ()),
    "cloze-cards-are-not-concerned": Case(
        card("运营人员的基础素质", "{{c1::不达目标不罢休}}就是结果导向", kind=".cloze"), ()
    ),
}


def _check(tmp_path: Path, text: str, script: str = "zh-Hans") -> list[dict[str, object]]:
    deck = tmp_path / "deck"
    deck.mkdir()
    (deck / "deck.toml").write_text(DECK_TOML.format(script=script), "utf-8")
    (deck / "cards.md").write_text(text, "utf-8")
    result = run("check", deck, "--format", "json")
    return [p for p in json.loads(result.stdout) if p["code"] == "DG112"]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_reversed_cards_ask_in_both_directions(tmp_path: Path, case: Case) -> None:
    problems = _check(tmp_path, case.text)
    assert [p["line"] for p in problems] == list(case.lines)
    for problem in problems:
        assert problem["severity"] == "warning"
        assert problem["path"] == str(tmp_path / "deck" / "cards.md")
        assert problem["hint"]
    if case.message:
        assert case.message in str(problems[0]["message"])


def test_a_traditional_deck_is_checked_the_same_way(tmp_path: Path) -> None:
    problems = _check(
        tmp_path, card("運營人員必備的基礎素質【結果導向】", "不達目標不罷休"), "zh-Hant"
    )
    assert [p["line"] for p in problems] == [2, 4]


def test_allow_silences_it_on_the_card(tmp_path: Path) -> None:
    assert _check(tmp_path, card(LABEL, BARE, attrs=' allow="DG112"')) == []


def test_strict_fails_on_it(tmp_path: Path) -> None:
    deck = tmp_path / "deck"
    deck.mkdir()
    (deck / "deck.toml").write_text(DECK_TOML.format(script="zh-Hans"), "utf-8")
    (deck / "cards.md").write_text(card(LABEL, CUE), "utf-8")
    result = run("check", deck, "--strict")
    assert result.exit_code == 1
    assert f"{deck / 'cards.md'}:2: warning: the front of a reversed card is not a question" in (
        result.stderr
    )
