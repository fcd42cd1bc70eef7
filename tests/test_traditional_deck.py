"""A deck written in Traditional (zh-Hant), from a clean folder: checked against a
Traditional source, built into both packages (zh-Hant as written, with 「」; zh-Hans by
OpenCC tw2s with the deck's Traditional→Simplified phrases), imported into real Anki."""

from __future__ import annotations

from pathlib import Path

from conftest import AnkiCollection, run

DECK_TOML = """\
[deck]
id = 1700000000913
title = "如何做好運營工作"
script = "zh-Hant"
tags = ["運營"]
phrases = "phrases.txt"

[source]
title = "如何做好運營工作"
author = "@思無邪"
site = "人人都是產品經理"

[variants.zh-Hant]
opencc = "none"
quotation_marks = "corner"

[variants.zh-Hans]
opencc = "tw2s"
"""
CARDS = """\
---
deck: 核心能力
tags: [整合]
---

{#core}
## 在《如何做好運營工作》中，作者認為產品運營最核心的能力是什麼？

整合

> 產品運營最核心的能力應該是“整合”

::: note
用這三樣檢查自己哪塊最弱，然後補上。
:::

{#three .cloze}
## 《如何做好運營工作》：作者說的整合，整合的是哪三樣？

整合{{c1::業務}}、{{c2::產品}}和{{c3::技術}}

> 整合業務,產品,技術。

::: note
收衣服前，先確認衣服乾了。
:::
"""
SOURCE = "產品運營最核心的能力應該是“整合”。整合什麼呢?整合業務,產品,技術。"
HANT = "如何做好運營工作.zh-Hant.apkg"
HANS = "如何做好运营工作.zh-Hans.apkg"


def _write_deck(folder: Path) -> Path:
    deck = folder / "deck"
    deck.mkdir()
    (deck / "deck.toml").write_text(DECK_TOML, "utf-8")
    (deck / "phrases.txt").write_text("# Traditional<TAB>Simplified\n衣服乾了\t衣服干了\n", "utf-8")
    (deck / "01-core.md").write_text(CARDS, "utf-8")
    (folder / "article.zh-Hant.txt").write_text(SOURCE, "utf-8")
    return deck


def test_traditional_deck_checks_against_a_traditional_source(tmp_path: Path) -> None:
    deck = _write_deck(tmp_path)
    result = run("check", deck, "--strict", "--source", tmp_path / "article.zh-Hant.txt")
    assert result.exit_code == 0, result.output
    # A quote that is not in the Traditional source (here: in Simplified) is an error.
    cards = deck / "01-core.md"
    cards.write_text(CARDS.replace("> 整合業務,產品,技術。", "> 整合业务,产品,技术。"), "utf-8")
    result = run("check", deck, "--source", tmp_path / "article.zh-Hant.txt")
    assert result.exit_code == 1
    assert "[DG110]" in result.output and "[DG120]" in result.output


def test_traditional_deck_builds_both_packages_into_real_anki(
    tmp_path: Path, anki: AnkiCollection
) -> None:
    deck = _write_deck(tmp_path)
    result = run("build", deck, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    for package in (HANT, HANS):
        log = anki.import_package(tmp_path / "out" / package)
        assert (log.new, log.conflicting) == (2, 0)

    hant = anki.col.get_note(anki.col.find_notes('"Id:core" "Lang:zh-Hant"')[0])
    assert "產品運營最核心的能力應該是「整合」" in hant["Quote"]  # as written, corner marks
    hans = anki.col.get_note(anki.col.find_notes('"Id:core" "Lang:zh-Hans"')[0])
    assert "产品运营最核心的能力应该是“整合”" in hans["Quote"]
    assert "用这三样检查自己哪块最弱，然后补上。" in hans["Note"]
    assert "@思无邪" in hans["Source"] and "@思無邪" in hant["Source"]
    cloze = anki.col.get_note(anki.col.find_notes('"Id:three" "Lang:zh-Hans"')[0])
    assert "收衣服前，先确认衣服干了。" in cloze["Note"]  # the deck's entry (tw2s agrees)
    assert "{{c1::业务}}、{{c2::产品}}和{{c3::技术}}" in cloze["Text"]
    decks = {d.name for d in anki.col.decks.all_names_and_ids()}
    assert {"如何做好運營工作::核心能力", "如何做好运营工作::核心能力"} <= decks
    card = anki.card_by_id_field("three", 1)
    assert "产品" in card.question() or "產品" in card.question()
