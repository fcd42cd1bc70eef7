"""package.py writes notes and cards as the rows genanki's own writer makes, faster."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import zipfile
from pathlib import Path

import genanki
import pytest
from conftest import FIXTURES

from deckgen.build import check
from deckgen.model import Kind
from deckgen.notetypes import note_type
from deckgen.package import DeckData, PackagedNote, _genanki_model, stage_package

TIME = 1_790_000_000


def _rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(database)
    try:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("col", "notes", "cards")
        }
    finally:
        connection.close()


@pytest.mark.parametrize("deck", ["sample", "rich"])
def test_rows_are_genankis_own(deck: str, tmp_path: Path) -> None:
    """Every kind of note, every variant: the collection deckgen writes holds exactly the
    rows (note ids, fields, sort field, tags, cards per template or cloze number, due)
    that genanki's Note.write_to_db writes for the same notes, decks and note types."""
    folder = shutil.copytree(FIXTURES / "decks" / deck, tmp_path / deck)
    results = check(folder).results
    notes_of = {n.variant: [] for r in results for n in r.notes}
    for result in results:
        for note, guid in zip(result.notes, result.guids, strict=True):
            notes_of[note.variant].append((note, guid))
    kinds = {note.kind for notes in notes_of.values() for note, _ in notes}
    assert deck != "sample" or kinds == set(Kind), "the sample deck holds every kind"
    for variant, notes in notes_of.items():
        names = sorted({note.deck for note, _ in notes})
        decks = [DeckData(name, 1_000 + index) for index, name in enumerate(names)]
        packaged = [PackagedNote(note, guid, TIME, due) for due, (note, guid) in enumerate(notes)]
        staged = stage_package(
            tmp_path / f"{variant}.apkg",
            notes=packaged,
            decks=decks,
            note_type_mtimes={kind.value: TIME for kind in Kind},
            media={},
        )
        staged.publish()
        ours = tmp_path / f"{variant}.anki2"
        with zipfile.ZipFile(tmp_path / f"{variant}.apkg") as archive:
            ours.write_bytes(archive.read("collection.anki2"))

        models = {kind: _genanki_model(note_type(kind), TIME) for kind in Kind}
        by_name = {d.name: genanki.Deck(d.id, d.name, d.description) for d in decks}
        for item in packaged:
            by_name[item.note.deck].add_note(
                genanki.Note(
                    model=models[item.note.kind],
                    fields=list(item.note.fields),
                    tags=list(item.note.tags),
                    guid=item.guid,
                    due=item.due,
                )
            )
        theirs = tmp_path / f"{variant}.genanki.anki2"
        connection = sqlite3.connect(theirs)
        genanki.Package(list(by_name.values())).write_to_db(
            connection.cursor(), TIME, itertools.count(TIME * 1000)
        )
        connection.commit()
        connection.close()

        expected = _rows(theirs)
        assert len(expected["notes"]) == len(notes) and expected["cards"]
        assert _rows(ours) == expected, variant
