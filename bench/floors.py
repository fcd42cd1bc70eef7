"""The floors the benchmark compares deckgen with, each run as its own process."""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any


def dump(deck: Path, out: Path) -> None:
    """Run the card stages once (deckgen's own notes, converted and sanitized); save the
    notes of every variant and each card's Markdown parts."""
    from deckgen.build import check

    checked = check(deck)
    variants: dict[str, list[dict[str, Any]]] = {}
    for result in checked.results:
        for note in result.notes:
            variants.setdefault(note.variant, []).append(
                {
                    "kind": note.kind.value,
                    "guid": f"{note.variant}-{note.card_id}",
                    "fields": list(note.fields),
                    "tags": list(note.tags),
                }
            )
    from deckgen.parse import parse_card

    parsed = (parse_card(text, deck_dir=deck)[0] for text in checked.deck.texts)
    sources = [[part.markdown for part in card.parts] for card in parsed if card]
    out.write_text(json.dumps({"variants": variants, "sources": sources}), "utf-8")


def floor_genanki(notes_file: Path, out: Path) -> None:
    import genanki

    from deckgen.model import Kind
    from deckgen.notetypes import note_type

    data = json.loads(notes_file.read_text("utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    models = {}
    for kind in Kind:
        nt = note_type(kind)
        models[kind.value] = genanki.Model(
            nt.id,
            nt.name,
            fields=[{"name": f} for f in nt.fields],
            templates=[{"name": t.name, "qfmt": t.front, "afmt": t.back} for t in nt.templates],
            css=nt.css,
            model_type=genanki.Model.CLOZE if kind is Kind.CLOZE else 0,
        )
    for index, (variant, notes) in enumerate(data["variants"].items()):
        deck = genanki.Deck(1700000000000 + index, variant)
        for note in notes:
            deck.add_note(
                genanki.Note(
                    model=models[note["kind"]],
                    fields=note["fields"],
                    tags=note["tags"],
                    guid=note["guid"],
                )
            )
        genanki.Package(deck).write_to_file(str(out / f"{variant}.apkg"), timestamp=1700000000)


def floor_sqlite(notes_file: Path, out: Path) -> None:
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    data = json.loads(notes_file.read_text("utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    for variant, notes in data["variants"].items():
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "collection.anki2"
            connection = sqlite3.connect(database)
            connection.executescript(APKG_SCHEMA + APKG_COL)
            ids = itertools.count(1700000000000)
            rows: list[Any] = [
                (
                    next(ids),
                    n["guid"],
                    1,
                    1700000000,
                    -1,
                    " ".join(n["tags"]),
                    "\x1f".join(n["fields"]),
                    n["fields"][0],
                    0,
                    0,
                    "",
                )
                for n in notes
            ]
            with connection:
                connection.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", rows)
                connection.executemany(
                    "INSERT INTO cards VALUES(?,?,1,0,1700000000,-1,0,0,?,0,0,0,0,0,0,0,0,'')",
                    [(row[0], row[0], i) for i, row in enumerate(rows)],
                )
            connection.close()
            with zipfile.ZipFile(out / f"{variant}.apkg", "w", zipfile.ZIP_DEFLATED) as archive:
                archive.write(database, "collection.anki2")
                archive.writestr("media", "{}")


def floor_render(notes_file: Path) -> None:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for fields in json.loads(notes_file.read_text("utf-8"))["sources"]:
        for field in fields:
            md.render(field)


def run(command: str, args: list[str]) -> None:
    paths = [Path(a) for a in args]
    {
        "_dump": lambda: dump(*paths),
        "_floor-genanki": lambda: floor_genanki(*paths),
        "_floor-sqlite": lambda: floor_sqlite(*paths),
        "_floor-render": lambda: floor_render(*paths),
    }[command]()
    sys.exit(0)
