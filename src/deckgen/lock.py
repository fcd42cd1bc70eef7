"""What learners have → what the next release changes: ``deck.lock.json``.

Anki updates an existing note on import only when the incoming modification
time is newer, and then overwrites the whole note (a learner's own edit
included). So a note's time must move exactly when the note, as written into
that variant's package, changes. The lock keeps, per card and per variant,
the hash of the final note (fields, tags, deck, note type, GUID) and the time
of the build where that hash first appeared; it also keeps every card ever
released, retired ones included (learners still have their notes), each
card's kind, subdeck and cloze numbers, so that a change to any of them can be
announced before it reaches learners.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from deckgen.errors import DeckgenError, Location, Problem, Rule, Severity, brief, shown
from deckgen.files import exists, is_file, read_text, stage_bytes
from deckgen.model import Card, CardSummary, Kind, Note

LOCK_NAME = "deck.lock.json"
FORMAT = 2
DAMAGED = Rule("DG060", Severity.ERROR, "deck.lock.json is damaged, too new, or cannot be written")
_MAX_TIME = 2**32
"""Note times are Unix seconds; anything larger is a mistake (and overflows Anki's ids)."""

_DAMAGED_HINT = (
    "restore it from version control (git checkout -- {name}); deleting it makes every "
    "note look edited to learners"
)


@dataclass(frozen=True)
class Stamp:
    """One note's hash as last released, and the time that content first shipped."""

    hash: str
    mtime: int


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


def text_hash(card: Card) -> str:
    """A hash of what the card says (its kind and Markdown): equal text, same card."""
    parts = [card.kind.value, *(part.markdown for part in card.parts)]
    parts += [image.media for image in card.images]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def note_hash(note: Note, guid: str) -> str:
    """A hash of a note as written into its package (not its time)."""
    parts = [guid, note.kind.value, note.deck, " ".join(note.tags), *note.fields]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def released_from(
    card: CardSummary, base: Kind | None, notes: dict[str, Stamp] | None = None
) -> Released:
    """A card's identity as this build would release it, with its notes' stamps so far."""
    return Released(
        kind=card.kind,
        deck=card.subdeck,
        text=card.text_hash,
        question=card.question,
        notes={} if notes is None else notes,
        clozes=card.clozes,
        base=base if base is not None and base is not card.kind else None,
    )


def _with_notes(item: Released, notes: dict[str, Stamp]) -> Released:
    """``item`` with other stamps (dataclasses.replace, without its cost per card)."""
    if type(item) is not Released:
        return dataclasses.replace(item, notes=notes)
    return Released(item.kind, item.deck, item.text, item.question, notes, item.clozes, item.base)


def cloze_texts(card: Card) -> tuple[str, ...]:
    if card.kind is not Kind.CLOZE:
        return ()
    texts: dict[int, list[str]] = {}
    for cloze in card.answer.clozes:
        texts.setdefault(cloze.number, []).append(cloze.text)
    return tuple(" / ".join(texts.get(n, [])) for n in range(1, max(texts, default=0) + 1))


# --- Reading and writing ------------------------------------------------------------


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

    import msgspec

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
    import msgspec

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
    """Format 2, read with a typed decoder: a wrong type or an impossible time (negative,
    past 2106) is an error that names where it is."""
    import msgspec

    decoded = msgspec.json.decode(text.encode(), type=_schema())
    return Lock(
        title=decoded.title,
        note_types={k: Stamp(v.hash, v.mtime) for k, v in decoded.note_types.items()},
        cards={k: Released(**_arguments(v)) for k, v in decoded.cards.items()},
        retired={k: Retired(**_arguments(v), reason=v.reason) for k, v in decoded.retired.items()},
    )


def _arguments(entry: Any) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "deck": entry.deck,
        "text": entry.text,
        "question": entry.question,
        "notes": {variant: Stamp(*stamp) for variant, stamp in entry.notes.items()},
        "clozes": tuple(entry.clozes),
        "base": entry.base,
    }


@functools.cache
def _version_only() -> Any:
    import msgspec

    return msgspec.defstruct("Version", [("format", int)])


@functools.cache
def _schema() -> Any:
    """The format-2 file as msgspec types (made on first use: msgspec loads late)."""
    import msgspec

    time_ = Annotated[int, msgspec.Meta(ge=0, lt=_MAX_TIME)]
    note_type = msgspec.defstruct("NoteType", [("hash", str), ("mtime", time_)])
    entry = msgspec.defstruct(
        "Entry",
        [
            ("kind", Kind),
            ("deck", str),
            ("text", str),
            ("question", str),
            ("notes", dict[str, tuple[str, time_]]),
            ("clozes", list[str], []),
            ("base", Kind | None, None),
            ("reason", str, "deleted"),
        ],
    )
    return msgspec.defstruct(
        "File",
        [
            ("format", int),
            ("note_types", dict[str, note_type]),  # type: ignore[valid-type]
            ("cards", dict[str, entry]),  # type: ignore[valid-type]
            ("retired", dict[str, entry]),  # type: ignore[valid-type]
            ("title", str, ""),
        ],
    )


def lock_text(lock: Lock) -> str:
    """The lock as JSON, one card per line, so that diffs stay readable."""

    def entry(item: Released) -> str:
        data: dict[str, Any] = {
            "kind": item.kind.value,
            "deck": item.deck,
            "text": item.text,
            "question": item.question,
        }
        if item.clozes:
            data["clozes"] = list(item.clozes)
        if item.base is not None:
            data["base"] = item.base.value
        if isinstance(item, Retired):
            data["reason"] = item.reason
        data["notes"] = {k: [s.hash, s.mtime] for k, s in sorted(item.notes.items())}
        return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))

    def rows(entries: Mapping[str, Any], render: Any) -> str:
        body = ",\n".join(
            f"    {json.dumps(k, ensure_ascii=False)}: {render(v)}"
            for k, v in sorted(entries.items())
        )
        return "{\n" + body + "\n  }" if body else "{}"

    def note_type(stamp: Stamp) -> str:
        return json.dumps({"hash": stamp.hash, "mtime": stamp.mtime})

    return (
        f'{{\n  "format": {FORMAT},\n  "title": {json.dumps(lock.title, ensure_ascii=False)},\n'
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


# --- What a build releases ----------------------------------------------------------

WARNING, INFO = Severity.WARNING, Severity.INFO
OUT_OF_DATE = Rule("DG301", INFO, "the next build records new or changed notes in deck.lock.json")
DISAPPEARED = Rule("DG302", WARNING, "a released card is gone: the next build retires it")
REUSED = Rule("DG303", Severity.ERROR, "a retired card's id is used for other content")
KIND_CHANGED = Rule("DG304", WARNING, "a released card changes kind: learners get a new note")
MOVED = Rule("DG305", WARNING, "a released card moves to another subdeck")
RETITLED = Rule("DG306", WARNING, "the deck title changed")
RENUMBERED = Rule("DG307", WARNING, "a released cloze card renumbers or drops a deletion")
NO_LOCK = Rule("DG308", WARNING, "deck.lock.json is missing or lost released notes")
RESTORED = Rule("DG309", INFO, "a retired card comes back")
SWITCH_NEEDS_LOCK = Rule("DG310", Severity.ERROR, "switchable packages need an up-to-date lock")
RULES = (
    DAMAGED,
    OUT_OF_DATE,
    DISAPPEARED,
    REUSED,
    KIND_CHANGED,
    MOVED,
    RETITLED,
    RENUMBERED,
    NO_LOCK,
    RESTORED,
    SWITCH_NEEDS_LOCK,
)
LEGACY = "*"
"""The hash of a format-1 stamp whose card is unchanged: the next hash takes its time."""


@dataclass(frozen=True)
class Plan:
    """What a build of these cards releases, each entry with the stamps it continues."""

    cards: dict[str, Released]
    retired: dict[str, Retired]
    problems: tuple[Problem, ...]


def plan(
    previous: Lock,
    cards: Iterable[CardSummary],
    *,
    title: str,
    lock_path: Path,
    legacy: Mapping[str, str] = {},
) -> Plan:
    """Match the cards against what learners have: continued, restored, new and retired
    notes, and a problem for every change that learners would not get as it reads.

    ``legacy`` (format 1 only) maps card ids to their hash as format 1 computed it.
    """
    lines = _lines(lock_path)
    problems: list[Problem] = []
    current: dict[str, Released] = {}
    retired = dict(previous.retired)
    moves: dict[tuple[str, str], list[CardSummary]] = {}
    for card in cards:
        before = previous.cards.get(card.id)
        item = released_from(card, before.guid_kind if before else None)
        if before is not None:
            if before.kind is not card.kind:
                problems.append(_kind_change(card, before))
                retired[retired_key(card.id, before.kind)] = Retired(
                    **_fields(before), reason=card.kind.value
                )
                back = retired.pop(retired_key(card.id, card.kind), None)
                item = dataclasses.replace(item, notes=back.notes if back else {})
            else:
                item = _with_notes(item, before.notes)
                problems += _renumbered(card, before)
            if before.deck != card.subdeck:
                moves.setdefault((before.deck, card.subdeck), []).append(card)
        elif (gone := _retired_of(retired, card.id)) is not None:
            back = retired.get(retired_key(card.id, card.kind))
            if back is None or not back.text or back.text != item.text:
                problems.append(_reused(card, back or gone))
                continue
            del retired[retired_key(card.id, card.kind)]
            problems.append(
                RESTORED.at(
                    card.location,
                    f"card {shown(card.id)} restores a retired card: learners get it back "
                    "with its review history",
                )
            )
            item = dataclasses.replace(item, notes=back.notes, base=back.base)
        elif card.id in previous.legacy:
            old = previous.legacy[card.id]
            same = legacy.get(card.id) == old.hash
            item = dataclasses.replace(item, notes={"*": Stamp(LEGACY if same else "", old.mtime)})
        current[card.id] = item
    for card_id, before in previous.cards.items():
        if card_id not in current:
            retired[retired_key(card_id, before.kind)] = Retired(
                **_fields(before), reason="deleted"
            )
            problems.append(_disappeared(card_id, before, lock_path, lines))
    problems += _moves(moves)
    if previous.title and previous.title != title:
        problems.append(
            RETITLED.at(
                Location(lock_path),
                f"the deck title changes from {shown(previous.title)} to {shown(title)}: learners "
                "who have the deck keep their cards under the old title, and get an empty deck "
                "with the new one (Anki matches decks by name and never moves cards)",
                "keep the released title, or tell learners in the changelog to rename the deck "
                "in Anki before they import (their cards then land in the renamed deck)",
            )
        )
    return Plan(current, retired, tuple(problems))


def _fields(item: Released) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(Released)}


def _retired_of(retired: Mapping[str, Retired], card_id: str) -> Retired | None:
    return next((r for k, r in sorted(retired.items()) if k.split("/")[0] == card_id), None)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _kind_change(card: CardSummary, before: Released) -> Problem:
    return KIND_CHANGED.at(
        card.location,
        f"card {shown(card.id)} changes from {before.kind.value} to {card.kind.value}: Anki "
        "cannot change a note's type on import, so learners get the card as a new note "
        "(without its review history) and the old note is retired",
        "keep the released kind to keep learners' history; if the new kind is worth it, "
        "say so in the changelog",
    )


def _reused(card: CardSummary, gone: Retired) -> Problem:
    return REUSED.at(
        card.location,
        f"card id {shown(card.id)} belonged to a card retired earlier ({gone.kind.value}: "
        f"{shown(gone.question, 40)}): learners still have that note and its review history, "
        "and this card says something else",
        "give this card a fresh id (deckgen new, or remove the id and run deckgen ids --fix); "
        "to bring the retired card back, restore its text exactly as it was released",
    )


def _disappeared(card_id: str, before: Released, lock_path: Path, lines: list[str]) -> Problem:
    line = next((n for n, text in enumerate(lines, 1) if f'"{card_id}"' in text), 0)
    return DISAPPEARED.at(
        Location(lock_path, line),
        f"card {shown(card_id)} ({shown(before.question, 40)}) was released and is gone: the "
        "next build retires it (learners keep the note, tagged deckgen::retired, and can "
        "delete it; new learners do not get it)",
        "if the id was renamed, rename it back: a new id is a new card without history",
    )


def _renumbered(card: CardSummary, before: Released) -> list[Problem]:
    if card.kind is not Kind.CLOZE or not before.clozes:
        return []
    now = card.clozes
    problems = []
    for number, text in enumerate(before.clozes, start=1):
        if not text:
            continue
        moved_to = [n for n, t in enumerate(now, start=1) if t == text and n != number]
        if moved_to and (number > len(now) or now[number - 1] != text):
            asks = now[number - 1] if number <= len(now) else ""
            then = f"which now asks for {shown(asks, 20)}" if asks else "shown as an empty card"
            problems.append(
                RENUMBERED.at(
                    card.answer_location,
                    f"c{number} ({shown(text, 20)}) is now c{moved_to[0]}: learners' review "
                    f"history stays with card {number}, {then}; card {moved_to[0]} starts "
                    "without it",
                    "keep each deletion's number; number a new deletion after the last one",
                )
            )
        elif number > len(now) or not now[number - 1]:
            problems.append(
                RENUMBERED.at(
                    card.answer_location,
                    f"c{number} ({shown(text, 20)}) is gone: learners keep card {number} with "
                    "its history, and Anki shows it as an empty card",
                    "keep the number (edit its text instead), or tell learners to run Anki's "
                    "Tools → Empty Cards after the update",
                )
            )
    return problems


def _moves(moves: Mapping[tuple[str, str], list[CardSummary]]) -> list[Problem]:
    problems = []
    for (old, new), moved in sorted(moves.items()):
        first = moved[0]
        what = f"{len(moved)} cards" if len(moved) > 1 else f"card {shown(first.id)}"
        problems.append(
            MOVED.at(
                first.location,
                f"{what} move from subdeck {shown(old or '(main deck)')} to "
                f"{shown(new or '(main deck)')}: learners who have them keep them where they "
                "were (Anki does not move cards on import); new learners get the new subdeck",
                "keep released cards where they are, or tell learners in the changelog how to "
                "move them (Browse, search the cards, Change Deck)",
            )
        )
    return problems


@dataclass(frozen=True)
class Release:
    """The lock after a build, and each note's time in the packages."""

    lock: Lock
    mtimes: dict[tuple[str, str], int]
    """(note key, variant) → modification time; the note key is a card id or ``id/kind``."""


def next_time(previous: Stamp | None, digest: str, now: int) -> Stamp:
    """Unchanged notes keep their time; changed ones move forward, never back."""
    if previous is None:
        return Stamp(digest, now)
    if previous.hash in (digest, LEGACY):
        return Stamp(digest, previous.mtime)
    return Stamp(digest, max(now, previous.mtime + 1))


def release(
    planned: Plan,
    *,
    title: str,
    hashes: Mapping[tuple[str, str], str],
    note_types: Mapping[str, str],
    previous_types: Mapping[str, Stamp],
    now: int,
) -> Release:
    """The lock after building notes with ``hashes`` (per note key and variant) at ``now``.

    Variants not built this time keep their stamps.
    """
    mtimes: dict[tuple[str, str], int] = {}
    built = sorted({variant for _, variant in hashes})

    def stamped(key: str, item: Any) -> Any:
        notes = {v: s for v, s in item.notes.items() if v != "*"}
        for variant in built:
            if (key, variant) not in hashes:  # a format-1 retired id: nothing to write
                continue
            stamp = next_time(notes.get(variant, item.notes.get("*")), hashes[(key, variant)], now)
            notes[variant] = stamp
            mtimes[(key, variant)] = stamp.mtime
        return _with_notes(item, notes)

    lock = Lock(
        title=title,
        note_types={k: next_time(previous_types.get(k), h, now) for k, h in note_types.items()},
        cards={card_id: stamped(card_id, item) for card_id, item in planned.cards.items()},
        retired={key: stamped(key, item) for key, item in planned.retired.items()},
    )
    return Release(lock, mtimes)
