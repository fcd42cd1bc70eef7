"""What the card stages make of one card (``CardResult``), and its encoding: msgpack, as
worker processes send it and the cache stores it, read with a typed decoder (never
pickle: a planted file must not run code). Notes stay encoded until read."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import msgspec

from deckgen.errors import Problem
from deckgen.model import CardSummary, Note


class Notes(Sequence[Note]):
    """One card's notes as the cache holds them (one per variant), each decoded when
    first read: a build reads every card's results, but the process that writes one
    variant's package needs only that variant's notes, and check needs none."""

    __slots__ = ("_decoded", "_encoded")

    def __init__(self, encoded: Sequence[msgspec.Raw]) -> None:
        self._encoded = tuple(encoded)
        self._decoded: list[Note | None] = [None] * len(self._encoded)

    def __len__(self) -> int:
        return len(self._encoded)

    @overload
    def __getitem__(self, index: int) -> Note: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Note]: ...
    def __getitem__(self, index: int | slice) -> Note | Sequence[Note]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        note = self._decoded[index]
        if note is None:
            note = self._decoded[index] = _note_decoder().decode(self._encoded[index])
        return note

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type, tuple[tuple[Note, ...]]]:
        return tuple, (tuple(self),)

    def encoded(self) -> tuple[msgspec.Raw, ...]:
        return self._encoded


@functools.cache
def _note_decoder() -> msgspec.msgpack.Decoder[Note]:
    return msgspec.msgpack.Decoder(Note)


@dataclass(frozen=True, slots=True)
class CardResult:
    """Everything the stages made of one card: what check and build need, per card."""

    summary: CardSummary | None
    """What the deck stages need of the card; None when errors stop it being read."""
    problems: tuple[Problem, ...]
    notes: Sequence[Note] = ()
    """One per variant of deck.toml, in its order: converted and sanitized."""
    guids: tuple[str, ...] = ()
    """Each note's GUID while the card keeps the kind it first shipped with (the usual
    case; package.note_guid): made once, with the card's other results."""
    hashes: tuple[str, ...] = ()
    """Each note's hash (lifecycle.note_hash) with that GUID."""


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A CardResult as the cache file holds it: its notes left encoded."""

    summary: CardSummary | None
    problems: tuple[Problem, ...]
    notes: tuple[msgspec.Raw, ...] = ()
    guids: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()

    def result(self) -> CardResult:
        notes = Notes(self.notes) if self.notes else ()
        return CardResult(self.summary, self.problems, notes, self.guids, self.hashes)


@functools.cache
def encoder() -> Any:
    return msgspec.msgpack.Encoder(enc_hook=_encode)


def encode_result(result: CardResult) -> bytes:
    """A card's results as the cache stores them: what a worker process sends back (a
    tenth of pickle's work, and stored as it came)."""
    data: bytes = encoder().encode(result)
    return data


def decode_result(data: bytes) -> CardResult:
    """What ``encode_result`` encoded; its notes are decoded when read."""
    stored: StoredResult = _result_decoder().decode(data)
    return stored.result()


@functools.cache
def _result_decoder() -> Any:
    return msgspec.msgpack.Decoder(StoredResult, dec_hook=decode_path)


def decode_path(kind: type, value: object) -> object:
    """msgspec's hook for the Paths in results."""
    if kind is Path and isinstance(value, str):
        return _path(value)
    raise NotImplementedError(kind)


@functools.lru_cache(maxsize=65536)
def _path(text: str) -> Path:
    """One Path object per path: a deck's results name few files, tens of thousands of
    times (a Path is half a kilobyte)."""
    return Path(text)


def _encode(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Notes):  # still encoded as read: stored as it was
        return list(value.encoded())
    raise NotImplementedError(type(value))
