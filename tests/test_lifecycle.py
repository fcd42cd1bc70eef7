"""A deck's life in releases, in real Anki: one learner's collection across every kind of change.

Each step edits the fixture deck the way a maintainer would, builds (as CI
does, with a later SOURCE_DATE_EPOCH each time), and imports both packages
with Anki's default options into the same collection. It asserts the exact
import counts per script, that every studied card keeps its reps, interval,
due and review log, and that the learner's own edit to one note survives
every release that does not change that note.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import AnkiCollection, ImportLog

from deckgen import outputs
from deckgen.cli import cli

DECK_TOML = """\
[deck]
id = 1700000000555
title = "{title}"
script = "zh-Hans"
phrases = "phrases.txt"

[source]
title = "生命周期"
author = "@作者"
site = "样例站"

[variants.zh-Hans]
opencc = "none"

[variants.zh-Hant]
opencc = "s2tw"
"""

CARD = "{{#{id}{kind}}}\n## {question}\n\n{answer}\n\n> 原文的一句话。\n\n::: note\n笔记。\n:::\n"
FIRST = {
    "life-edit": ("", "运营要先定什么？", "目标"),
    "life-phrase": ("", "作者剪短的是什么？", "头发"),
    "life-kind": ("", "产品运营要整合哪一样最难？", "业务"),
    "life-gone": ("", "运营人员最重要的素质是什么？", "结果导向"),
    "life-learner": ("", "学习能力为什么重要？", "技能都能学"),
}
SECOND = {
    "life-move": ("", "换位思考是什么？", "换个角度看问题"),
    "life-cloze": (" .cloze", "整合的对象", "整合{{c1::业务}}和{{c2::技术}}。"),
}
HANS, HANT = "生命周期.zh-Hans.apkg", "生命週期.zh-Hant.apkg"


def card(card_id: str, kind: str, question: str, answer: str) -> str:
    return CARD.format(id=card_id, kind=kind, question=question, answer=answer)


@dataclass
class Release:
    """The fixture deck, its output folder and the release clock."""

    deck: Path
    out: Path
    clock: int = field(default_factory=lambda: int(time.time()) - 100_000)
    """The first release is in the past; the learner's edit is now (Anki stamps edits with
    the real clock); every later release comes after it."""

    def write(
        self,
        first: dict[str, tuple[str, str, str]],
        second: dict[str, tuple[str, str, str]],
        *,
        title: str = "生命周期",
        second_deck: str = "乙",
    ) -> None:
        (self.deck / "deck.toml").write_text(DECK_TOML.format(title=title), "utf-8")
        for name, subdeck, cards in (("01-a.md", "甲", first), ("02-b.md", second_deck, second)):
            body = "\n".join(card(i, *fields) for i, fields in cards.items())
            (self.deck / name).write_text(f"---\ndeck: {subdeck}\n---\n\n{body}", "utf-8")

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

    def build(self, monkeypatch: pytest.MonkeyPatch) -> Result:
        self.clock += 100
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(self.clock))
        result = self.run("build", str(self.deck), "--out", str(self.out))
        assert result.exit_code == 0, result.output
        return result

    def codes(self) -> list[str]:
        result = self.run("check", str(self.deck), "--out", str(self.out), "--format", "json")
        import json

        return [p["code"] for p in json.loads(result.stdout)]


@pytest.fixture
def release(tmp_path: Path) -> Release:
    deck = tmp_path / "deck"
    deck.mkdir()
    (deck / "phrases.txt").write_text("# 样例\n", "utf-8")
    made = Release(deck, tmp_path / "out")
    made.write(FIRST, SECOND)
    return made


def _notes(out: Path) -> dict[str, object]:
    """Every note of the packages in ``out`` by GUID (readable when two builds differ)."""
    from deckgen.package import read_package

    found: dict[str, object] = {}
    for package in sorted(out.glob("*.apkg")):
        notes, types = read_package(package)
        found.update({note.guid: note for note in notes})
        found.update({f"{package.name}:{t.kind.value}": t.mtime for t in types})
    return found


def _imports(anki: AnkiCollection, out: Path) -> tuple[ImportLog, ImportLog]:
    return anki.import_package(out / HANS), anki.import_package(out / HANT)


def _counts(log: ImportLog) -> tuple[int, int, int, int]:
    return (log.new, log.updated, log.unchanged, log.conflicting)


@dataclass(frozen=True)
class Studied:
    reps: int
    ivl: int
    due: int
    reviews: int


def _state(anki: AnkiCollection, card_id: int) -> Studied:
    card = anki.col.get_card(card_id)
    reviews = anki.col.db.scalar("select count() from revlog where cid = ?", card_id)
    return Studied(card.reps, card.ivl, card.due, reviews)


def _hans_card(anki: AnkiCollection, card_id: str, ordinal: int = 0) -> int:
    found = anki.col.find_cards(f'"Id:{card_id}" "Lang:zh-Hans" card:{ordinal + 1}')
    assert len(found) == 1, (card_id, found)
    return found[0]


@pytest.fixture
def learner(tmp_path: Path) -> Iterator[AnkiCollection]:
    collection = AnkiCollection(tmp_path / "learner.anki2")
    yield collection
    collection.col.close()


def test_a_deck_evolves_and_the_learner_keeps_everything(
    release: Release, learner: AnkiCollection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anki = learner
    # (1) First release: everything is new; the learner studies and edits one note.
    release.build(monkeypatch)
    hans, hant = _imports(anki, release.out)
    assert (_counts(hans), _counts(hant)) == ((7, 0, 0, 0), (7, 0, 0, 0))
    studied = {}
    for card_id, ordinal in (
        ("life-edit", 0),
        ("life-gone", 0),
        ("life-kind", 0),
        ("life-cloze", 0),
    ):
        cid = _hans_card(anki, card_id, ordinal)
        anki.review(anki.col.get_card(cid), ease=3)
        studied[(card_id, ordinal)] = cid
    mine = anki.col.get_note(anki.col.get_card(_hans_card(anki, "life-learner")).nid)
    mine["Note"] = "我自己的笔记"
    anki.col.update_note(mine)
    release.clock = int(time.time()) + 10_000
    before = {key: _state(anki, cid) for key, cid in studied.items()}

    def unchanged_history(*gone: tuple[str, int]) -> None:
        for key, cid in studied.items():
            if key not in gone:
                assert _state(anki, cid) == before[key], key

    def learner_edit_kept() -> bool:
        return anki.col.get_note(mine.id)["Note"] == "我自己的笔记"

    # (2) One answer edited: one note updated in each script, nothing else touched.
    first = dict(FIRST, **{"life-edit": ("", "运营要先定什么？", "可衡量的目标")})
    release.write(first, SECOND)
    release.build(monkeypatch)
    assert tuple(map(_counts, _imports(anki, release.out))) == ((0, 1, 6, 0), (0, 1, 6, 0))
    assert "可衡量的目标" in anki.col.get_card(studied[("life-edit", 0)]).answer()
    unchanged_history()
    assert learner_edit_kept()

    # (3) A phrase entry that changes one Traditional note: zh-Hant only.
    (release.deck / "phrases.txt").write_text("# 样例\n头发\t頭發\n", "utf-8")
    release.build(monkeypatch)
    assert tuple(map(_counts, _imports(anki, release.out))) == ((0, 0, 7, 0), (0, 1, 6, 0))
    assert learner_edit_kept()

    # (4) A phrase entry that matches nothing, and a new deckgen: nothing to update.
    (release.deck / "phrases.txt").write_text("# 样例\n头发\t頭發\n黑板报\t黑板報\n", "utf-8")
    monkeypatch.setattr(outputs, "__version__", "99.0")
    result = release.build(monkeypatch)
    assert "up to date" not in result.output  # it did rebuild, and changed no note
    assert tuple(map(_counts, _imports(anki, release.out))) == ((0, 0, 7, 0), (0, 0, 7, 0))
    unchanged_history()
    assert learner_edit_kept()

    # (5) A released card changes kind: warned; a new note arrives, the old one is retired,
    # nothing conflicts (now or at any later import).
    kind = dict(first, **{"life-kind": (" .cloze", "产品运营要整合哪一样最难？", "{{c1::业务}}")})
    release.write(kind, SECOND)
    assert "DG304" in release.codes()
    release.build(monkeypatch)
    assert tuple(map(_counts, _imports(anki, release.out))) == ((1, 1, 6, 0), (1, 1, 6, 0))
    assert "DG304" not in release.codes()  # recorded: the warning was for this release
    unchanged_history()  # the old note keeps its history, as a retired note
    assert learner_edit_kept()

    # (6) A studied card deleted: retired in place, found by one search; a fresh learner
    # gets no card of it.
    gone = {k: v for k, v in kind.items() if k != "life-gone"}
    release.write(gone, SECOND)
    assert "DG302" in release.codes()
    release.build(monkeypatch)
    assert tuple(map(_counts, _imports(anki, release.out))) == ((0, 1, 7, 0), (0, 1, 7, 0))
    retired = anki.col.find_notes("tag:deckgen::retired Lang:zh-Hans")
    assert len(retired) == 2  # life-kind's basic note and life-gone
    gone_card = anki.col.get_card(studied[("life-gone", 0)])
    assert "已退役" in gone_card.answer()
    unchanged_history()
    assert learner_edit_kept()
    fresh = AnkiCollection(tmp_path / "fresh.anki2")
    try:
        fresh.import_package(release.out / HANS)
        assert fresh.col.find_notes("tag:deckgen::retired") != []
        assert fresh.col.find_cards("tag:deckgen::retired") == []  # nowhere in the queue
        assert fresh.col.card_count() == 7  # 4 basic + the new cloze + 2 cloze cards
    finally:
        fresh.col.close()

    # (7) The same card restored: it comes back with its history.
    release.write(kind, SECOND)
    assert "DG309" in release.codes()
    release.build(monkeypatch)
    assert tuple(map(_counts, _imports(anki, release.out))) == ((0, 1, 7, 0), (0, 1, 7, 0))
    assert "已退役" not in anki.col.get_card(studied[("life-gone", 0)]).answer()
    assert len(anki.col.find_notes("tag:deckgen::retired Lang:zh-Hans")) == 1
    unchanged_history()
    assert learner_edit_kept()

    # (8) Retired again, then its id reused for other content: an error, every time.
    release.write(gone, SECOND)
    release.build(monkeypatch)
    _imports(anki, release.out)
    reused = dict(gone, **{"life-gone": ("", "运营的出路是什么？", "利他")})
    release.write(reused, SECOND)
    for _ in range(2):
        assert "DG303" in release.codes()
        result = release.run("build", str(release.deck), "--out", str(release.out))
        assert result.exit_code == 1 and "[DG303]" in result.output
    release.write(gone, SECOND)
    assert learner_edit_kept()

    # (9) Moves and renames are announced; learners keep their cards where they were.
    second = dict(
        SECOND, **{"life-cloze": (" .cloze", "整合的对象", "整合{{c1::技术}}和{{c2::业务}}。")}
    )
    moved = dict(gone, **{"life-move": SECOND["life-move"]})
    release.write(moved, {"life-cloze": second["life-cloze"]}, title="生命周期二", second_deck="丙")
    codes = release.codes()
    assert {"DG305", "DG306", "DG307"} <= set(codes)
    release.build(monkeypatch)
    titled = ("生命周期二.zh-Hans.apkg", "生命週期二.zh-Hant.apkg")
    logs = [anki.import_package(release.out / name) for name in titled]
    # The title is in every note's deck: every note (retired ones too) is updated.
    assert [_counts(log) for log in logs] == [(0, 8, 0, 0), (0, 8, 0, 0)]
    move_card = anki.col.get_card(_hans_card(anki, "life-move"))
    assert anki.col.decks.name(move_card.did) == "生命周期::乙"  # Anki never moves cards
    unchanged_history()
    assert not learner_edit_kept()  # this release did change note A (its deck)

    # (10) The lock deleted and regenerated: a warning, the same packages, retired ids kept.
    packages = {p.name: p.read_bytes() for p in release.out.glob("*.apkg")}
    notes = _notes(release.out)
    (release.deck / "deck.lock.json").unlink()
    assert "DG308" in release.codes()
    result = release.build(monkeypatch)
    assert "[DG308]" in result.output
    assert _notes(release.out) == notes
    assert {p.name: p.read_bytes() for p in release.out.glob("*.apkg")} == packages
    lock = (release.deck / "deck.lock.json").read_text("utf-8")
    assert '"life-gone/basic"' in lock and '"life-kind/basic"' in lock
    assert [_counts(anki.import_package(release.out / name)) for name in titled] == [
        (0, 0, 8, 0),
        (0, 0, 8, 0),
    ]
    unchanged_history()


FORMAT_1 = Path(__file__).parent / "fixtures" / "locks" / "sample-format-1.json"
"""The sample deck's lock as deckgen 0.1.0 wrote it (one card's time made older by hand)."""


def _note_times(out: Path) -> dict[tuple[str, str], int]:
    from deckgen.model import FIELDS
    from deckgen.package import read_package

    times = {}
    for package in out.glob("*.apkg"):
        for note in read_package(package)[0]:
            fields = dict(zip(FIELDS[note.kind], note.fields, strict=True))
            times[(fields["Id"], fields["Lang"])] = note.mtime
    return times


@pytest.mark.parametrize("edited", [False, True], ids=["unchanged", "edited-since-last-build"])
def test_upgrading_from_format_1_keeps_every_time(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: bool
) -> None:
    """Upgrading deckgen must not look like an update to learners: every card that has not
    changed since its last release keeps its time; one edited since then gets a new one."""
    (sample_deck / "deck.lock.json").write_bytes(FORMAT_1.read_bytes())
    if edited:
        path = sample_deck / "01-basic.md"
        path.write_text(path.read_text("utf-8").replace("不罢休。", "决不罢休。"), "utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    result = CliRunner().invoke(cli, ["build", str(sample_deck), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output

    expected = {"sample-image": 1600000000, "sample-integration": 1700000000}
    expected |= {"sample-perspective": 1700000000}
    expected["sample-result"] = 1800000000 if edited else 1700000000
    times = _note_times(tmp_path / "out")
    assert times == {(c, v): t for c, t in expected.items() for v in ("zh-Hans", "zh-Hant")}
    assert '"format": 2' in (sample_deck / "deck.lock.json").read_text("utf-8")
