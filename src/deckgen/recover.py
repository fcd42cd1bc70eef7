"""A lost lock → what learners have, read back from the last build's packages.

The lock is what keeps learners' notes stable: without it, the next build
would give every note a new time (every note "updated", learners' own edits
overwritten) and forget the retired cards (whose ids a new card could take
over). The last build's packages hold the same facts: each note's GUID, kind,
fields, tags, deck and time. So when the lock is missing, or lacks notes that
the last build released (a lock regenerated from scratch), deckgen reads them
back and warns; ``git checkout`` of the lock remains the better repair.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deckgen.errors import Location, Problem, shown
from deckgen.lock import NO_LOCK, Lock, Released, Retired, Stamp, note_hash, retired_key
from deckgen.model import FIELDS, DeckConfig, Kind, Note
from deckgen.outputs import Record
from deckgen.package import ShippedNote, note_guid, read_package
from deckgen.render import RETIRED_TAG

_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Recovered:
    lock: Lock
    problem: Problem | None


def note_keys(lock: Lock) -> list[str]:
    """Every note key a lock knows: card ids and retired ``id/kind`` keys."""
    return sorted([*lock.cards, *lock.retired])


def recover(
    lock: Lock, record: Record | None, *, out_dir: Path, config: DeckConfig, lock_path: Path
) -> Recovered:
    """The lock, completed from the recorded packages where it lacks what they released."""
    if record is None or not record.keys:
        return Recovered(lock, None)
    lost = sorted(set(record.keys) - set(note_keys(lock)))
    if not lost and not lock.missing:
        return Recovered(lock, None)
    shipped: list[ShippedNote] = []
    read: list[str] = []
    for output in record.outputs:
        if output.intact(out_dir):
            try:
                shipped += read_package(out_dir / output.name)
                read.append(output.name)
            except Exception:
                continue
    found = _entries(shipped, config)
    cards = {**{k: v for k, v in found.cards.items() if k in lost}, **lock.cards}
    retired = {**{k: v for k, v in found.retired.items() if k in lost}, **lock.retired}
    note_types = lock.note_types or {}
    restored = dataclasses.replace(
        lock, cards=cards, retired=retired, note_types=note_types, missing=False
    )
    recovered = len(set(cards) | set(retired)) - len(set(lock.cards) | set(lock.retired))
    what = (
        "is missing"
        if lock.missing
        else f"lacks {len(lost)} notes the last build released (first: {shown(lost[0])})"
    )
    where = ", ".join(read) if read else "nothing (the packages are gone or changed)"
    problem = NO_LOCK.at(
        Location(lock_path),
        f"{lock_path.name} {what}: recovered {recovered} cards' times and retired ids from "
        f"the last build's packages ({where}), so that learners see no false update",
        f"restore the committed lock instead if you can: git checkout -- {lock_path}",
    )
    return Recovered(restored, problem)


def _entries(shipped: Iterable[ShippedNote], config: DeckConfig) -> Lock:
    """Lock entries for the notes of some packages (texts unknown: a restore needs the lock)."""
    canonical = next((v.name for v in config.variants if v.opencc == "none"), "")
    cards: dict[str, Released] = {}
    retired: dict[str, Retired] = {}
    for note in shipped:
        names = FIELDS[note.kind]
        values = dict(zip(names, note.fields, strict=False))
        card_id, variant = values.get("Id", ""), values.get("Lang", "")
        if not card_id or not variant:
            continue
        is_retired = RETIRED_TAG in note.tags
        deck = "" if is_retired else note.deck
        as_note = Note(card_id, variant, note.kind, note.fields, note.tags, note.deck, "")
        stamp = Stamp(note_hash(as_note, note.guid), note.mtime)
        base = _base_kind(config.id, card_id, variant, note.kind, note.guid)
        question = values.get("Context" if note.kind is Kind.CLOZE else "Front", "")
        key = retired_key(card_id, note.kind) if is_retired else card_id
        entries: dict[str, Released] = retired if is_retired else cards  # type: ignore[assignment]
        before = entries.get(key)
        subdeck = deck.split("::", 1)[1] if "::" in deck and variant == canonical else ""
        item_class = Retired if is_retired else Released
        item = before or item_class(
            kind=note.kind,
            deck=subdeck,
            text="",
            question=html.unescape(_TAG.sub("", question)).strip(),
            notes={},
            base=base,
        )
        if variant == canonical and subdeck:
            item = dataclasses.replace(item, deck=subdeck)
        entries[key] = dataclasses.replace(item, notes={**item.notes, variant: stamp})
    return Lock(cards=cards, retired=retired)


def _base_kind(deck_id: int, card_id: str, variant: str, kind: Kind, guid: str) -> Kind | None:
    """The kind whose GUID the note has (None: its own kind), found by trying each."""
    for base in (kind, *(k for k in Kind if k is not kind)):
        for shared in (False, True):
            if note_guid(deck_id, card_id, variant, kind=kind, base=base, shared=shared) == guid:
                return None if base is kind else base
    return None
