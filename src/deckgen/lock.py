"""What learners have: ``deck.lock.json``, its types, reading and writing.

Anki updates an existing note on import only when the incoming modification
time is newer, and then overwrites the whole note (a learner's own edit
included). So a note's time must move exactly when the note, as written into
that variant's package, changes. The lock keeps, per card and per variant,
the hash of the final note (fields, tags, deck, note type, GUID) and the time
of the build where that hash first appeared; it also keeps every card ever
released, retired ones included (learners still have their notes), each
card's kind, subdeck and cloze numbers, so that a change to any of them can be
announced before it reaches learners (deckgen.lifecycle).
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import msgspec

from deckgen.errors import DeckgenError, Location, Rule, Severity, brief, shown
from deckgen.files import exists, is_file, read_text, stage_bytes
from deckgen.model import Kind

LOCK_NAME = "deck.lock.json"
FORMAT = 2
DAMAGED = Rule("DG060", Severity.ERROR, "deck.lock.json is damaged, too new, or cannot be written")
_MAX_TIME = 2**32
"""Note times are Unix seconds; anything larger is a mistake (and overflows Anki's ids)."""

_DAMAGED_HINT = (
    "restore it from version control (git checkout -- {name}); deleting it makes every "
    "note look edited to learners"
)


class Stamp(NamedTuple):
    """One note's hash as last released, and the time that content first shipped.

    A pair, as the lock file writes it: the file is decoded straight into these (a
    time outside Unix seconds is an error that names where it is)."""

    hash: str
    mtime: Annotated[int, msgspec.Meta(ge=0, lt=_MAX_TIME)]


@dataclass(frozen=True)
class Released:
    """What learners have of one card: its note in each variant, and what identifies it."""

    kind: Kind
    deck: str
    """The subdeck as written ("" for the main deck)."""
    text: str
    """A hash of the card's Markdown: same text, same card (a restore)."""
    question: str
    """The question's plain text, for retired notes and the release changelog."""
    notes: dict[str, Stamp]
    """Variant → the note's stamp."""
    clozes: tuple[str, ...] = ()
    """For cloze cards, the text of c1, c2, …: learners' histories follow the numbers."""
    base: Kind | None = None
    """The kind whose GUID the notes keep, when the card's kind changed since it first shipped."""

    @property
    def guid_kind(self) -> Kind:
        return self.base or self.kind


@dataclass(frozen=True)
class Retired(Released):
    """A note learners still have although its card is gone (deleted, or its kind changed)."""

    reason: str = "deleted"
    """``deleted``, or the kind the card changed to."""


@dataclass(frozen=True)
class Lock:
    """What the last build released."""

    title: str = ""
    note_types: dict[str, Stamp] = field(default_factory=dict)
    cards: dict[str, Released] = field(default_factory=dict)
    retired: dict[str, Retired] = field(default_factory=dict)
    """Keyed ``card-id/kind``: one card id may have retired notes of several kinds."""
    legacy: dict[str, Stamp] = field(default_factory=dict)
    """A format-1 lock's per-card hashes, kept until the first build with this format."""
    missing: bool = False
    """No lock file was found: every time is new unless recovered from the last packages."""

    def known(self, card_id: str) -> Released | None:
        """The released or retired note this card id would continue, if any."""
        if card_id in self.cards:
            return self.cards[card_id]
        return next(
            (r for k, r in sorted(self.retired.items()) if k.split("/")[0] == card_id), None
        )


def retired_key(card_id: str, kind: Kind) -> str:
    return f"{card_id}/{kind.value}"


def build_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return int(time.time())
    if not epoch.isdigit() or int(epoch) >= _MAX_TIME:
        raise DeckgenError(
            [
                DAMAGED.at(
                    Location(Path("SOURCE_DATE_EPOCH")),
                    f"SOURCE_DATE_EPOCH must be a Unix time in seconds, got {shown(epoch)}",
                    "unset it, or set it to e.g. $(git log -1 --format=%ct)",
                )
            ]
        )
    return int(epoch)


def read_lock(path: Path) -> Lock:
    """The lock file, an empty lock marked missing, or a DG060 error naming what is wrong."""
    if not exists(path):
        return Lock(missing=True)
    text = read_text(path, inside=path.parent)

    def damaged(reason: str) -> DeckgenError:
        return DeckgenError(
            [
                DAMAGED.at(
                    Location(path), f"lock file {reason}", _DAMAGED_HINT.format(name=path.name)
                )
            ]
        )

    try:
        version = msgspec.json.decode(text.encode(), type=_version_only()).format
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise damaged(f"is not a lock file ({brief(error)})") from None
    if version < 1:
        raise damaged("has no valid 'format' number")
    if version > FORMAT:
        raise DeckgenError(
            [
                DAMAGED.at(
                    Location(path),
                    f"lock file was written by a newer deckgen (format {version}; this "
                    f"deckgen reads format {FORMAT} and older)",
                    "upgrade deckgen (pip install -U deckgen); nothing was changed",
                )
            ]
        )
    try:
        return _format_1(json.loads(text)) if version == 1 else _format_2(text)
    except msgspec.ValidationError as error:
        what = str(error).partition(" - at ")[0]
        key, line = _wrong_entry(json.loads(text), text)
        where = f" in {shown(key)}" if key else ""
        raise DeckgenError(
            [
                DAMAGED.at(
                    Location(path, line),
                    f"lock file has a wrong value{where}: {brief(what, 120)}",
                    _DAMAGED_HINT.format(name=path.name),
                )
            ]
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise damaged(f"has a wrong value: {brief(error, 120)}") from None


def _time(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < _MAX_TIME:
        raise ValueError(f"{where}: time {brief(repr(value))} is not a Unix time in seconds")
    return value


def _wrong_entry(data: dict[str, Any], text: str) -> tuple[str, int]:
    """The first entry whose times or types are wrong, and its line ("", 0 if none found):
    msgspec names the field but not the card."""
    schema = _schema()
    for section in ("note_types", "cards", "retired"):
        entries = data.get(section)
        if not isinstance(entries, dict):
            return section, 0
        for key, value in entries.items():
            probe = {"format": 2, "note_types": {}, "cards": {}, "retired": {}}
            probe[section] = {key: value}
            try:
                msgspec.convert(probe, schema)
            except msgspec.ValidationError:
                quoted = json.dumps(key, ensure_ascii=False)
                line = next((n for n, t in enumerate(text.split("\n"), 1) if quoted in t), 0)
                return f"{section}.{key}", line
    return "", 0


def _format_1(data: dict[str, Any]) -> Lock:
    """Format 1 hashed a card's inputs, per card: kept until the first build, which takes
    over each card's time where the card has not changed since."""

    def stamp(value: Any, where: str) -> Stamp:
        return Stamp(str(value["hash"]), _time(value["mtime"], where))

    note_types = {str(k): stamp(v, f"note_types.{k}") for k, v in data["note_types"].items()}
    legacy = {str(k): stamp(v, f"cards.{k}") for k, v in data["cards"].items()}
    # Format 1 kept only the ids of deleted cards: they stay taken (no notes: nothing to
    # write for them).
    retired = {f"{i}/basic": Retired(Kind.BASIC, "", "", "", {}) for i in data.get("retired", [])}
    return Lock(note_types=note_types, legacy=legacy, retired=retired)


def _format_2(text: str) -> Lock:
    """Format 2, decoded straight into the lock's types: a wrong type or an impossible
    time (negative, past 2106) is an error that names where it is."""
    decoded = msgspec.json.decode(text.encode(), type=_schema())
    return Lock(
        title=decoded.title,
        note_types={k: Stamp(v.hash, v.mtime) for k, v in decoded.note_types.items()},
        cards=decoded.cards,
        retired=decoded.retired,
    )


@functools.cache
def _version_only() -> Any:
    return msgspec.defstruct("Version", [("format", int)])


@functools.cache
def _schema() -> Any:
    """The format-2 file as msgspec types: its entries are the lock's own."""
    time_ = Annotated[int, msgspec.Meta(ge=0, lt=_MAX_TIME)]
    note_type = msgspec.defstruct("NoteType", [("hash", str), ("mtime", time_)])
    return msgspec.defstruct(
        "File",
        [
            ("format", int),
            ("note_types", dict[str, note_type]),  # type: ignore[valid-type]
            ("cards", dict[str, Released]),
            ("retired", dict[str, Retired]),
            ("title", str, ""),
        ],
    )


_ROW = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
_KEY = json.JSONEncoder(ensure_ascii=False)
"""Made once: json.dumps with options makes an encoder per call (a third of the time)."""


def lock_text(lock: Lock) -> str:
    """The lock as JSON, one card per line, so that diffs stay readable."""
    string = _KEY.encode

    def entry(item: Released) -> str:
        # What json.dumps(separators=(", ", ": ")) writes, without making a dict per card.
        fields = [
            f'"kind": "{item.kind.value}", "deck": {string(item.deck)}, '
            f'"text": {string(item.text)}, "question": {string(item.question)}'
        ]
        if item.clozes:
            fields.append(f'"clozes": {_ROW.encode(list(item.clozes))}')
        if item.base is not None:
            fields.append(f'"base": "{item.base.value}"')
        if isinstance(item, Retired):
            fields.append(f'"reason": {string(item.reason)}')
        stamps = ", ".join(
            f"{string(k)}: [{string(s.hash)}, {int(s.mtime)}]"
            for k, s in sorted(item.notes.items())
        )
        fields.append(f'"notes": {{{stamps}}}')
        return "{" + ", ".join(fields) + "}"

    def rows(entries: Mapping[str, Any], render: Any) -> str:
        body = ",\n".join(f"    {_KEY.encode(k)}: {render(v)}" for k, v in sorted(entries.items()))
        return "{\n" + body + "\n  }" if body else "{}"

    def note_type(stamp: Stamp) -> str:
        return json.dumps({"hash": stamp.hash, "mtime": stamp.mtime})

    return (
        f'{{\n  "format": {FORMAT},\n  "title": {_KEY.encode(lock.title)},\n'
        f'  "note_types": {rows(lock.note_types, note_type)},\n'
        f'  "cards": {rows(lock.cards, entry)},\n'
        f'  "retired": {rows(lock.retired, entry)}\n}}\n'
    )


def stage_lock(path: Path, lock: Lock) -> Any:
    """The lock written beside ``path``, ready to publish; None if it is unchanged."""
    text = lock_text(lock)
    try:
        if is_file(path) and path.read_text("utf-8") == text:
            return None
    except (OSError, UnicodeDecodeError):
        pass
    return stage_bytes(path, text.encode(), DAMAGED)
