"""Checked cards → each note's identity and time → staged packages → published together.

Every package is complete before any replaces its previous version; the lock
goes first, so that if publishing stops half-way the next build makes the
same packages. What was already replaced is reported with the failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deckgen.cache import CardResult
from deckgen.convert import Phrase, convert_card, deck_title
from deckgen.errors import DeckgenError, Location, Problem
from deckgen.files import CANNOT_WRITE, Staged, os_problem
from deckgen.lock import Lock, Plan, Release, note_hash, release
from deckgen.model import DeckConfig, Kind, Note, Variant
from deckgen.notetypes import note_type
from deckgen.package import (
    DeckData,
    PackagedNote,
    deck_id,
    note_guid,
    package_name,
    stage_package,
)
from deckgen.render import render_retired
from deckgen.sanitize import sanitize_note


@dataclass(frozen=True)
class Identified:
    """Every note of the chosen variants with its GUID, and the lock that records them."""

    notes: dict[str, list[tuple[str, Note, str, bool]]]
    """Variant → (note key, note, GUID, retired) in study order."""
    release: Release


def identify(
    results: Sequence[CardResult],
    *,
    config: DeckConfig,
    phrases: tuple[Phrase, ...],
    planned: Plan,
    previous: Lock,
    variants: Sequence[Variant],
    shared: bool,
    now: int,
) -> Identified:
    """GUIDs and hashes for the cards' notes and the retired notes; the lock after them."""
    chosen = {variant.name for variant in variants}
    notes: dict[str, list[tuple[str, Note, str, bool]]] = {v.name: [] for v in variants}
    hashes: dict[tuple[str, str], str] = {}

    def add(key: str, card_id: str, note: Note, base: Kind, retired: bool) -> None:
        guid = note_guid(config.id, card_id, note.variant, kind=note.kind, base=base, shared=shared)
        notes[note.variant].append((key, note, guid, retired))
        hashes[(key, note.variant)] = note_hash(note, guid)

    for result in results:
        if result.card is None:
            continue
        item = planned.cards[result.card.id]
        for note in result.notes:
            if note.variant in chosen:
                add(result.card.id, result.card.id, note, item.guid_kind, False)
    for key, entry in sorted(planned.retired.items()):
        if not entry.text:  # an id from a format-1 lock: kept taken, nothing to write
            continue
        card_id = key.split("/")[0]
        rendered = render_retired(entry, card_id, config)
        for variant in variants:
            note = convert_card(rendered, config=config, variant=variant, phrases=phrases)
            add(key, card_id, sanitize_note(note, Location(config.path)), entry.guid_kind, True)
    types = {kind.value: note_type(kind).content_hash for kind in Kind}
    title = config.title
    return Identified(
        notes,
        release(
            planned,
            title=title,
            hashes=hashes,
            note_types=types,
            previous_types=previous.note_types,
            now=now,
        ),
    )


@dataclass(frozen=True)
class PackageSummary:
    """What one written package holds, for the one-line summary."""

    variant: str
    path: Path
    notes: int
    cards: int
    decks: int
    retired: int = 0

    def __str__(self) -> str:
        retired = f", {self.retired} retired" if self.retired else ""
        return (
            f"{self.variant}: {self.path} ({self.notes} notes, {self.cards} cards, "
            f"{self.decks} decks{retired})"
        )


def stage_packages(
    identified: Identified,
    *,
    config: DeckConfig,
    phrases: tuple[Phrase, ...],
    variants: Sequence[Variant],
    results: Sequence[CardResult],
    out_dir: Path,
    shared: bool,
    version: str = "",
    descriptions: dict[str, str] | None = None,
) -> list[tuple[PackageSummary, Staged]]:
    """Write every variant's package beside its final path; nothing is replaced yet."""
    cards = {r.card.id: r.card for r in results if r.card is not None}
    media = {image.media: image.path for card in cards.values() for image in card.images}
    lock = identified.release.lock
    staged: list[tuple[PackageSummary, Staged]] = []
    try:
        for variant in variants:
            # With shared GUIDs, the variants' notes differ in time so that Anki switches them.
            offset = [v.name for v in config.variants].index(variant.name) if shared else 0
            title = deck_title(config, variant, phrases)
            decks = {
                title: DeckData(
                    title,
                    deck_id(config.id, variant.name, ""),
                    (descriptions or {}).get(variant.name, ""),
                )
            }
            packaged = []
            due = 0
            for key, note, guid, retired in identified.notes[variant.name]:
                if not retired:
                    due += 1
                    decks.setdefault(
                        note.deck,
                        DeckData(note.deck, deck_id(config.id, variant.name, note.subdeck)),
                    )
                mtime = identified.release.mtimes[(key, variant.name)] + offset
                packaged.append(PackagedNote(note, guid, mtime, 0 if retired else due, retired))
            path = out_dir / package_name(title, variant.name, version=version, switchable=shared)
            written = stage_package(
                path,
                notes=packaged,
                decks=sorted(decks.values(), key=lambda d: d.name),
                note_type_mtimes={k: s.mtime for k, s in lock.note_types.items()},
                media=media,
            )
            current = [
                cards[key] for key, _, _, retired in identified.notes[variant.name] if not retired
            ]
            summary = PackageSummary(
                variant.name,
                path,
                len(current),
                sum(card.anki_cards for card in current),
                len(decks),
                len(packaged) - len(current),
            )
            staged.append((summary, written))
    except BaseException:
        for _, item in staged:
            item.discard()
        raise
    return staged


def publish(staged: Sequence[Staged]) -> list[Path]:
    """Replace each final path with its staged file, in order; return what was replaced.

    Everything is checked first, so that a folder in the way stops the publication
    before anything is replaced; a failure after that names what was replaced.
    """
    for item in staged:
        if item.final.is_dir():
            error = IsADirectoryError(21, "Is a directory")
            for other in staged:
                other.discard()
            raise DeckgenError([_in_the_way(os_problem(CANNOT_WRITE, error, item.final, "write"))])
    written: list[Path] = []
    for index, item in enumerate(staged):
        try:
            item.publish()
        except BaseException as error:  # Ctrl-C included: leave no temporary file behind
            for other in staged[index:]:
                other.discard()
            if isinstance(error, DeckgenError):
                raise DeckgenError(error.problems, written=written) from None
            raise
        written.append(item.final)
    return written


def describe(
    config: DeckConfig, phrases: tuple[Phrase, ...], variants: Sequence[Variant]
) -> dict[str, str]:
    """Each variant's deck description: converted like the cards, then sanitized."""
    from deckgen.convert import converter
    from deckgen.markdown import render_markdown
    from deckgen.render import render_description
    from deckgen.sanitize import sanitize_html

    body = render_markdown(config.description) if config.description else ""
    html = render_description(config, body)
    return {v.name: sanitize_html(converter(v.opencc, phrases).html(html)) for v in variants}


def _in_the_way(problem: Problem) -> Problem:
    from dataclasses import replace

    return replace(problem, hint="remove what is in the way, or choose another folder with --out")
