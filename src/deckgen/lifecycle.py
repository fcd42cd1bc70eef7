"""What learners have (the lock) and these cards → what the next release changes.

``plan`` matches every card against the lock: continued, restored, new and
retired notes, and a problem (DG301–DG310) for every change learners would not
get as it reads. ``release`` then stamps each note: unchanged notes keep their
time, changed ones move forward, so that Anki updates exactly those.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.errors import Location, Problem, Rule, Severity, shown
from deckgen.lock import DAMAGED, Lock, Released, Retired, Stamp, retired_key
from deckgen.model import Card, CardSummary, Kind, Note


def text_hash(card: Card) -> str:
    """A hash of what the card says (its kind and Markdown): equal text, same card."""
    parts = [card.kind.value, *(part.markdown for part in card.parts)]
    parts += [image.media for image in card.images]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def note_hash(note: Note, guid: str) -> str:
    """A hash of a note as written into its package (not its time)."""
    parts = [guid, note.kind.value, note.deck, " ".join(note.tags), *note.fields]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def released_from(card: CardSummary, base: Kind | None) -> Released:
    """A card's identity as this build would release it (its notes' stamps still empty)."""
    return Released(
        kind=card.kind,
        deck=card.subdeck,
        text=card.text_hash,
        question=card.question,
        notes={},
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
    DAMAGED,  # the lock's own (deckgen.lock), listed here with the rest of the release's
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
        if before is not None and _unchanged(item, before):
            current[card.id] = before  # the usual case: nothing to announce
            continue
        if before is not None:
            if before.kind is not card.kind:
                problems.append(_kind_change(card, before))
                retired[retired_key(card.id, before.kind)] = Retired(
                    **_fields(before), reason=card.kind.value
                )
                back = retired.pop(retired_key(card.id, card.kind), None)
                item = _with_notes(item, back.notes if back else {})
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
            item = _with_notes(item, {"*": Stamp(LEGACY if same else "", old.mtime)})
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


def _unchanged(item: Released, before: Released) -> bool:
    """Whether a card is released as it was (its notes' stamps aside)."""
    return type(before) is Released and (
        item.kind,
        item.deck,
        item.text,
        item.question,
        item.clozes,
        item.base,
    ) == (before.kind, before.deck, before.text, before.question, before.clozes, before.base)


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
        kept = item.notes
        if "*" not in kept and all(
            v in kept and kept[v].hash == hashes.get((key, v)) for v in built
        ):
            for variant in built:  # the usual case: every note as released
                mtimes[(key, variant)] = kept[variant].mtime
            return item
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
