"""The card stages, per card: parse → check → render → convert → sanitize → ``CardResult``.

Results are plain data, cached beside the output (cache.py); a cold build
spreads the cards over the machine's cores. A worker that dies (the OOM
killer) ends the build with a clean error, never a wait.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.cache import CardCache, CardResult, card_key, environment_digest, text_digest
from deckgen.cardfile import CardText, FileText, cut_card_file, load_card_file
from deckgen.cardtext import CheckContext, question_key
from deckgen.check import check_card
from deckgen.config import load_config
from deckgen.convert import Phrase, convert_card, load_phrases
from deckgen.errors import DeckgenError, Location, Problem
from deckgen.files import WORKER_DIED, card_files
from deckgen.lifecycle import cloze_texts, note_hash, text_hash
from deckgen.model import Card, CardSummary, DeckConfig, Prose
from deckgen.outputs import versions
from deckgen.parse import parse_card
from deckgen.quality import PLACEHOLDER_LEFT
from deckgen.render import render_card
from deckgen.sanitize import sanitize_note

PARALLEL_FROM = 400
"""Cards to parse before worker processes pay for their start."""

Track = Callable[[Sequence[Any], str], Iterable[Any]]


@dataclass(frozen=True)
class Job:
    """What the card stages need besides the card: sent once to each worker process."""

    deck_dir: Path
    config: DeckConfig
    phrases: tuple[Phrase, ...]


def process_card(text: CardText, job: Job) -> CardResult:
    """One card through the card stages: parse → check → render → convert → sanitize."""
    config = job.config
    card, problems = parse_card(text, deck_dir=job.deck_dir, sources=frozenset(config.sources))
    if card is None:
        return CardResult(None, problems)
    problems += check_card(card, CheckContext.of(config, job.phrases), deck_allow=config.allow)
    summary = summarize(card, problems)
    rendered = render_card(card, config)
    try:
        notes = tuple(
            sanitize_note(
                convert_card(rendered, config=config, variant=variant, phrases=job.phrases),
                card.location,
            )
            for variant in config.variants
        )
    except DeckgenError as error:
        return CardResult(summary, problems + tuple(error.problems))
    from deckgen.package import note_guid

    guids = tuple(
        note_guid(config.id, card.id, note.variant, kind=card.kind, base=card.kind)
        for note in notes
    )
    hashes = tuple(note_hash(note, guid) for note, guid in zip(notes, guids, strict=True))
    return CardResult(summary, problems, notes, guids, hashes)


def summarize(card: Card, problems: Sequence[Problem]) -> CardSummary:
    """What the deck stages need of a parsed card (the card itself is not kept)."""
    return CardSummary(
        id=card.id,
        kind=card.kind,
        subdeck=card.subdeck,
        location=card.location,
        answer_location=card.answer.location,
        allow=card.allow,
        text_hash=text_hash(card),
        question=card.question.text.strip(),
        question_key=question_key(card),
        clozes=cloze_texts(card),
        cloze_numbers=card.cloze_numbers,
        quotes=tuple(Prose(quote.location.line, quote.text, True) for quote in card.quotes),
        prose=tuple(
            Prose(run.line, run.text, part in card.quotes)
            for part in card.parts
            for run in part.lines
            if run.text
        ),
        media=tuple((image.media, image.path) for image in card.images),
        placeholder=any(p.code == PLACEHOLDER_LEFT.code for p in problems),
    )


@dataclass(frozen=True)
class Deck:
    """A deck folder read: its config, phrases and card files, not yet cut into cards."""

    folder: Path
    config: DeckConfig
    phrases: tuple[Phrase, ...]
    files: tuple[FileText, ...]

    @property
    def texts(self) -> list[CardText]:
        return [text for file in self.files for text in cut_card_file(file).cards]


def read_deck(deck_dir: Path) -> Deck:
    """deck.toml, the phrase dictionaries and every card file."""
    config = load_config(deck_dir)
    phrases = load_phrases(config)
    files = tuple(load_card_file(path, deck_dir=deck_dir) for path in card_files(deck_dir))
    return Deck(deck_dir, config, phrases, files)


@dataclass(frozen=True)
class Processed:
    """Every card's results, in deck order, and what is wrong with card files as a whole."""

    results: list[CardResult]
    problems: list[Problem]


def _environment(deck: Deck) -> str:
    """Everything besides a card's own text that shapes its results."""
    return environment_digest(
        [
            *versions(),
            deck.config.raw,
            str(deck.folder.resolve()),
            *(f"{p.simplified}\t{p.traditional}" for p in deck.phrases),
        ]
    )


def process_deck(
    deck: Deck, *, cache_dir: Path | None, save: bool = False, track: Track | None = None
) -> Processed:
    """Every card's results, in deck order: from the cache in ``cache_dir``, else computed
    (in parallel when there are many); with ``save``, the cache is updated.

    A card file whose text is unchanged since the cache was saved is not even cut into
    cards; in an edited file, only the cards that changed are parsed again.
    """
    cache = CardCache(cache_dir, deck.config.id, _environment(deck)) if cache_dir else None
    results: list[CardResult | None] = []
    problems: list[Problem] = []
    missing: list[tuple[int, CardText]] = []
    changed: list[tuple[str, str, tuple[Problem, ...], list[tuple[int, str]]]] = []
    for file in deck.files:
        group, digest = str(file.path), text_digest(file.text)
        readable = not file.problems  # a file that could not be read is never cached
        if cache is not None and readable and (whole := cache.file(group, digest)) is not None:
            results += whole[0]
            problems += whole[1]
            continue
        cut = cut_card_file(file)
        problems += cut.problems
        slots = []
        for text in cut.cards:
            key = card_key(text)
            result = cache.card(group, key) if cache is not None else None
            if result is None:
                missing.append((len(results), text))
            slots.append((len(results), key))
            results.append(result)
        if readable:
            changed.append((group, digest, cut.problems, slots))
    job = Job(deck.folder, deck.config, deck.phrases)
    computed = _compute([text for _, text in missing], job, track)
    for (index, _), result in zip(missing, computed, strict=True):
        results[index] = result
    done = [result for result in results if result is not None]
    if cache is not None and save:
        for group, digest, own, slots in changed:
            kept = [(key, results[index]) for index, key in slots]
            cache.keep(group, digest, own, [(key, r) for key, r in kept if r is not None])
        cache.save()
    return Processed(done, problems)


def _compute(texts: list[CardText], job: Job, track: Track | None) -> list[CardResult]:
    workers = min(os.cpu_count() or 1, 4)
    if len(texts) < PARALLEL_FROM or workers < 2:
        items = track(texts, "reading cards") if track else texts
        return [process_card(text, job) for text in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    chunk = max(50, len(texts) // (workers * 4))
    batches = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(job,)
        ) as pool:
            futures = [pool.submit(_process_batch, batch) for batch in batches]
            waiting = track(futures, "reading cards") if track else futures
            return [result for future in waiting for result in future.result()]
    except BrokenProcessPool:
        raise DeckgenError(
            [
                WORKER_DIED.at(
                    Location(job.deck_dir),
                    "a worker process stopped before it finished (out of memory?)",
                    "run the build again; if it happens again, free some memory",
                )
            ]
        ) from None


_WORKER_JOB: Job | None = None


def _start_worker(job: Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _process_batch(texts: list[CardText]) -> list[CardResult]:
    assert _WORKER_JOB is not None
    return [process_card(text, _WORKER_JOB) for text in texts]
