"""The one guard for "is the output up to date": build, or reuse the recorded packages;
check, or reuse what the last build recorded that check reports.

On the no-op path only deck.toml is parsed and the inputs hashed (the record,
deckgen.outputs): the stages (markdown-it, OpenCC, genanki) are not even
imported, so this module imports the build lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.errors import Problem
from deckgen.files import sweep_leftovers
from deckgen.outputs import (
    CheckRecord,
    checked_as_recorded,
    content_digest,
    input_digest,
    read_record,
    remove_superseded,
    up_to_date,
    write_record,
)

if TYPE_CHECKING:
    from deckgen.stages import Track


@dataclass(frozen=True)
class Outcome:
    """What a guarded build printed: its summaries and warnings, and whether it built."""

    summaries: list[str]
    warnings: list[Problem]
    built: bool
    removed: list[str]


def build_if_changed(
    deck_dir: Path,
    *,
    out_dir: Path,
    variants: tuple[str, ...] = (),
    shared_guids: bool = False,
    strict: bool = False,
    force: bool = False,
    track: Track | None = None,
) -> Outcome:
    """Build, or reuse the recorded packages when no input changed.

    On the no-op path only deck.toml is parsed and the inputs hashed: the card
    stages (markdown-it, OpenCC, genanki) are not even imported.
    """
    from deckgen.config import load_config

    for folder in (out_dir, deck_dir):  # a killed build's temporary files
        sweep_leftovers(folder)
    deck_id = load_config(deck_dir).id
    options = [",".join(variants), str(shared_guids), str(strict)]
    digest = input_digest(content_digest(deck_dir), options)
    if not force and (record := up_to_date(out_dir, deck_id, digest)):
        return Outcome([o.summary for o in record.outputs], record.warnings, False, [])

    from deckgen.build import build

    built = build(
        deck_dir,
        out_dir=out_dir,
        variants=variants,
        shared_guids=shared_guids,
        strict=strict,
        track=track,
    )
    kept = [summary.path for summary in built.summaries]
    # A build of some variants leaves the others' packages alone.
    removed = [] if variants else remove_superseded(out_dir, deck_id, kept)
    previous = read_record(out_dir, deck_id)
    outputs = [(summary.path, str(summary)) for summary in built.summaries]
    if variants and previous:  # keep the other variants' packages in the record
        names = {path.name for path in kept}
        outputs += [
            (out_dir / o.name, o.summary)
            for o in previous.outputs
            if o.name not in names and o.intact(out_dir)
        ]
    # After the build: the lock it wrote is one of the inputs of the next one.
    content = content_digest(deck_dir)
    settled = built.settled
    check = None if settled is None else CheckRecord(str(deck_dir), content, built.cards, settled)
    digest = input_digest(content, options)
    write_record(out_dir, deck_id, digest, outputs, built.warnings, built.keys, check)
    return Outcome([str(s) for s in built.summaries], built.warnings, True, removed)


def check_if_changed(
    deck_dir: Path, *, out_dir: Path, sources: Sequence[Path] = ()
) -> tuple[list[Problem], int]:
    """What check reports (problems, cards checked): what the last build recorded while
    nothing check reads has changed since (its lock, cards, deck.toml, templates and
    versions), else checked anew. Quotes checked against --source files are always new.
    """
    from deckgen.config import load_config

    if not sources:
        recorded = checked_as_recorded(out_dir, deck_dir, load_config(deck_dir).id)
        if recorded is not None:
            return recorded.problems, recorded.cards
    from deckgen.build import check, pending_changes
    from deckgen.check import silence

    checked = check(deck_dir, sources=sources, cache_dir=out_dir)
    problems = silence(checked.problems + pending_changes(checked), checked.deck.config)
    return problems, len(checked.cards)
