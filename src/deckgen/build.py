"""The pipeline: deck folder → parse → check → render → convert per variant → .apkg."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deckgen import __version__
from deckgen.check import check_deck
from deckgen.convert import Converter, Phrase, load_phrases
from deckgen.errors import DeckgenError, Location, Problem, Severity
from deckgen.lock import (
    LOCK_NAME,
    Lock,
    build_time,
    card_hash,
    lock_problems,
    read_lock,
    write_lock,
)
from deckgen.model import Card, Deck, DeckConfig, Kind, Variant
from deckgen.notetypes import note_type, stable_id
from deckgen.parse import parse_deck
from deckgen.render import RenderedCard, render_card, render_source

if TYPE_CHECKING:
    from deckgen.package import Staged


@dataclass(frozen=True)
class PackageSummary:
    """What one written package holds, for the one-line summary."""

    variant: str
    path: Path
    notes: int
    cards: int
    decks: int

    def __str__(self) -> str:
        return (
            f"{self.variant}: {self.path} ({self.notes} notes, {self.cards} cards, "
            f"{self.decks} decks)"
        )


@dataclass(frozen=True)
class Checked:
    """A parsed deck with its phrases, the hashes of its content, and what check found."""

    deck: Deck
    phrases: list[Phrase]
    hashes: dict[str, str]
    lock: Lock
    problems: list[Problem]


def _environment(deck: Deck, phrases: Sequence[Phrase]) -> str:
    """Everything besides a card's own text that shapes its notes."""
    import opencc

    text = "\x1f".join(
        [
            __version__,
            str(opencc.__version__),
            deck.config.raw,
            *(f"{p.simplified}\t{p.traditional}" for p in phrases),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def check(deck_dir: Path, *, sources: Sequence[Path] = ()) -> Checked:
    """Parse and check a deck; raise DeckgenError only if it cannot be read at all."""
    deck = parse_deck(deck_dir)
    phrases = load_phrases(deck.config.phrases)
    environment = _environment(deck, phrases)
    hashes = {card.id: card_hash(card, environment) for card in deck.cards}
    lock_path = deck_dir / LOCK_NAME
    lock = read_lock(lock_path)
    problems = check_deck(
        deck,
        sources=sources,
        phrases=phrases,
        extra=lock_problems(lock, lock_path, deck, hashes, _note_type_hashes()),
    )
    return Checked(deck, phrases, hashes, lock, problems)


def _note_type_hashes() -> dict[str, str]:
    return {kind.value: note_type(kind).content_hash for kind in Kind}


def build(
    deck_dir: Path,
    *,
    out_dir: Path,
    variants: Sequence[str] = (),
    shared_guids: bool = False,
    strict: bool = False,
    track: Track | None = None,
) -> tuple[list[PackageSummary], list[Problem]]:
    """Build one .apkg per variant; return their summaries and the warnings.

    ``track(items, label)`` wraps the long loops, e.g. to show a progress bar.

    Raises DeckgenError (nothing written) if check finds errors, or warnings with strict.
    """
    checked = check(deck_dir)
    deck = checked.deck
    chosen = _choose_variants(deck, variants)
    warnings = [p for p in checked.problems if p.severity is Severity.WARNING and p.code != "DG301"]
    errors = [p for p in checked.problems if p.severity is Severity.ERROR]
    if errors or (strict and warnings):
        raise DeckgenError(errors + (warnings if strict else []))

    now = build_time()
    lock = checked.lock.succeeded_by(checked.hashes, _note_type_hashes(), now)
    track = track or _untracked
    rendered = [render_card(card) for card in track(deck.cards, "rendering")]
    job = _Job(deck, chosen, rendered, lock, checked.phrases, out_dir, shared_guids)
    written = _write_all(job, track)
    # Every package is complete before any replaces its previous version, and the lock
    # goes first: if publishing fails half-way, the next build makes the same packages.
    try:
        write_lock(deck_dir / LOCK_NAME, lock)
        for _, staged in written:
            staged.publish()
    except BaseException:  # Ctrl-C included: leave no temporary file behind
        for _, staged in written:
            staged.discard()
        raise
    return [summary for summary, _ in written], warnings


@dataclass(frozen=True)
class _Job:
    """What writing the packages needs, shared with forked workers without pickling."""

    deck: Deck
    variants: list[Variant]
    rendered: list[RenderedCard]
    lock: Lock
    phrases: list[Phrase]
    out_dir: Path
    shared_guids: bool

    def write(self, index: int) -> tuple[PackageSummary, Staged]:
        return _write_variant(
            self.deck,
            self.variants[index],
            self.rendered,
            self.lock,
            self.phrases,
            self.out_dir,
            self.shared_guids,
        )


_FORKED_JOB: _Job | None = None
PARALLEL_FROM_CARDS = 1000
"""Below this, starting worker processes costs more than it saves."""


def _write_all(job: _Job, track: Track) -> list[tuple[PackageSummary, Staged]]:
    """Convert and stage each variant, one process per variant on a multi-core machine.

    If any variant fails, the others' staged files are deleted and the error raised.
    """
    global _FORKED_JOB
    written: list[tuple[PackageSummary, Staged]] = []
    try:
        workers = min(len(job.variants), os.cpu_count() or 1)
        if workers < 2 or len(job.rendered) < PARALLEL_FROM_CARDS or not _can_fork():
            for index in track(range(len(job.variants)), "writing packages"):
                written.append(job.write(index))
            return written
        import multiprocessing

        _FORKED_JOB = job  # workers inherit it through fork(): nothing is pickled
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = [pool.apply_async(_write_forked, (i,)) for i in range(len(job.variants))]
            failure: BaseException | None = None
            for result in results:
                try:
                    written.append(result.get())
                except Exception as error:  # collect the others' files before raising
                    failure = failure or error
            if failure is not None:
                raise failure
        return written
    except BaseException:
        for _, staged in written:
            staged.discard()
        raise
    finally:
        _FORKED_JOB = None


def _write_forked(index: int) -> tuple[PackageSummary, Staged]:
    assert _FORKED_JOB is not None
    return _FORKED_JOB.write(index)


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


Track = Callable[[Sequence[Any], str], Iterable[Any]]


def _untracked(items: Sequence[Any], label: str) -> Iterable[Any]:
    return items


def _choose_variants(deck: Deck, names: Sequence[str]) -> list[Variant]:
    known = {variant.name: variant for variant in deck.config.variants}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DeckgenError(
            [
                Problem(
                    Location(deck.config.path),
                    "DG015",
                    f"no variant {unknown[0]!r} in deck.toml",
                    "choose from: " + ", ".join(known),
                )
            ]
        )
    return [known[name] for name in names] if names else list(known.values())


def package_name(title: str, variant: str) -> str:
    """A readable file name: the deck title in the variant's script, then the variant."""
    safe = re.sub(r'[\\/:*?"<>|\s]+', "-", title).strip("-.") or "deck"
    return f"{safe}.{variant}.apkg"


def _write_variant(
    deck: Deck,
    variant: Variant,
    rendered: list[RenderedCard],
    lock: Lock,
    phrases: list[Phrase],
    out_dir: Path,
    shared_guids: bool,
) -> tuple[PackageSummary, Staged]:
    from deckgen.package import DeckData, NoteData, note_guid, write_package

    convert = Converter(variant.opencc, phrases)
    config = deck.config
    title = variant.title or convert.text(config.title)
    decks: dict[str, DeckData] = {}
    notes = []
    media = {}
    # With shared GUIDs, the variants' notes must differ in time for Anki to switch them.
    mtime_offset = [v.name for v in config.variants].index(variant.name) if shared_guids else 0
    for due, item in enumerate(rendered, start=1):
        card = item.card
        deck_name = "::".join(
            [title, *(convert.text(p.strip()) for p in card.subdeck.split("::") if p.strip())]
        )
        decks.setdefault(
            deck_name,
            DeckData(deck_name, stable_id("deck", str(config.id), variant.name, card.subdeck), ""),
        )
        values, tags = note_fields(item, config, variant, convert)
        kind = note_type(card.kind)
        guid_parts: list[str | int] = [config.id, card.id]
        if not shared_guids:
            guid_parts.append(variant.name)
        notes.append(
            NoteData(
                guid=note_guid(*guid_parts),
                note_type=kind,
                fields=tuple(values[name] for name in kind.fields),
                tags=tags,
                deck_name=deck_name,
                mtime=lock.cards[card.id].mtime + mtime_offset,
                due=due,
            )
        )
        media.update({m.name: m.path for m in item.media})
    decks.setdefault(title, DeckData(title, stable_id("deck", str(config.id), variant.name, "")))
    path = out_dir / package_name(title, variant.name)
    staged = write_package(
        path,
        notes=notes,
        decks=sorted(decks.values(), key=lambda d: d.name),
        note_type_mtimes={k: e.mtime for k, e in lock.note_types.items()},
        media=media,
    )
    cards = sum(_card_count(item.card) for item in rendered)
    return PackageSummary(variant.name, path, len(notes), cards, len(decks)), staged


def note_fields(
    item: RenderedCard, config: DeckConfig, variant: Variant, convert: Converter
) -> tuple[dict[str, str], tuple[str, ...]]:
    """One note's field values (by field name) and tags in one variant's script.

    Shared by the packages and the preview, so that the preview shows what Anki will.
    """
    converted = convert.html_many([*item.fields.values(), render_source(config.source)])
    values = {
        **dict(zip(item.fields, converted, strict=False)),
        "Source": converted[-1],
        "Lang": variant.name,
        "Id": item.card.id,
    }
    tags = tuple(convert.text(t) for t in dict.fromkeys(config.tags + item.card.tags))
    return values, tags


def _card_count(card: Card) -> int:
    if card.kind is Kind.CLOZE:
        return len(set(card.cloze_numbers))
    return 2 if card.kind is Kind.REVERSED else 1
