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

from deckgen.cache import CardCache, card_key, digest
from deckgen.cardfile import CardText, FileText, cut_card_file, load_card_file
from deckgen.cardtext import CheckContext, question_key
from deckgen.check import check_card
from deckgen.config import load_config
from deckgen.convert import Phrase, convert_card, load_phrases
from deckgen.errors import DeckgenError, Problem
from deckgen.files import card_files, worker_died
from deckgen.lifecycle import cloze_texts, note_hash, text_hash
from deckgen.model import Card, CardSummary, DeckConfig, DeckTexts, Prose
from deckgen.outputs import versions
from deckgen.parse import parse_card
from deckgen.quality import PLACEHOLDER_LEFT
from deckgen.render import render_card
from deckgen.results import CardResult, decode_result, encode_result
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
    """Every card's results, in deck order, what is wrong with card files as a whole, and
    the deck's own texts."""

    results: list[CardResult]
    problems: list[Problem]
    texts: DeckTexts


def _environment(deck: Deck) -> str:
    """Everything besides a card's own text that shapes its results."""
    return digest(
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
    """Every card's results, in deck order, and the deck's own texts: from the cache in
    ``cache_dir``, else computed; with ``save``, the cache is updated.

    A card file whose text is unchanged since the cache was saved is not even cut into
    cards; in an edited file, only the cards that changed are parsed again, in a worker
    process while this one reads the rest from the cache.
    """
    cache = CardCache(cache_dir, deck.config.id, _environment(deck)) if cache_dir else None
    parts = [_Part(file, digest([file.text])) for file in deck.files]
    for part in parts:
        if cache is None or not part.readable or not cache.unchanged(part.group, part.digest):
            part.cut(cache)
    texts = cache.texts() if cache is not None else None
    job = Job(deck.folder, deck.config, deck.phrases)
    missing = [(part, index) for part in parts for index in part.missing]
    overlap = any(part.results is None for part in parts)
    with _Computing([part.texts[i] for part, i in missing], job, track, not texts, overlap) as work:
        for part in parts:  # the unchanged files, while the workers compute
            if part.results is None:
                assert cache is not None
                whole = cache.file(part.group, part.digest)
                if whole is None:  # the index trusts an entry that cannot be read
                    part.cut(cache)
                    part.results = [r or process_card(t, job) for r, t in part.pairs()]
                else:
                    part.results, part.problems = [*whole[0]], whole[1]
        for (part, index), (result, encoded) in zip(missing, work.results(), strict=True):
            part.set(index, result, encoded)
        texts = texts or work.deck_texts()
    if cache is not None and save:
        cache.keep_texts(texts)
        for part in parts:
            if part.keys is not None and part.readable:
                cache.keep(part.group, part.digest, part.problems, part.entries())
        cache.save()
    results = [r for part in parts for r in part.results or () if r is not None]
    return Processed(results, [p for part in parts for p in part.problems], texts)


class _Part:
    """One card file on its way through process_deck."""

    def __init__(self, file: FileText, digest: str) -> None:
        self.file, self.digest, self.group = file, digest, str(file.path)
        self.readable = not file.problems
        """A file that could not be read is never cached."""
        self.results: list[CardResult | None] | None = None
        """None while an unchanged file's results are still in the cache."""
        self.problems: tuple[Problem, ...] = ()
        self.texts: list[CardText] = []
        self.keys: list[str] | None = None
        """Set once the file is cut into cards: each card's cache key."""
        self.missing: list[int] = []
        self.encoded: dict[int, bytes] = {}
        """Results as a worker process sent them (stored in the cache as they came)."""

    def cut(self, cache: CardCache | None) -> None:
        """Cut the file into cards and look each up in the cache."""
        cut = cut_card_file(self.file)
        self.problems, self.texts = cut.problems, list(cut.cards)
        self.keys = [card_key(text) for text in self.texts]
        self.results = [cache.card(self.group, key) if cache else None for key in self.keys]
        self.missing = [i for i, result in enumerate(self.results) if result is None]

    def pairs(self) -> list[tuple[CardResult | None, CardText]]:
        return list(zip(self.results or [], self.texts, strict=True))

    def set(self, index: int, result: CardResult, encoded: bytes | None) -> None:
        assert self.results is not None
        self.results[index] = result
        if encoded is not None:
            self.encoded[index] = encoded

    def entries(self) -> list[tuple[str, CardResult, bytes | None]]:
        pairs = enumerate(zip(self.keys or [], self.results or [], strict=True))
        return [(key, r, self.encoded.get(i)) for i, (key, r) in pairs if r is not None]


def deck_texts(config: DeckConfig, phrases: tuple[Phrase, ...]) -> DeckTexts:
    """The deck's title and description in every variant: converted like the cards (the
    variant's wording and quotation marks), the description then sanitized."""
    from deckgen.convert import convert_description, deck_title
    from deckgen.markdown import render_markdown
    from deckgen.render import render_description
    from deckgen.sanitize import sanitize_html

    body = render_markdown(config.description) if config.description else ""
    html = render_description(config, body)
    return DeckTexts(
        {v.name: deck_title(config, v, phrases) for v in config.variants},
        {
            v.name: sanitize_html(convert_description(html, variant=v, phrases=phrases))
            for v in config.variants
        },
    )


class _Computing:
    """The cards the cache lacks (and the deck's texts, if it lacks them), computed in
    worker processes: several on a cold build; one while this process reads the rest of
    the cache (the worker's start, OpenCC's dictionaries above all, is then hidden). Few
    cards and nothing to read meanwhile: computed here."""

    def __init__(
        self, texts: list[CardText], job: Job, track: Track | None, deck: bool, overlap: bool
    ) -> None:
        self.texts, self.job, self.track, self.deck = texts, job, track, deck
        self.pool: Any = None
        self.futures: list[Any] = []
        self.deck_future: Any = None
        cores = min(os.cpu_count() or 1, 4)
        import multiprocessing

        fork = "fork" in multiprocessing.get_all_start_methods()
        if cores < 2 or not (texts or deck):
            return
        if len(texts) >= PARALLEL_FROM:
            workers = cores
        elif overlap and fork:
            workers = 1
        else:
            return
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork" if fork else "spawn")
        self.pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(job,)
        )
        chunk = max(50, len(texts) // (workers * 4))
        batches = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
        self.futures = [self.pool.submit(_process_batch, batch) for batch in batches]
        self.deck_future = self.pool.submit(_deck_texts) if deck else None

    def __enter__(self) -> _Computing:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def results(self) -> list[tuple[CardResult, bytes | None]]:
        """Each card's results, and their encoding if a worker process sent them."""
        if self.pool is None:
            items = self.track(self.texts, "reading cards") if self.track else self.texts
            return [(process_card(text, self.job), None) for text in items]
        waiting = self.track(self.futures, "reading cards") if self.track else self.futures
        encoded: list[bytes] = self._waited(
            lambda: [data for future in waiting for data in future.result()]
        )
        return [(decode_result(data), data) for data in encoded]

    def deck_texts(self) -> DeckTexts:
        if self.deck_future is None or self.pool is None:
            return deck_texts(self.job.config, self.job.phrases)
        texts: DeckTexts = self._waited(self.deck_future.result)
        return texts

    def _waited(self, wait: Callable[[], Any]) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return wait()
        except BrokenProcessPool:
            raise worker_died(self.job.deck_dir) from None


_WORKER_JOB: Job | None = None


def _start_worker(job: Job) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _process_batch(texts: list[CardText]) -> list[bytes]:
    assert _WORKER_JOB is not None
    return [encode_result(process_card(text, _WORKER_JOB)) for text in texts]


def _deck_texts() -> DeckTexts:
    assert _WORKER_JOB is not None
    return deck_texts(_WORKER_JOB.config, _WORKER_JOB.phrases)
