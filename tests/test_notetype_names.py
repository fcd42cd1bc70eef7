"""Note-type names are script-neutral, and renaming them reaches learners in real Anki:
the note type is updated in place (same id and schema), notes and history kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import AnkiCollection, run
from helpers import SAMPLE_HANS, SAMPLE_HANT

from deckgen import notetypes
from deckgen.model import Kind

HANS, HANT = SAMPLE_HANS, SAMPLE_HANT
OLD_NAMES = {
    Kind.BASIC: "deckgen 问答 Basic",
    Kind.REVERSED: "deckgen 双向 Basic+Reversed",
    Kind.CLOZE: "deckgen 填空 Cloze",
}
NEW_NAMES = {
    Kind.BASIC: "deckgen Basic",
    Kind.REVERSED: "deckgen Basic+Reversed",
    Kind.CLOZE: "deckgen Cloze",
}


def test_names_are_script_neutral() -> None:
    from deckgen.convert import Converter

    for kind, name in NEW_NAMES.items():
        assert notetypes.note_type(kind).name == name
        # The same in both scripts: nothing OpenCC would change in either direction.
        assert Converter("s2t", []).text(name) == Converter("t2s", []).text(name) == name


def _names(anki: AnkiCollection) -> dict[int, str]:
    """Note-type id → name, from the collection itself (``models.all()`` is a cache)."""
    return {entry.id: entry.name for entry in anki.col.models.all_names_and_ids()}


def _build(deck: Path, out: Path) -> None:
    result = run("build", deck, "--out", out)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("package", [HANS, HANT], ids=["zh-Hans", "zh-Hant"])
def test_a_learner_with_the_old_names_gets_the_new_ones(
    sample_deck: Path,
    tmp_path: Path,
    anki: AnkiCollection,
    monkeypatch: pytest.MonkeyPatch,
    package: str,
) -> None:
    specs = dict(notetypes._SPECS)
    old = {kind: (i, OLD_NAMES[kind], t) for kind, (i, _, t) in specs.items()}
    monkeypatch.setattr(notetypes, "_SPECS", old)
    notetypes.note_type.cache_clear()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / package)
    assert set(OLD_NAMES.values()) <= set(_names(anki).values())
    card = anki.card_by_id_field("sample-result")
    anki.review(card, ease=4)
    reps, interval, notes = card.reps, card.ivl, anki.col.note_count()

    monkeypatch.setattr(notetypes, "_SPECS", specs)
    notetypes.note_type.cache_clear()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    # A new output folder: the no-op guard knows deckgen's version, not a patched name.
    _build(sample_deck, tmp_path / "new")
    log = anki.import_package(tmp_path / "new" / package)  # Anki's default options

    assert (log.new, log.conflicting) == (0, 0)
    names = _names(anki)
    for kind, name in NEW_NAMES.items():
        assert names[notetypes.note_type(kind).id] == name
    assert not set(OLD_NAMES.values()) & set(names.values())
    assert anki.col.note_count() == notes
    card.load()
    assert (card.reps, card.ivl) == (reps, interval)
    assert names[card.note().mid] == NEW_NAMES[Kind.BASIC]
    notetypes.note_type.cache_clear()
