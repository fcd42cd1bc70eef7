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

import contextlib
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.errors import Problem
from deckgen.files import write_atomically
from deckgen.model import Card, Note
from deckgen.parse import CardText, media_name

CACHE_DIR = ".deckgen-cache"
FORMAT = 1


@dataclass(frozen=True)
class CardResult:
    """Everything the stages made of one card: what check and build need, per card."""

    card: Card | None
    """None when the card has errors that stop it being read."""
    problems: tuple[Problem, ...]
    notes: tuple[Note, ...] = ()
    """One per variant of deck.toml, in its order: converted and sanitized."""


@dataclass(frozen=True)
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
    if isinstance(value, frozenset):
        return sorted(value)
    raise NotImplementedError(type(value))


def _decode(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(kind)


class CardCache:
    """The cache of one deck in one output folder."""

    def __init__(self, folder: Path, deck_id: int, environment: str) -> None:
        self.path = folder / CACHE_DIR / f"{deck_id}.msgpack"
        self.environment = environment
        self.old: dict[str, _Entry] = {}
        self.new: dict[str, _Entry] = {}
        self.changed = False

    def load(self) -> CardCache:
        """Read the entries of an earlier build; a missing, damaged or foreign file is none."""
        import msgspec

        try:
            data = self.path.read_bytes()
            stored = msgspec.msgpack.decode(data, type=_File, dec_hook=_decode)
        except (OSError, ValueError, msgspec.DecodeError, NotImplementedError, TypeError):
            return self
        if stored.format == FORMAT and stored.environment == self.environment:
            self.old = stored.entries
        return self

    def get(self, key: str) -> CardResult | None:
        entry = self.old.get(key)
        if entry is None or not all(_same_image(*image) for image in entry.images):
            return None
        self.new[key] = entry
        return entry.result

    def put(self, key: str, result: CardResult) -> None:
        images = (
            tuple(_image_stamp(image.path, image.media) for image in result.card.images)
            if result.card
            else ()
        )
        self.new[key] = _Entry(result, tuple(i for i in images if i is not None))
        self.changed = True

    def save(self) -> None:
        """Keep exactly this build's entries; best effort, as a missing cache costs only time."""
        if not self.changed and len(self.new) == len(self.old):
            return
        with contextlib.suppress(Exception):  # a cache is only an optimisation
            data = _encoder().encode(_File(FORMAT, self.environment, self.new))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, data)


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
