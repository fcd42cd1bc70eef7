"""The pipeline, as its stages: read → card stages (parse, check, render, convert) →
deck rules → identity → package → publish."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from deckgen.cardfile import NO_CARDS, duplicate_ids
from deckgen.cardtext import CheckContext
from deckgen.check import check_deck, read_sources, silence
from deckgen.config import choose_variants
from deckgen.errors import DeckgenError, Location, Problem, Severity
from deckgen.identify import changed_notes, identify, note_type_hashes
from deckgen.lifecycle import NO_LOCK, OUT_OF_DATE, SWITCH_NEEDS_LOCK, Plan, plan
from deckgen.lock import LOCK_NAME, Lock, build_time, read_lock, stage_lock
from deckgen.model import CardSummary, DeckTexts
from deckgen.outputs import read_record
from deckgen.parse import parse_card
from deckgen.publish import PackageSummary, publish, start_packages
from deckgen.recover import note_keys, recover
from deckgen.results import CardResult
from deckgen.stages import Deck, Track, process_deck, read_deck

ERROR, WARNING = Severity.ERROR, Severity.WARNING
_Stage = TypeVar("_Stage", bound=Callable[..., object])


def _cycles_collected_after(stage: _Stage) -> _Stage:
    """Run ``stage`` with Python's cycle collector paused. It rescans every live object
    each time enough new ones pile up, and a build's live objects are every card's
    results: 1.3 s of a 3.5 s one-card rebuild at 10,000 cards. The stages make few
    cycles (the peak memory is the same), and what they make is collected afterwards."""

    @functools.wraps(stage)
    def paused(*args: Any, **kwargs: Any) -> object:
        if not gc.isenabled():  # nested, or the caller's choice
            return stage(*args, **kwargs)
        gc.disable()
        try:
            return stage(*args, **kwargs)
        finally:
            gc.enable()

    return cast(_Stage, paused)


@dataclass(frozen=True)
class Built:
    """What a build wrote: each package's summary, the warnings, every note key released."""

    summaries: list[PackageSummary]
    warnings: list[Problem]
    keys: list[str]
    settled: list[Problem] | None = None
    """What check reports right after this build (the cards' and deck's own problems:
    the lock is up to date with the cards); None when the build leaves the lock behind
    (some variants only, or switchable packages)."""
    cards: int = 0


@dataclass(frozen=True)
class Checked:
    """A deck with every card's results, what learners have (the lock) and every problem."""

    deck: Deck
    results: list[CardResult]
    lock: Lock
    plan: Plan
    problems: list[Problem]
    texts: DeckTexts
    """The deck's own title and description in every variant."""
    own: list[Problem]
    """The cards' and the deck's own problems, without those about what learners have
    (the lock): all that check reports once a build has brought the lock up to date."""

    @property
    def cards(self) -> list[CardSummary]:
        return [result.summary for result in self.results if result.summary is not None]


@_cycles_collected_after
def check(
    deck_dir: Path,
    *,
    sources: Sequence[Path] = (),
    cache_dir: Path | None = None,
    save_cache: bool = False,
    track: Track | None = None,
) -> Checked:
    """Read, parse and check a deck, and what its next release would change for learners.

    Raises DeckgenError only where the deck cannot be read at all (deck.toml,
    the phrase dictionaries, the lock); every other problem is returned.
    """
    deck = read_deck(deck_dir)
    processed = process_deck(deck, cache_dir=cache_dir, save=save_cache, track=track)
    results = processed.results
    cards = [result.summary for result in results if result.summary is not None]
    problems = processed.problems + [p for result in results for p in result.problems]
    problems += duplicate_ids(cards)
    if not deck.files:
        problems.append(
            NO_CARDS.at(
                Location(deck_dir),
                "no card files (*.md) in the deck",
                "add one: deckgen new --theme NAME",
            )
        )
    problems += check_deck(
        cards,
        CheckContext.of(deck.config, deck.phrases, sources=read_sources(sources)),
        deck=deck.config,
    )
    own = silence(problems, deck.config)
    lock_path = deck_dir / LOCK_NAME
    lock = read_lock(lock_path)
    if cache_dir is not None:  # the output folder: where the last build's packages are
        recovered = recover(
            lock,
            read_record(cache_dir, deck.config.id),
            out_dir=cache_dir,
            config=deck.config,
            lock_path=lock_path,
        )
        lock = recovered.lock
        problems += [recovered.problem] if recovered.problem else []
    planned = plan(
        lock,
        cards,
        title=deck.config.title,
        lock_path=lock_path,
        legacy=_legacy_hashes(lock, deck),
    )
    problems += planned.problems
    if lock.missing and cards and _in_git(lock_path):
        problems.append(_missing_lock(lock_path))
    return Checked(
        deck, results, lock, planned, silence(problems, deck.config), processed.texts, own
    )


@_cycles_collected_after
def pending_changes(checked: Checked) -> list[Problem]:
    """DG301: how many notes the next build records as new or changed, per variant."""
    if any(p.severity is ERROR for p in checked.problems):
        return []
    config, before = checked.deck.config, checked.lock
    changed = changed_notes(
        checked.results,
        config=config,
        phrases=checked.deck.phrases,
        planned=checked.plan,
        previous=before,
    )
    types = [
        kind
        for kind, digest in note_type_hashes().items()
        if kind not in before.note_types or before.note_types[kind].hash != digest
    ]
    if not changed and not types:
        return []
    lock_path = checked.deck.folder / LOCK_NAME
    what = f"{changed} {'note' if changed == 1 else 'notes'}"
    if types:
        what += (
            f" and {len(types)} note {'type' if len(types) == 1 else 'types'} ({', '.join(types)})"
        )
    return [
        OUT_OF_DATE.at(
            Location(lock_path),
            f"the next build records {what} as new or changed in {lock_path.name}",
            f"run 'deckgen build' and commit {lock_path.name} with the cards",
        )
    ]


def _missing_lock(path: Path) -> Problem:
    return NO_LOCK.at(
        Location(path),
        f"{path.name} is missing: the next build gives every note a new time, so learners who "
        "have the deck would see every note updated (and lose their own edits)",
        f"restore it: git checkout -- {path}; a deck that was never built has none yet",
    )


def _records_changes(before: Lock, after: Lock) -> bool:
    return (before.cards, before.retired, before.note_types) != (
        after.cards,
        after.retired,
        after.note_types,
    )


def _in_git(lock_path: Path) -> bool:
    """Whether git has a committed lock that the work tree lost."""
    import subprocess

    try:
        known = subprocess.run(
            ["git", "cat-file", "-e", f"HEAD:./{lock_path.name}"],
            cwd=lock_path.parent,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return known.returncode == 0


def _legacy_hashes(lock: Lock, deck: Deck) -> dict[str, str]:
    """Format 1's hash of every card, for a format-1 lock (once, at the first build after
    0.1.0): it hashed the whole card, so the cards are parsed again here."""
    if not lock.legacy:
        return {}
    from deckgen.legacy import legacy_hashes

    parsed = (
        parse_card(text, deck_dir=deck.folder, sources=frozenset(deck.config.sources))[0]
        for text in deck.texts
    )
    return legacy_hashes(deck.config, [card for card in parsed if card is not None])


@_cycles_collected_after
def build(
    deck_dir: Path,
    *,
    out_dir: Path,
    variants: Sequence[str] = (),
    shared_guids: bool = False,
    strict: bool = False,
    version: str = "",
    track: Track | None = None,
) -> Built:
    """Build one .apkg per variant; return their summaries, the warnings and the notes.

    Raises DeckgenError (nothing written) if check finds errors, or warnings with strict.
    """
    checked = check(deck_dir, cache_dir=out_dir, save_cache=True, track=track)
    deck = checked.deck
    chosen = choose_variants(deck.config, variants)
    errors = [p for p in checked.problems if p.severity is ERROR]
    warnings = [p for p in checked.problems if p.severity is not ERROR]
    if errors or (strict and any(p.severity is WARNING for p in warnings)):
        raise DeckgenError(
            errors + ([p for p in warnings if p.severity is WARNING] if strict else [])
        )
    identified = identify(
        checked.results,
        config=deck.config,
        phrases=deck.phrases,
        planned=checked.plan,
        previous=checked.lock,
        variants=chosen,
        now=build_time(),
    )
    if shared_guids and _records_changes(checked.lock, identified.release.lock):
        # Switchable packages take their times from the lock: they never write it.
        raise DeckgenError(
            [
                SWITCH_NEEDS_LOCK.at(
                    Location(deck_dir / LOCK_NAME),
                    "the lock is not up to date with the cards: switchable packages take "
                    "each note's time from it",
                    "run 'deckgen build' first (it records the changes), then build with "
                    "--shared-guids",
                )
            ]
        )
    writing = start_packages(
        identified,
        config=deck.config,
        variants=chosen,
        results=checked.results,
        out_dir=out_dir,
        shared=shared_guids,
        version=version,
        texts=checked.texts,
    )
    with writing:  # the lock is staged while the packages are written
        lock = None if shared_guids else stage_lock(deck_dir / LOCK_NAME, identified.release.lock)
        try:
            staged = writing.results()
        except BaseException:
            if lock is not None:
                lock.discard()
            raise
    publish(([lock] if lock else []) + [item for _, item in staged])
    every = {v.name for v in chosen} == {v.name for v in deck.config.variants}
    settled = checked.own if every and not shared_guids else None
    return Built(
        [summary for summary, _ in staged],
        warnings,
        note_keys(identified.release.lock),
        settled,
        len(checked.cards),
    )
