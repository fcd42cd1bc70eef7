"""Each card's results (problems, notes per variant), kept beside the output between builds.

A card's entry is found by a hash of its Markdown, its file and line, and its
file's front matter; everything else that shapes the results (deck.toml, the
phrase dictionaries, deckgen's and OpenCC's versions) is one ``environment``
digest for the whole file: when it differs, nothing is reused. An entry whose
images changed is not reused either. The cache is plain msgpack read with a
typed decoder (never pickle: a planted file must not run code), written
atomically, and safe to delete; a damaged or foreign one is ignored.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.cardfile import CardText
from deckgen.errors import Problem
from deckgen.files import write_atomically
from deckgen.model import CardSummary, Note
from deckgen.parse import media_name

CACHE_DIR = ".deckgen-cache"
FORMAT = 3


@dataclass(frozen=True, slots=True)
class CardResult:
    """Everything the stages made of one card: what check and build need, per card."""

    summary: CardSummary | None
    """What the deck stages need of the card; None when errors stop it being read."""
    problems: tuple[Problem, ...]
    notes: tuple[Note, ...] = ()
    """One per variant of deck.toml, in its order: converted and sanitized."""
    guids: tuple[str, ...] = ()
    """Each note's GUID while the card keeps the kind it first shipped with (the usual
    case; package.note_guid): made once, with the card's other results."""
    hashes: tuple[str, ...] = ()
    """Each note's hash (lifecycle.note_hash) with that GUID."""


@dataclass(frozen=True, slots=True)
class _Entry:
    result: CardResult
    images: tuple[tuple[str, int, int, str], ...] = ()
    """(path, size, mtime_ns, media name) of each image the card shows."""


@dataclass(frozen=True)
class _File:
    format: int
    environment: str
    entries: dict[str, _Entry] = field(default_factory=dict)


def card_key(text: CardText) -> str:
    """What finds a card's entry: its Markdown, where it is, and its file's front matter."""
    parts = [str(text.path), str(text.line), text.subdeck, " ".join(text.tags), text.text]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _encoder() -> Any:
    import msgspec

    return msgspec.msgpack.Encoder(enc_hook=_encode)


def _encode(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError(type(value))


class CardCache:
    """The cache of one deck in one output folder: a file per card file, so that a build
    after editing one card rewrites one small file."""

    def __init__(self, folder: Path, deck_id: int, environment: str) -> None:
        self.folder = folder / CACHE_DIR / str(deck_id)
        self.environment = environment
        self.old: dict[str, dict[str, _Entry]] = {}
        """Card file → key → entry, as loaded (a file not yet loaded is absent)."""
        self.new: dict[str, dict[str, _Entry]] = {}
        self.changed: set[str] = set()
        self.paths: dict[str, Path] = {}
        """One Path object per path string: decoding makes tens of thousands."""

    def _file(self, group: str) -> Path:
        return (
            self.folder
            / f"{hashlib.sha256(group.encode('utf-8', 'surrogatepass')).hexdigest()[:24]}.msgpack"
        )

    def _load(self, group: str) -> dict[str, _Entry]:
        """The entries an earlier build stored for one card file; a missing, damaged or
        foreign file holds none."""
        import msgspec

        def decode(kind: type, value: object) -> object:
            if kind is Path and isinstance(value, str):
                path = self.paths.get(value)
                if path is None:
                    path = self.paths[value] = Path(value)
                return path
            raise NotImplementedError(kind)

        if group not in self.old:
            self.old[group] = {}
            try:
                data = self._file(group).read_bytes()
                stored = msgspec.msgpack.decode(data, type=_File, dec_hook=decode)
            except (OSError, ValueError, msgspec.DecodeError, NotImplementedError, TypeError):
                return self.old[group]
            if stored.format == FORMAT and stored.environment == self.environment:
                self.old[group] = stored.entries
        return self.old[group]

    def get(self, key: str, group: str) -> CardResult | None:
        entry = self._load(group).get(key)
        self.new.setdefault(group, {})
        if entry is None or not all(_same_image(*image) for image in entry.images):
            return None
        self.new[group][key] = entry
        return entry.result

    def put(self, key: str, group: str, result: CardResult) -> None:
        media = result.summary.media if result.summary else ()
        images = tuple(_image_stamp(path, name) for name, path in media)
        self.new.setdefault(group, {})[key] = _Entry(result, tuple(i for i in images if i))
        self.changed.add(group)

    def save(self) -> None:
        """Keep exactly this build's entries, rewriting only the files that changed; best
        effort, as a missing cache costs only time."""
        import contextlib

        with contextlib.suppress(Exception):  # a cache is only an optimisation
            self.folder.mkdir(parents=True, exist_ok=True)
            encoder = _encoder()
            for group, entries in self.new.items():
                if group in self.changed or len(entries) != len(self.old.get(group, {})):
                    data = encoder.encode(_File(FORMAT, self.environment, entries))
                    write_atomically(self._file(group), data)
            kept = {self._file(group).name for group in self.new}
            for stale in self.folder.glob("*.msgpack"):  # card files deleted since
                if stale.name not in kept:
                    stale.unlink(missing_ok=True)


def _image_stamp(path: Path, media: str) -> tuple[str, int, int, str] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (str(path), status.st_size, status.st_mtime_ns, media)


def _same_image(path: str, size: int, mtime_ns: int, media: str) -> bool:
    """Whether the image still has the content it had; re-hashed only if it was touched."""
    try:
        status = os.stat(path)
        if (status.st_size, status.st_mtime_ns) == (size, mtime_ns):
            return True
        return media_name(Path(path).read_bytes(), Path(path)) == media
    except OSError:
        return False


def environment_digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
