"""Round trip at scale through real Anki: 2,000 cards in both scripts, edited and extended.

Build a generated deck, import both packages into one collection, review a
sample, rebuild with 10% of the cards edited and 5% added, re-import with
Anki's default options, and count: exactly the added notes are new, exactly
the edited ones are updated, nothing is duplicated, and the sampled cards keep
their review history. Takes ~8 s on 2 cores; ``-m 'not slow'`` skips it locally.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import AnkiCollection

from deckgen.cli import cli

CARDS = 2000
FILES = 10
EDITED = CARDS // 10
ADDED = CARDS // 20
SAMPLE = 40
# Simplified characters, none of them Traditional (DG120 is an error):
# the generated deck must pass check.
_POOL = "运营产品用户数据内容活动目标结果能力方法增长渠道转化市场团队沟通计划复盘价值体验"

DECK_TOML = """\
[deck]
id = 1700000000777
title = "规模测试"
script = "zh-Hans"
tags = ["规模"]

[source]
title = "规模测试"
author = "测试"
site = "deckgen"

[variants.zh-Hans]
opencc = "none"

[variants.zh-Hant]
opencc = "s2tw"
"""


def _words(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_POOL) for _ in range(n))


def _card(number: int, edit: int = 0) -> str:
    """Card number ``number``; ``edit`` > 0 changes its answer."""
    rng = random.Random(number)
    question = f"第{number}题：{_words(rng, 6)}是什么？"
    answer = _words(rng, 5) + ("改" * edit)
    kind = ("", " .reversed", " .cloze")[number % 3]
    if kind == " .cloze":
        answer = f"{_words(rng, 3)}{{{{c1::{answer}}}}}{_words(rng, 3)}。"
    return f"{{#gen-{number:04d}{kind}}}\n## {question}\n\n{answer}\n\n> {_words(rng, 8)}\n\n"


def _write_deck(deck: Path, *, count: int, edited: set[int]) -> None:
    deck.mkdir(exist_ok=True)
    (deck / "deck.toml").write_text(DECK_TOML, "utf-8")
    per_file = CARDS // FILES
    for start in range(0, count, per_file):
        cards = [
            _card(n, 1 if n in edited else 0) for n in range(start, min(count, start + per_file))
        ]
        text = f"---\ndeck: 第{start // per_file}组\n---\n\n" + "".join(cards)
        (deck / f"{start // per_file:02d}.md").write_text(text, "utf-8")


def _build(deck: Path, out: Path) -> list[Path]:
    result = CliRunner().invoke(cli, ["build", str(deck), "--out", str(out)])
    assert result.exit_code == 0, result.output[-2000:]
    return [out / "规模测试.zh-Hans.apkg", out / "規模測試.zh-Hant.apkg"]


def _notes_by_id(anki: AnkiCollection) -> Counter[tuple[str, str]]:
    """(card id, script) → how many notes; Lang and Id are every note type's last fields."""
    rows = anki.col.db.list("select flds from notes")
    return Counter((flds.split("\x1f")[-1], flds.split("\x1f")[-2]) for flds in rows)


def _history(anki: AnkiCollection, card_ids: list[int]) -> dict[int, tuple[object, ...]]:
    state = {}
    for cid in card_ids:
        card = anki.col.get_card(cid)
        reviews = anki.col.db.scalar("select count() from revlog where cid = ?", cid)
        state[cid] = (card.reps, card.ivl, card.due, card.type, card.queue, reviews)
    return state


@pytest.mark.slow
def test_2000_cards_round_trip_keeps_history(
    tmp_path: Path, anki: AnkiCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck, out = tmp_path / "deck", tmp_path / "out"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _write_deck(deck, count=CARDS, edited=set())
    first = [anki.import_package(package) for package in _build(deck, out)]
    assert [(log.new, log.updated) for log in first] == [(CARDS, 0), (CARDS, 0)]
    assert anki.col.note_count() == 2 * CARDS

    rng = random.Random(2024)
    edited = set(rng.sample(range(CARDS), EDITED))
    # Review cards of both scripts, half of them cards whose notes will be edited.
    sample_ids = sorted(rng.sample(sorted(edited), SAMPLE // 2))
    sample_ids += sorted(rng.sample(sorted(set(range(CARDS)) - edited), SAMPLE // 2))
    reviewed = []
    for index, number in enumerate(sample_ids):
        card = anki.card_by_id_field(f"gen-{number:04d}")
        if index % 2:  # alternate scripts: card_by_id_field finds either; pick the other one
            other = [c for c in anki.col.find_cards(f'"Id:gen-{number:04d}"') if c != card.id]
            card = anki.col.get_card(other[0])
        anki.review(card, ease=3)
        reviewed.append(card.id)
    before = _history(anki, reviewed)
    assert all(state[0] == 1 for state in before.values())

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    _write_deck(deck, count=CARDS + ADDED, edited=edited)
    second = [anki.import_package(package) for package in _build(deck, out)]

    # Per script: exactly the added notes are new, exactly the edited ones updated.
    counts = [(log.new, log.updated, log.unchanged, log.conflicting) for log in second]
    assert counts == [(ADDED, EDITED, CARDS - EDITED, 0)] * 2
    notes = _notes_by_id(anki)
    assert anki.col.note_count() == 2 * (CARDS + ADDED) == len(notes)
    assert set(notes.values()) == {1}  # no duplicates
    assert {card_id for card_id, _ in notes} == {f"gen-{n:04d}" for n in range(CARDS + ADDED)}
    assert _history(anki, reviewed) == before
    for cid in reviewed:
        note = anki.col.get_card(cid).note()
        number = int(note["Id"].removeprefix("gen-"))
        assert ("改" in note.fields[0] + note.fields[1]) == (number in edited)
