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
from typing import Any

from deckgen.errors import Location, Problem, counted, shown
from deckgen.lifecycle import NO_LOCK, note_hash
from deckgen.lock import Lock, Released, Retired, Stamp, retired_key
from deckgen.model import FIELDS, DeckConfig, Kind, Note
from deckgen.notetypes import note_type
from deckgen.outputs import Record
from deckgen.package import ShippedNote, ShippedType, note_guid, read_package
from deckgen.render import RETIRED_TAG

_TAG = re.compile(r"<[^>]*>")
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::.*?)?\}\}", re.DOTALL)


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
    types: list[ShippedType] = []
    read: list[str] = []
    for output in record.outputs:
        if output.intact(out_dir):
            try:
                notes, kinds = read_package(out_dir / output.name)
            except Exception:  # a damaged package recovers nothing
                continue
            shipped += notes
            types += kinds
            read.append(output.name)
    found = _entries(shipped, config)
    cards = {**{k: v for k, v in found.cards.items() if k in lost}, **lock.cards}
    retired = {**{k: v for k, v in found.retired.items() if k in lost}, **lock.retired}
    note_types = lock.note_types or _note_types(types)
    restored = dataclasses.replace(
        lock, cards=cards, retired=retired, note_types=note_types, missing=False
    )
    recovered = len(set(cards) | set(retired)) - len(set(lock.cards) | set(lock.retired))
    what = (
        "is missing"
        if lock.missing
        else f"lacks {counted(len(lost), 'note')} the last build released (first: {shown(lost[0])})"
    )
    where = ", ".join(read) if read else "nothing (the packages are gone or changed)"
    problem = NO_LOCK.at(
        Location(lock_path),
        f"{lock_path.name} {what}: recovered the times and retired ids of "
        f"{counted(recovered, 'card')} from "
        f"the last build's packages ({where}), so that learners see no false update",
        f"restore the committed lock instead if you can: git checkout -- {lock_path}",
    )
    return Recovered(restored, problem)


def _entries(shipped: Iterable[ShippedNote], config: DeckConfig) -> Lock:
    """Lock entries for the notes of some packages. What only the canonical script's
    package holds as written (subdeck, question, cloze texts) is taken from it; a card's
    Markdown is not in any package, so a recovered retired card cannot be restored."""
    canonical = next((v.name for v in config.variants if v.opencc == "none"), "")
    cards: dict[str, Released] = {}
    retired: dict[str, Retired] = {}
    for note in shipped:
        values = dict(zip(FIELDS[note.kind], note.fields, strict=False))
        card_id, variant = values.get("Id", ""), values.get("Lang", "")
        if not card_id or not variant:
            continue
        is_retired = RETIRED_TAG in note.tags
        as_note = Note(card_id, variant, note.kind, note.fields, note.tags, note.deck, "")
        stamp = Stamp(note_hash(as_note, note.guid), note.mtime)
        key = retired_key(card_id, note.kind) if is_retired else card_id
        entries: dict[str, Any] = retired if is_retired else cards
        item = entries.get(key) or (Retired if is_retired else Released)(
            kind=note.kind,
            deck="",
            text="",
            question="",
            notes={},
            base=_base_kind(config.id, card_id, variant, note.kind, note.guid),
        )
        if variant == canonical:
            question = values.get("Context" if note.kind is Kind.CLOZE else "Front", "")
            item = dataclasses.replace(
                item,
                deck="" if is_retired or "::" not in note.deck else note.deck.split("::", 1)[1],
                question=_plain(question),
                clozes=_clozes(values.get("Text", "")) if note.kind is Kind.CLOZE else (),
            )
        entries[key] = dataclasses.replace(item, notes={**item.notes, variant: stamp})
    for key, item in retired.items():  # retired by a change of kind, not by deletion
        if (current := cards.get(key.split("/")[0])) is not None:
            retired[key] = dataclasses.replace(item, reason=current.kind.value)
    return Lock(cards=cards, retired=retired)


def _plain(html_text: str) -> str:
    return html.unescape(_TAG.sub("", html_text)).strip()


def _clozes(text: str) -> tuple[str, ...]:
    """The text of c1, c2, … in a cloze field, as the lock records it."""
    found: dict[int, list[str]] = {}
    for number, content in _CLOZE.findall(text):
        found.setdefault(int(number), []).append(_plain(content))
    return tuple(" / ".join(found.get(n, [])) for n in range(1, max(found, default=0) + 1))


def _note_types(shipped: Iterable[ShippedType]) -> dict[str, Stamp]:
    """The shipped note types' times, where they are still what deckgen makes: an
    unchanged note type is not sent again; a changed one gets a new time."""
    stamps = {}
    for item in shipped:
        current = note_type(item.kind)
        same = item.css == current.css and item.templates == tuple(
            (t.front, t.back) for t in current.templates
        )
        if same:
            stamps[item.kind.value] = Stamp(current.content_hash, item.mtime)
    return stamps


def _base_kind(deck_id: int, card_id: str, variant: str, kind: Kind, guid: str) -> Kind | None:
    """The kind whose GUID the note has (None: its own kind), found by trying each."""
    for base in (kind, *(k for k in Kind if k is not kind)):
        for shared in (False, True):
            if note_guid(deck_id, card_id, variant, kind=kind, base=base, shared=shared) == guid:
                return None if base is kind else base
    return None
