"""Notes per variant → a deterministic .apkg; the only genanki import.

genanki alone is not byte-reproducible (zip entry times come from its temp
file, every note shares one timestamp), so the collection is written with
genanki's schema and note/model code, and zipped here with fixed entry times
and sorted media.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError, Location, Problem
from deckgen.notetypes import NoteType

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class NoteData:
    """One note of one variant, ready to write."""

    guid: str
    note_type: NoteType
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck_name: str
    mtime: int
    due: int


@dataclass(frozen=True)
class DeckData:
    """One Anki deck (the main deck or a subdeck) of one variant."""

    name: str
    id: int
    description: str = ""


def note_guid(*parts: str | int) -> str:
    """Anki note GUID from stable parts (deck id, card id, variant)."""
    import genanki

    return str(genanki.guid_for(*parts))


def _genanki_model(note_type: NoteType, mtime: int) -> Any:
    import genanki

    class Model(genanki.Model):  # type: ignore[misc]
        def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
            data: dict[str, Any] = super().to_json(mtime, deck_id)
            return data

    from deckgen.notetypes import stable_id

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


@functools.cache
def _note_class() -> Any:
    import genanki

    class Note(genanki.Note):  # type: ignore[misc]
        """A genanki note that carries its own modification time, not the package's."""

        mtime = 0

        def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
            super().write_to_db(cursor, self.mtime, deck_id, id_gen)

    return Note


def _genanki_note(note: NoteData, model: Any) -> Any:
    genanki_note = _note_class()(
        model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid, due=note.due
    )
    genanki_note.mtime = note.mtime
    return genanki_note


def write_package(
    path: Path,
    *,
    notes: Sequence[NoteData],
    decks: Sequence[DeckData],
    note_type_mtimes: dict[str, int],
    media: dict[str, Path],
) -> Staged:
    """Write one .apkg to a temporary file; ``publish()`` the result to replace ``path``.

    Staging lets a build replace all its packages only once every one is written.
    """
    import genanki

    models = {
        nt.kind.value: _genanki_model(nt, note_type_mtimes[nt.kind.value])
        for nt in {n.note_type.kind: n.note_type for n in notes}.values()
    }
    by_name = {deck.name: genanki.Deck(deck.id, deck.name, deck.description) for deck in decks}
    for note in notes:
        by_name[note.deck_name].add_note(_genanki_note(note, models[note.note_type.kind.value]))
    timestamp = max([n.mtime for n in notes] + list(note_type_mtimes.values()) + [0])
    package = genanki.Package(list(by_name.values()))
    with tempfile.TemporaryDirectory(prefix="deckgen-") as tmp:
        database = Path(tmp) / "collection.anki2"
        connection = sqlite3.connect(database)
        try:
            import itertools

            package.write_to_db(connection.cursor(), timestamp, itertools.count(timestamp * 1000))
            connection.commit()
        finally:
            connection.close()
        with _staged(path) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as zf:
            _add(zf, "collection.anki2", database.read_bytes())
            names = sorted(media)
            _add(zf, "media", json.dumps({str(i): name for i, name in enumerate(names)}).encode())
            for index, name in enumerate(names):
                _add(zf, str(index), media[name].read_bytes())
    return Staged(Path(handle.name), path)


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class Staged:
    """A package written in full to a temporary file beside its final path."""

    temporary: Path
    final: Path

    def publish(self) -> None:
        """Rename it over the final path (atomic on one file system)."""
        try:
            os.replace(self.temporary, self.final)
        except OSError as error:
            self.discard()
            raise DeckgenError(
                [
                    Problem(
                        Location(self.final),
                        "DG050",
                        f"cannot write {self.final.name}: {error.strerror}",
                        "remove what is in the way, or choose another folder with --out",
                    )
                ]
            ) from None

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.temporary)


@contextlib.contextmanager
def _staged(path: Path) -> Iterator[Any]:
    """Open a temporary file beside ``path``; delete it if anything fails while writing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Closed by the with-block below; delete=False so that it can be renamed later.
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as error:
        raise DeckgenError(
            [
                Problem(
                    Location(path.parent),
                    "DG050",
                    f"cannot write to the output folder: {error.strerror}",
                    "choose another folder with --out, or fix its permissions",
                )
            ]
        ) from None
    try:
        with handle:
            os.chmod(handle.name, 0o666 & ~_umask())
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # Ctrl-C included: never leave a partial file behind.
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
