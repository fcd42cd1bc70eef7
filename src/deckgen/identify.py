"""Checked cards → each note's identity in learners' collections (its GUID) and its hash;
the lock after this release (deckgen.lifecycle stamps the times)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from deckgen.convert import Phrase, convert_card
from deckgen.errors import Location
from deckgen.lifecycle import Plan, Release, note_hash, release
from deckgen.lock import Lock
from deckgen.model import DeckConfig, Kind, Note, Variant
from deckgen.notetypes import note_type
from deckgen.package import note_guid
from deckgen.render import render_retired
from deckgen.results import CardResult
from deckgen.sanitize import sanitize_note


class Identity(NamedTuple):
    """One note of one variant with what identifies it in learners' collections (a tuple:
    a build makes one per note)."""

    key: str
    """The lock's key: the card id, or ``id/kind`` for a retired note."""
    card_id: str
    variant: str
    notes: Sequence[Note]
    """The card's notes, this one at ``position`` (read only when its package is written)."""
    position: int
    guid: str
    base: Kind
    """The kind whose GUID the note keeps (see package.note_guid)."""
    retired: bool

    @property
    def note(self) -> Note:
        return self.notes[self.position]


@dataclass(frozen=True)
class Identified:
    """Every note of the chosen variants with its GUID, and the lock that records them."""

    notes: dict[str, list[Identity]]
    """Variant → its notes, in study order, retired ones last."""
    release: Release


def identify(
    results: Sequence[CardResult],
    *,
    config: DeckConfig,
    phrases: tuple[Phrase, ...],
    planned: Plan,
    previous: Lock,
    variants: Sequence[Variant],
    now: int,
) -> Identified:
    """GUIDs and hashes for the cards' notes and the retired notes; the lock after them."""
    notes: dict[str, list[Identity]] = {v.name: [] for v in variants}
    hashes: dict[tuple[str, str], str] = {}
    for identity, digest in _each_note(results, config, phrases, planned, variants):
        notes[identity.variant].append(identity)
        hashes[(identity.key, identity.variant)] = digest
    released = release(
        planned,
        title=config.title,
        hashes=hashes,
        note_types=note_type_hashes(),
        previous_types=previous.note_types,
        now=now,
    )
    return Identified(notes, released)


def changed_notes(
    results: Sequence[CardResult],
    *,
    config: DeckConfig,
    phrases: tuple[Phrase, ...],
    planned: Plan,
    previous: Lock,
) -> int:
    """How many notes of all variants the next build records as new or changed: what
    ``identify`` would stamp anew, without making the lock (check asks this of every deck)."""
    changed = 0
    for identity, digest in _each_note(results, config, phrases, planned, config.variants):
        before = (previous.cards if identity.key in planned.cards else previous.retired).get(
            identity.key
        )
        stamp = before.notes.get(identity.variant) if before is not None else None
        changed += stamp is None or stamp.hash != digest
    return changed


def note_type_hashes() -> dict[str, str]:
    """Each note type's hash, by kind: a change to its templates or CSS is a release."""
    return {kind.value: note_type(kind).content_hash for kind in Kind}


def _each_note(
    results: Sequence[CardResult],
    config: DeckConfig,
    phrases: tuple[Phrase, ...],
    planned: Plan,
    variants: Sequence[Variant],
) -> Iterator[tuple[Identity, str]]:
    """Every note of these variants with its identity and hash: the cards' notes in study
    order (with the GUID and hash their stages made, while a card keeps its kind), then
    the retired notes."""
    chosen = [(index, v.name) for index, v in enumerate(config.variants) if v in variants]

    def identified(
        key: str, card_id: str, notes: Sequence[Note], index: int, base: Kind, retired: bool
    ) -> tuple[Identity, str]:
        note = notes[index]
        guid = note_guid(config.id, card_id, note.variant, kind=note.kind, base=base)
        identity = Identity(key, card_id, note.variant, notes, index, guid, base, retired)
        return identity, note_hash(note, guid)

    for result in results:
        if result.summary is None:
            continue
        card_id = result.summary.id
        item = planned.cards[card_id]
        if item.guid_kind is not result.summary.kind:  # GUID and hash made anew
            for index, _ in chosen:
                yield identified(card_id, card_id, result.notes, index, item.guid_kind, False)
            continue
        for index, variant in chosen:  # as the card stages made them: no note is read
            guid, digest = result.guids[index], result.hashes[index]
            identity = Identity(
                card_id, card_id, variant, result.notes, index, guid, item.guid_kind, False
            )
            yield identity, digest
    for key, entry in sorted(planned.retired.items()):
        if not entry.notes:  # an id from a format-1 lock: kept taken, nothing to write
            continue
        card_id = key.split("/")[0]
        rendered = render_retired(entry, card_id, config)
        notes = tuple(
            sanitize_note(
                convert_card(rendered, config=config, variant=variant, phrases=phrases),
                Location(config.path),
            )
            for variant in variants
        )
        for index in range(len(notes)):
            yield identified(key, card_id, notes, index, entry.guid_kind, True)
