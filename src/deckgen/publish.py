"""Identified notes → staged packages → published together.

Every package is complete before any replaces its previous version; the lock
goes first, so that if publishing stops half-way the next build makes the
same packages. What was already replaced is reported with the failure.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from deckgen.errors import DeckgenError, Problem, counted
from deckgen.files import CANNOT_WRITE, Staged, is_folder, os_problem, worker_died
from deckgen.identify import Identified, Identity
from deckgen.model import DeckConfig, DeckTexts, Variant
from deckgen.package import (
    DeckData,
    PackagedNote,
    deck_id,
    note_guid,
    package_name,
    stage_package,
)
from deckgen.results import CardResult


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
            f"{self.variant}: {self.path} ({counted(self.notes, 'note')}, "
            f"{counted(self.cards, 'card')}, {counted(self.decks, 'deck')}{retired})"
        )


PARALLEL_FROM = 4000
"""Notes in all packages together before writing them in parallel processes pays."""


@dataclass(frozen=True)
class _PackageJob:
    """One variant's package to write. Its notes are gathered by the process that writes
    it: a forked writer decodes only its own variant's notes from the cache."""

    variant: Variant
    path: Path
    title: str
    description: str
    entries: list[Identity]
    mtimes: dict[tuple[str, str], int]
    offset: int
    """With shared GUIDs, the variants' notes differ in time so that Anki switches them."""
    switchable: dict[str, str]
    """With shared GUIDs: subdeck → the one deck name of every variant (else empty)."""
    config_id: int
    note_type_mtimes: dict[str, int]
    media: dict[str, Path]
    summary: PackageSummary
    """What it holds, but the count of decks (known once the notes are read)."""

    def write(self) -> tuple[PackageSummary, Staged]:
        name = self.variant.name
        decks = {
            self.title: DeckData(self.title, deck_id(self.config_id, name, ""), self.description)
        }
        packaged = []
        due = 0
        for entry in self.entries:
            note, guid = entry.note, entry.guid
            if self.switchable:  # one note for every variant, in decks of one name
                note = replace(note, deck=self.switchable.get(note.subdeck, note.deck))
                guid = note_guid(
                    self.config_id, entry.card_id, "", kind=note.kind, base=entry.base, shared=True
                )
            if not entry.retired:
                due += 1
                if note.deck not in decks:
                    decks[note.deck] = DeckData(
                        note.deck, deck_id(self.config_id, name, note.subdeck)
                    )
            mtime = self.mtimes[(entry.key, name)] + self.offset
            packaged.append(
                PackagedNote(note, guid, mtime, 0 if entry.retired else due, entry.retired)
            )
        staged = stage_package(
            self.path,
            notes=packaged,
            decks=sorted(decks.values(), key=lambda d: d.name),
            note_type_mtimes=self.note_type_mtimes,
            media=self.media,
        )
        return replace(self.summary, decks=len(decks)), staged


def start_packages(
    identified: Identified,
    *,
    config: DeckConfig,
    variants: Sequence[Variant],
    results: Sequence[CardResult],
    out_dir: Path,
    shared: bool,
    texts: DeckTexts,
    version: str = "",
) -> Writing:
    """Start writing every variant's package beside its final path (nothing is replaced):
    use as ``with start_packages(...) as writing:`` and take ``writing.results()``."""
    cards = {r.summary.id: r.summary for r in results if r.summary is not None}
    media = {name: path for card in cards.values() for name, path in card.media}
    switchable = _switchable_names(results, texts) if shared else {}
    lock = identified.release.lock
    types = {k: s.mtime for k, s in lock.note_types.items()}
    jobs = []
    for variant in variants:
        name = texts.titles[variant.name]
        path = out_dir / package_name(name, variant.name, version=version, switchable=shared)
        entries = identified.notes[variant.name]
        current = [cards[e.key] for e in entries if not e.retired]
        anki_cards = sum(card.anki_cards for card in current)
        retired = len(entries) - len(current)
        summary = PackageSummary(variant.name, path, len(current), anki_cards, 0, retired)
        jobs.append(
            _PackageJob(
                variant,
                path,
                switchable.get("", "") or name,
                texts.descriptions[variant.name],
                entries,
                identified.release.mtimes,
                [v.name for v in config.variants].index(variant.name) if shared else 0,
                switchable,
                config.id,
                types,
                media,
                summary,
            )
        )
    return Writing(jobs)


class Writing:
    """Packages being written: on a multi-core machine, when they are large, each in a
    forked process of its own (which inherits its notes: nothing is copied to it), so
    that this process is free meanwhile (for the lock); else here, in ``results``. If
    anything fails, every staged package is deleted."""

    def __init__(self, jobs: list[_PackageJob]) -> None:
        self.jobs = jobs
        notes = sum(len(job.entries) for job in jobs)
        parallel = (
            len(jobs) > 1
            and notes >= PARALLEL_FROM
            and (os.cpu_count() or 1) > 1
            and hasattr(os, "fork")
        )
        self.children = [_Child.start(job) for job in jobs] if parallel else []
        self.written: list[tuple[PackageSummary, Staged]] = []

    def __enter__(self) -> Writing:
        return self

    def __exit__(self, kind: object, *details: object) -> None:
        if kind is not None:  # this process failed, or one of the writers
            for _, item in self.written:
                item.discard()
            for child in self.children:
                child.stop()

    def results(self) -> list[tuple[PackageSummary, Staged]]:
        for job in self.jobs if not self.children else []:
            self.written.append(job.write())
        for child in self.children:
            self.written.append(child.result())
        return self.written


@dataclass(frozen=True)
class _Child:
    """A forked process writing one package; it sends back the staged file or the problems."""

    job: _PackageJob
    process: multiprocessing.process.BaseProcess
    reply: multiprocessing.connection.Connection

    @classmethod
    def start(cls, job: _PackageJob) -> _Child:
        receiving, sending = multiprocessing.get_context("fork").Pipe(duplex=False)
        process = multiprocessing.get_context("fork").Process(
            target=_write_and_reply, args=(job, sending), daemon=True
        )
        process.start()
        sending.close()
        return cls(job, process, receiving)

    def result(self) -> tuple[PackageSummary, Staged]:
        try:
            outcome: tuple[PackageSummary, Staged] | list[Problem] | BaseException = (
                self.reply.recv()
            )
        except EOFError:  # it died without a word: killed, or out of memory
            self.process.join()
            raise worker_died(self.job.path.parent) from None
        self.process.join()
        if isinstance(outcome, tuple):
            return outcome
        if isinstance(outcome, BaseException):
            raise outcome
        raise DeckgenError(outcome)

    def stop(self) -> None:
        """Wait for it (a package takes under a second) and delete what it wrote: after an
        error here, or Ctrl-C, which reaches it too (its own writing() then cleans up)."""
        with contextlib.suppress(EOFError, OSError, KeyboardInterrupt):
            outcome = self.reply.recv()
            if isinstance(outcome, tuple):
                outcome[1].discard()
        self.process.join()


def _write_and_reply(job: _PackageJob, reply: multiprocessing.connection.Connection) -> None:
    try:
        reply.send(job.write())
    except DeckgenError as error:
        reply.send(list(error.problems))
    except Exception as error:  # a bug: the parent raises it as its own
        reply.send(RuntimeError(f"writing {job.path.name}: {error!r}"))
    except KeyboardInterrupt:  # Ctrl-C: the parent stops too, and says so
        with contextlib.suppress(OSError):
            reply.send(KeyboardInterrupt())
    finally:
        reply.close()


def _switchable_names(results: Sequence[CardResult], texts: DeckTexts) -> dict[str, str]:
    """Subdeck ("" for the top deck) → one deck name for every variant of a switchable
    package: each level in every script where they differ (如何做好运营工作 / 如何做好運營工作).

    Anki matches decks by name and never moves cards: with one name, switching script
    leaves learners' cards in decks whose names still read right, and no empty decks.
    """
    by_subdeck: dict[str, dict[str, str]] = {"": dict(texts.titles)}
    for result in results:
        for note in result.notes:
            by_subdeck.setdefault(note.subdeck, {})[note.variant] = note.deck
    names = {}
    for subdeck, per_variant in by_subdeck.items():
        levels = zip(*(name.split("::") for name in per_variant.values()), strict=False)
        names[subdeck] = "::".join(" / ".join(dict.fromkeys(level)) for level in levels)
    return names


def publish(staged: Sequence[Staged]) -> list[Path]:
    """Replace each final path with its staged file, in order; return what was replaced.

    Everything is checked first, so that a folder in the way stops the publication
    before anything is replaced; a failure after that names what was replaced.
    """
    for item in staged:
        if is_folder(item.final):
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


def _in_the_way(problem: Problem) -> Problem:
    from dataclasses import replace

    return replace(problem, hint="remove what is in the way, or choose another folder with --out")
