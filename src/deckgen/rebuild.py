"""The one guard for "is the output up to date": build, or reuse the recorded packages.

On the no-op path only deck.toml is parsed and the inputs hashed (the record,
deckgen.outputs): the stages (markdown-it, OpenCC, genanki) are not even
imported, so this module imports the build lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.errors import Problem
from deckgen.files import sweep_leftovers
from deckgen.outputs import (
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
    if not force and (record := up_to_date(out_dir, deck_id, input_digest(deck_dir, options))):
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
    digest = input_digest(deck_dir, options)
    write_record(out_dir, deck_id, digest, outputs, built.warnings, built.keys)
    return Outcome([str(s) for s in built.summaries], built.warnings, True, removed)
