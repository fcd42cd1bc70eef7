"""Notes per variant → a deterministic .apkg; the only genanki import.

Identity lives here: note GUIDs, deck ids and package file names. genanki alone
is not byte-reproducible (zip entry times come from its temp file, every note
shares one timestamp), so the collection is written with genanki's schema and
note/model code, and zipped here with fixed entry times and sorted media.
A retired note is written without cards: learners who have it get the update
(its tag and notice), and learners importing the package fresh get no card.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import sqlite3
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.errors import fail
from deckgen.files import CANNOT_WRITE, Staged, open_new, read_bytes, temporary_path
from deckgen.model import FIELDS, Kind, Note
from deckgen.notetypes import NoteType, note_type, stable_id

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_LEVEL = 1
"""zlib's fastest level: a 10,000-note collection (8.4 MB) deflates in 0.08 s instead of
the default level's 0.21 s, on every build's critical path, for a package 5% larger."""
_UNSAFE_FILE_CHARACTERS = re.compile(r'[\\/:*?"<>|\s\x00-\x1f\x7f]+')


def note_guid(
    deck_id: int, card_id: str, variant: str, *, kind: Kind, base: Kind, shared: bool = False
) -> str:
    """A note's GUID: its identity in every learner's collection, so it never changes.

    Made from the deck id, the card id and the variant (not with ``shared``, so
    that importing the other script's package switches the notes); a card whose
    kind changed since it first shipped gets a new note, so its kind joins in.
    """
    import genanki

    parts: list[str | int] = [deck_id, card_id]
    if not shared:
        parts.append(variant)
    if kind is not base:
        parts.append(kind.value)
    return str(genanki.guid_for(*parts))


def deck_id(config_id: int, variant: str, subdeck: str) -> int:
    """A deck's id, stable across builds (Anki matches decks by name; the id is for genanki)."""
    return stable_id("deck", str(config_id), variant, subdeck)


def package_name(title: str, variant: str, *, version: str = "", switchable: bool = False) -> str:
    """A readable file name: the deck title in the variant's script, the version, the variant.

    Packages made to switch script (shared GUIDs) say so in their name: importing
    one next to a default package would duplicate every card.
    """
    safe = _UNSAFE_FILE_CHARACTERS.sub("-", title).strip("-.") or "deck"
    versioned = f"{safe}-{version}" if version else safe
    return f"{versioned}.{variant}{'.switchable' if switchable else ''}.apkg"


@dataclass(frozen=True)
class PackagedNote:
    """A note with what identity gives it: GUID, time, and its place in the study order."""

    note: Note
    guid: str
    mtime: int
    due: int
    retired: bool = False


@dataclass(frozen=True)
class DeckData:
    """One Anki deck (the main deck or a subdeck) of one variant."""

    name: str
    id: int
    description: str = ""


def _genanki_model(note_type: NoteType, mtime: int) -> Any:
    import genanki

    class Model(genanki.Model):  # type: ignore[misc]
        def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
            data: dict[str, Any] = super().to_json(mtime, deck_id)
            return data

    kind = note_type.kind.value
    return Model(
        note_type.id,
        note_type.name,
        fields=[{"name": name, "id": stable_id("field", kind, name)} for name in note_type.fields],
        templates=[
            {
                "name": t.name,
                "qfmt": t.front,
                "afmt": t.back,
                "id": stable_id("template", kind, t.name),
            }
            for t in note_type.templates
        ],
        css=note_type.css,
        model_type=genanki.Model.CLOZE if kind == "cloze" else genanki.Model.FRONT_BACK,
        sort_field_index=0,
    )


_NOTE_ROW = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);"
_CARD_ROW = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);"
_CLOZE_NUMBER = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)


def _card_ordinals(item: PackagedNote, model: Any) -> Iterable[int]:
    """The note's cards, by genanki's rules (without re-reading the templates for every
    note): one per template whose required fields are filled, or one per cloze number.
    A retired note has none."""
    import genanki

    if item.retired:
        return ()
    fields = item.note.fields
    if model.model_type == genanki.Model.CLOZE:
        numbers = _CLOZE_NUMBER.findall(fields[FIELDS[Kind.CLOZE].index("Text")])
        return {int(n) - 1 for n in numbers if int(n) > 0}
    return [
        ord_
        for ord_, any_or_all, required in model._req
        if (any if any_or_all == "any" else all)(fields[i] for i in required)
    ]


@functools.cache
def _deck_class() -> Any:
    import genanki

    class PackageDeck(genanki.Deck):  # type: ignore[misc]
        """A genanki deck whose notes are written as the rows genanki's ``Note.write_to_db``
        writes (genanki 0.13; test_package holds them equal), in the same order, from plain
        values: genanki's per-note objects and checks cost 0.45 s per 10,000 notes, the rows
        0.1 s. The deck and note-type JSON stay genanki's own."""

        def __init__(self, deck: DeckData, models: dict[Kind, Any]) -> None:
            super().__init__(deck.id, deck.name, deck.description)
            self.items: list[PackagedNote] = []
            self.by_kind = models

        def write_to_db(self, cursor: Any, timestamp: float, id_gen: Any) -> None:
            super().write_to_db(cursor, timestamp, id_gen)  # no genanki notes: the JSON
            for item in self.items:
                model = self.by_kind[item.note.kind]
                fields = item.note.fields
                note_id = next(id_gen)
                tags = " " + " ".join(item.note.tags) + " "
                cursor.execute(
                    _NOTE_ROW,
                    (note_id, item.guid, model.model_id, item.mtime, -1, tags,
                     "\x1f".join(fields), fields[model.sort_field_index], 0, 0, ""),
                )  # fmt: skip
                for ordinal in _card_ordinals(item, model):
                    cursor.execute(
                        _CARD_ROW,
                        (next(id_gen), note_id, self.deck_id, ordinal, item.mtime, -1,
                         0, 0, item.due, 0, 0, 0, 0, 0, 0, 0, 0, ""),
                    )  # fmt: skip

        def add(self, item: PackagedNote) -> None:
            """Add a note; its note type joins the deck's JSON where genanki's would."""
            self.add_model(self.by_kind[item.note.kind])
            self.items.append(item)

    return PackageDeck


def stage_package(
    path: Path,
    *,
    notes: Sequence[PackagedNote],
    decks: Sequence[DeckData],
    note_type_mtimes: dict[str, int],
    media: dict[str, Path],
) -> Staged:
    """Write one .apkg beside ``path``; ``publish()`` the result to replace ``path``.

    Staging lets a build replace all its packages only once every one is written.
    """
    import genanki

    kinds = {item.note.kind for item in notes}
    models = {kind: _genanki_model(note_type(kind), note_type_mtimes[kind.value]) for kind in kinds}
    deck_class = _deck_class()
    by_name = {deck.name: deck_class(deck, models) for deck in decks}
    for item in notes:
        by_name[item.note.deck].add(item)
    # Ids count up from the newest time in the package (its notes' and note types').
    timestamp = max([n.mtime for n in notes] + [note_type_mtimes[k.value] for k in kinds] + [0])
    package = genanki.Package(list(by_name.values()))
    staged = Staged.beside(path)
    database = temporary_path(path.with_name(path.name + ".anki2"))
    with staged.writing() as handle:  # first, so that an unwritable folder is reported as such
        try:
            os.close(open_new(database))
            connection = sqlite3.connect(database)
            try:
                # A scratch file, zipped then deleted: no journal, no waiting for the disk.
                connection.execute("PRAGMA journal_mode = OFF")
                connection.execute("PRAGMA synchronous = OFF")
                package.write_to_db(
                    connection.cursor(), timestamp, itertools.count(timestamp * 1000)
                )
                connection.commit()
            finally:
                connection.close()
            with zipfile.ZipFile(
                handle, "w", zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL
            ) as archive:
                _add(archive, "collection.anki2", database.read_bytes())
                names = sorted(media)
                index = json.dumps({str(i): name for i, name in enumerate(names)})
                _add(archive, "media", index.encode())
                for number, name in enumerate(names):
                    _add(archive, str(number), read_bytes(media[name]))
        except sqlite3.Error as error:  # e.g. "database or disk is full"
            full = "full" in str(error)
            reason = "no space left on the device" if full else f"SQLite: {error}"
            hint = "free some space and run deckgen again" if full else "build again"
            raise fail(CANNOT_WRITE, path, 0, f"cannot write the package: {reason}", hint) from None
        finally:
            with contextlib.suppress(OSError):
                database.unlink()
    return staged


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data, compresslevel=_ZIP_LEVEL)


@dataclass(frozen=True)
class ShippedType:
    """A note type as an earlier package holds it: its time, and what learners see of it."""

    kind: Kind
    mtime: int
    css: str
    templates: tuple[tuple[str, str], ...]
    """(front, back) of each template."""


@dataclass(frozen=True)
class ShippedNote:
    """A note as an earlier package holds it: what a lost lock is recovered from."""

    guid: str
    kind: Kind
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    mtime: int


def read_package(path: Path) -> tuple[list[ShippedNote], list[ShippedType]]:
    """The notes and note types of a package deckgen wrote (note types it knows)."""
    import tempfile

    kinds = {note_type(kind).id: kind for kind in Kind}
    with tempfile.TemporaryDirectory(prefix="deckgen-read-") as folder:
        with zipfile.ZipFile(path) as archive:
            database = Path(archive.extract("collection.anki2", folder))
        connection = sqlite3.connect(database)
        try:
            decks_json, models_json = connection.execute("SELECT decks, models FROM col").fetchone()
            decks = json.loads(decks_json)
            models = json.loads(models_json)
            names = {int(k): v["name"] for k, v in decks.items()}
            card_decks = dict(connection.execute("SELECT nid, did FROM cards"))
            rows = connection.execute("SELECT id, guid, mid, mod, tags, flds FROM notes").fetchall()
        finally:
            connection.close()
    top = min((n for n in names.values() if "::" not in n and n != "Default"), default="")
    types = [
        ShippedType(
            kinds[int(mid)],
            int(model["mod"]),
            model["css"],
            tuple((t["qfmt"], t["afmt"]) for t in model["tmpls"]),
        )
        for mid, model in models.items()
        if int(mid) in kinds
    ]
    notes = [
        ShippedNote(
            guid=guid,
            kind=kinds[mid],
            fields=tuple(fields.split("\x1f")),
            tags=tuple(tags.split()),
            # A retired note has no card: it was written in the top deck.
            deck=names.get(card_decks.get(note_id, -1), top),
            mtime=mtime,
        )
        for note_id, guid, mid, mtime, tags, fields in rows
        if mid in kinds
    ]
    return notes, types
