"""Each card file's results (its own problems; per card: problems, notes per variant),
kept beside the output between builds.

A card file whose text is unchanged is reused whole, without being cut into cards;
in an edited file, a card's entry is found by a hash of its Markdown, its file and
line, and its file's front matter. Everything else that shapes the results (deck.toml,
the phrase dictionaries, deckgen's and OpenCC's versions) is one ``environment``
digest for the whole file: when it differs, nothing is reused. An entry whose images
changed is not reused either. The cache is plain msgpack read with a typed decoder
(deckgen.results), written atomically, and safe to delete; a damaged or foreign one is
ignored.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from deckgen.cardfile import CardText
from deckgen.errors import Problem
from deckgen.files import write_atomically
from deckgen.model import DeckTexts
from deckgen.results import CardResult, StoredResult, decode_path, encoder

CACHE_DIR = ".deckgen-cache"
FORMAT = 4

_Image = tuple[str, int, int, str]
"""(path, size, mtime_ns, media name) of an image a card shows."""


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    result: StoredResult
    images: tuple[_Image, ...] = ()


@dataclass(frozen=True)
class _File:
    """One card file's entry: its text's digest, its own problems, its cards' results."""

    format: int
    environment: str
    digest: str
    problems: tuple[Problem, ...]
    entries: tuple[_Entry, ...]

    @functools.cached_property
    def by_key(self) -> dict[str, _Entry]:
        return {entry.key: entry for entry in self.entries}


@dataclass(frozen=True)
class _FileStamp:
    """What a card file's entry was made of: its text's digest, and its cards' images."""

    digest: str
    images: tuple[_Image, ...] = ()


@dataclass(frozen=True)
class _Index:
    """Every card file's stamp, in one small file: what finds the files to reuse whole."""

    format: int
    environment: str
    files: dict[str, _FileStamp]


@dataclass(frozen=True)
class _Texts:
    format: int
    environment: str
    texts: DeckTexts


@dataclass(frozen=True)
class _Kept:
    """What this build keeps of one card file: stored again only when it changed."""

    digest: str
    problems: tuple[Problem, ...]
    entries: list[tuple[str, CardResult, bytes | None]]
    """(key, results, the results encoded if they came so from a worker), in card order."""


def digest(parts: Iterable[str]) -> str:
    """The cache's one hash: of the environment, of a card file's text, of a card."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def card_key(text: CardText) -> str:
    """What finds a card's entry: its Markdown, where it is, and its file's front matter."""
    return digest([str(text.path), str(text.line), text.subdeck, " ".join(text.tags), text.text])


class CardCache:
    """The cache of one deck in one output folder: a file per card file, so that a build
    after editing one card rewrites one small file."""

    def __init__(self, folder: Path, deck_id: int, environment: str) -> None:
        self.folder = folder / CACHE_DIR / str(deck_id)
        self.environment = environment
        self.index: dict[str, _FileStamp] | None = None
        """Card file → its stamp, as the index holds them (loaded on first use)."""
        self.old: dict[str, _File | None] = {}
        """Card file → its entry as decoded (None: none, or not for this environment)."""
        self.new: dict[str, _Kept | None] = {}
        """Card file → what this build keeps (None: kept as loaded)."""
        self.new_texts: DeckTexts | None = None

    def _path(self, group: str) -> Path:
        name = hashlib.sha256(group.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return self.folder / f"{name}.msgpack"

    def _stamps(self) -> dict[str, _FileStamp]:
        if self.index is None:
            self.index = {}
            try:
                data = (self.folder / "index.msgpack").read_bytes()
                index = msgspec.msgpack.decode(data, type=_Index)
            except (OSError, ValueError, msgspec.DecodeError, TypeError):
                return self.index
            if (index.format, index.environment) == (FORMAT, self.environment):
                self.index = index.files
        return self.index

    def unchanged(self, group: str, digest: str) -> bool:
        """Whether an earlier build stored results for this very card file text (and its
        cards' images are unchanged): found in the index, without reading the results."""
        stamp = self._stamps().get(group)
        return (
            stamp is not None
            and stamp.digest == digest
            and all(_same_image(*image) for image in stamp.images)
        )

    def _load(self, group: str) -> _File | None:
        """What an earlier build stored for one card file; a missing, damaged or foreign
        file holds nothing."""

        if group not in self.old:
            self.old[group] = None
            try:
                data = self._path(group).read_bytes()
                stored = msgspec.msgpack.decode(data, type=_File, dec_hook=decode_path)
            except (OSError, ValueError, msgspec.DecodeError, NotImplementedError, TypeError):
                return None
            if stored.format == FORMAT and stored.environment == self.environment:
                self.old[group] = stored
        return self.old[group]

    @property
    def _texts_path(self) -> Path:
        return self.folder / "deck-texts.msgpack"

    def texts(self) -> DeckTexts | None:
        """The deck's own texts as an earlier build made them, if for this environment."""
        try:
            data = self._texts_path.read_bytes()
            stored = msgspec.msgpack.decode(data, type=_Texts)
        except (OSError, ValueError, msgspec.DecodeError, TypeError):
            return None
        fits = stored.format == FORMAT and stored.environment == self.environment
        return stored.texts if fits else None

    def keep_texts(self, texts: DeckTexts) -> None:
        self.new_texts = texts

    def file(self, group: str, digest: str) -> tuple[list[CardResult], tuple[Problem, ...]] | None:
        """The results and own problems of a card file that is ``unchanged``; the file
        is then kept as it is (None if its entry cannot be read after all)."""
        stored = self._load(group)
        if stored is None or stored.digest != digest:
            return None
        self.new[group] = None
        return [entry.result.result() for entry in stored.entries], stored.problems

    def card(self, group: str, key: str) -> CardResult | None:
        """One card's results from what its file's entry held, if still valid."""
        stored = self._load(group)
        entry = stored.by_key.get(key) if stored is not None else None
        if entry is None or not all(_same_image(*image) for image in entry.images):
            return None
        return entry.result.result()

    def keep(
        self,
        group: str,
        digest: str,
        problems: tuple[Problem, ...],
        entries: list[tuple[str, CardResult, bytes | None]],
    ) -> None:
        """What to store for a card file whose text changed: its cards' results, in order."""
        self.new[group] = _Kept(digest, problems, entries)

    def save(self) -> None:
        """Keep exactly this build's card files, rewriting only those that changed; best
        effort, as a missing cache costs only time."""
        import contextlib

        with contextlib.suppress(Exception):  # a cache is only an optimisation
            self.folder.mkdir(parents=True, exist_ok=True)
            encoding = encoder()
            stamps = {}
            for group, kept in self.new.items():
                if kept is None:
                    if (stamp := self._stamps().get(group)) is not None:
                        stamps[group] = stamp
                    continue
                entries = [
                    (key, msgspec.Raw(raw) if raw else result, _images(result))
                    for key, result, raw in kept.entries
                ]
                data = encoding.encode(
                    {
                        "format": FORMAT,
                        "environment": self.environment,
                        "digest": kept.digest,
                        "problems": kept.problems,
                        "entries": [
                            {"key": key, "result": result, "images": images}
                            for key, result, images in entries
                        ],
                    }
                )
                write_atomically(self._path(group), data)
                stamps[group] = _FileStamp(
                    kept.digest, tuple(image for _, _, images in entries for image in images)
                )
            index = _Index(FORMAT, self.environment, stamps)
            write_atomically(self.folder / "index.msgpack", encoding.encode(index))
            if self.new_texts is not None:
                texts = _Texts(FORMAT, self.environment, self.new_texts)
                write_atomically(self._texts_path, encoding.encode(texts))
            kept_names = {self._path(group).name for group in self.new}
            kept_names |= {self._texts_path.name, "index.msgpack"}
            for stale in self.folder.glob("*.msgpack"):  # card files deleted since
                if stale.name not in kept_names:
                    stale.unlink(missing_ok=True)


def _images(result: CardResult) -> tuple[_Image, ...]:
    media = result.summary.media if result.summary else ()
    stamps = (_image_stamp(path, name) for name, path in media)
    return tuple(stamp for stamp in stamps if stamp)


def _image_stamp(path: Path, media: str) -> _Image | None:
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
        from deckgen.images import media_name

        return media_name(Path(path).read_bytes(), Path(path)) == media
    except OSError:
        return False
