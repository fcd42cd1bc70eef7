"""The conversion rules on real OpenCC: DG201 on OpenCC's own words, DG202, DG203 (one
word, one form), DG120 in both directions, and deck.toml's configs checked by script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run

DECK_TOML = """\
[deck]
id = 1700000000203
title = "规则样例"
script = "{script}"
phrases = "phrases.txt"

[source]
title = "规则样例"
author = "@思无邪"
site = "人人都是产品经理"

[variants.{first}]
opencc = "none"

[variants.{second}]
opencc = "{opencc}"
{extra}"""


def _deck(
    tmp_path: Path,
    answers: list[str],
    *,
    phrases: str = "",
    script: str = "zh-Hans",
    opencc: str = "",
    extra: str = "",
) -> Path:
    deck = tmp_path / "deck"
    deck.mkdir(exist_ok=True)
    hant = script == "zh-Hant"
    (deck / "deck.toml").write_text(
        DECK_TOML.format(
            script=script,
            first="zh-Hant" if hant else "zh-Hans",
            second="zh-Hans" if hant else "zh-Hant",
            opencc=opencc or ("tw2s" if hant else "s2tw"),
            extra=extra,
        ),
        "utf-8",
    )
    (deck / "phrases.txt").write_text(phrases, "utf-8")
    question = "問題{n}是什麼？" if hant else "问题{n}是什么？"
    cards = "".join(
        f"{{#card-{n}}}\n## {question.format(n=n)}\n\n{answer}\n\n"
        for n, answer in enumerate(answers)
    )
    (deck / "cards.md").write_text(cards, "utf-8")
    return deck


def _problems(deck: Path, code: str) -> list[dict[str, object]]:
    result = run("check", deck, "--format", "json")
    return [p for p in json.loads(result.stdout) if p["code"] == code]


@pytest.mark.parametrize("text", ["我们几次面对一张表里的数据", "几次", "面对", "一张表里"])
def test_dg201_is_quiet_where_an_opencc_word_decides(tmp_path: Path, text: str) -> None:
    assert _problems(_deck(tmp_path, [text]), "DG201") == []


@pytest.mark.parametrize(
    ("text", "char", "wrote"),
    [
        ("我把发剪短了", "'发'", "'發'"),
        ("他只吃面", "'面'", "'面'"),
        ("衣服干了", "'干了'", "'幹了'"),
    ],
    ids=["fa-hair", "mian-noodles", "gan-dry"],
)
def test_dg201_fires_on_a_real_ambiguity(tmp_path: Path, text: str, char: str, wrote: str) -> None:
    problems = _problems(_deck(tmp_path, [text]), "DG201")
    assert problems and problems[0]["line"] == 4
    message = next(p["message"] for p in problems if char in str(p["message"]))
    assert wrote in str(message)


def test_dg201_suggests_only_opencc_words(tmp_path: Path) -> None:
    [word] = _problems(_deck(tmp_path, ["衣服干了"]), "DG201")
    assert "'干了<TAB>…'" in str(word["hint"])
    [alone] = _problems(_deck(tmp_path, ["我把发剪短了"]), "DG201")
    assert "<TAB>" not in str(alone["hint"])  # no guessed word such as 把发 or 发剪


def test_dg201_is_settled_by_a_phrase_entry(tmp_path: Path) -> None:
    assert _problems(_deck(tmp_path, ["衣服干了"], phrases="干了\t乾了\n"), "DG201") == []


def test_dg202_still_reports_an_entry_the_segmentation_overrides(tmp_path: Path) -> None:
    deck = _deck(tmp_path, ["早餐我和面包一起买"], phrases="面包\t麵包\n")
    [problem] = _problems(deck, "DG202")
    assert "'和面包<TAB>…'" in str(problem["hint"])
    deck = _deck(tmp_path, ["早餐我和面包一起买"], phrases="面包\t麵包\n和面包\t和麵包\n")
    assert _problems(deck, "DG202") == []


def test_dg203_fires_where_one_word_converts_two_ways(tmp_path: Path) -> None:
    deck = _deck(tmp_path, ["了解运营的技能", "了解用户的需求", "先了解运营"])
    [problem] = _problems(deck, "DG203")
    assert problem["line"] == 14
    assert "'了解' is '了解' here in zh-Hant, but '瞭解' in 2 other place(s)" in str(
        problem["message"]
    )
    assert "先了解<TAB>先瞭解" in str(problem["hint"])


def test_dg203_is_settled_by_phrase_entries(tmp_path: Path) -> None:
    answers = ["了解运营的技能", "了解用户的需求", "先了解运营"]
    deck = _deck(tmp_path, answers, phrases="先了解\t先瞭解\n")
    assert _problems(deck, "DG203") == []


def test_dg203_leaves_words_that_wording_changes_on_purpose(tmp_path: Path) -> None:
    deck = _deck(tmp_path, ["数据看板"], extra='wording = "s2twp"\n')
    (deck / "cards.md").write_text("{#c}\n## 问题是什么？\n\n数据看板\n\n> 用户的数据\n", "utf-8")
    assert _problems(deck, "DG203") == []


def test_dg120_in_a_traditional_deck_finds_simplified_characters(tmp_path: Path) -> None:
    deck = _deck(tmp_path, ["用这三樣檢查", "台灣的裡面"], script="zh-Hant")
    [problem] = _problems(deck, "DG120")
    assert (problem["line"], problem["severity"]) == (4, "error")
    assert "'这' is Simplified" in str(problem["message"])


def test_dg201_in_a_traditional_deck(tmp_path: Path) -> None:
    deck = _deck(tmp_path, ["衣服乾了再收"], script="zh-Hant")
    [problem] = _problems(deck, "DG201")
    assert "'乾'" in str(problem["message"]) and "Simplified forms" in str(problem["message"])
    deck = _deck(tmp_path, ["衣服乾了再收"], script="zh-Hant", phrases="衣服乾了\t衣服干了\n")
    assert _problems(deck, "DG201") == []


@pytest.mark.parametrize(
    ("script", "opencc", "extra", "expected"),
    [
        ("zh-Hant", "s2tw", "", "reads zh-Hans text, but the cards are written in zh-Hant"),
        ("zh-Hans", "t2s", "", "reads zh-Hant text, but the cards are written in zh-Hans"),
        ("zh-Hans", "s2tx", "", "unknown OpenCC config 's2tx'"),
        ("zh-Hant", "t2tw", "", "variant zh-Hans would be zh-Hant text"),
        ("zh-Hans", "s2tw", 'wording = "s2twp"\nwording_x = 1\n', "unknown key"),
        ("zh-Hant", "tw2s", 'wording = "t2tw"\n', "wording 't2tw' writes zh-Hant"),
    ],
    ids=["s2tw-in-hant", "t2s-in-hans", "unknown", "wrong-script", "unknown-key", "wording"],
)
def test_configs_are_checked_by_script(
    tmp_path: Path, script: str, opencc: str, extra: str, expected: str
) -> None:
    deck = _deck(tmp_path, ["整合"], script=script, opencc=opencc, extra=extra)
    result = run("check", deck)
    assert result.exit_code == 1
    assert expected in result.output and "[DG010]" in result.output
