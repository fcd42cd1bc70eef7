"""Card and note-type content hashes → modification times, kept in deck.lock.json.

Anki updates an existing note on import only when the incoming modification
time is newer. A fixed time would drop every edit; the clock would make builds
irreproducible. The lock keeps, per card id, the hash of its content and the
time of the build where that hash first appeared: unchanged cards keep their
time (byte-identical rebuilds), edited ones get a later one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from deckgen.errors import DeckgenError, Location, Problem, Severity
from deckgen.model import Card, Deck

WARNING = Severity.WARNING

LOCK_NAME = "deck.lock.json"
_FORMAT = 1


@dataclass(frozen=True)
class Entry:
    hash: str
    mtime: int


@dataclass(frozen=True)
class Lock:
    """What the last build knew: card ids and note-type kinds → Entry."""

    cards: dict[str, Entry] = field(default_factory=dict)
    note_types: dict[str, Entry] = field(default_factory=dict)
    retired: tuple[str, ...] = ()
    """Ids of cards deleted since an earlier build: learners still have their notes,
    so the ids are never handed out again."""

    def succeeded_by(self, hashes: dict[str, str], note_types: dict[str, str], now: int) -> Lock:
        """The lock after a build of cards with ``hashes`` at time ``now``."""
        gone = (set(self.cards) | set(self.retired)) - set(hashes)
        return Lock(
            cards=updated(self.cards, hashes, now),
            note_types=updated(self.note_types, note_types, now),
            retired=tuple(sorted(gone)),
        )


def build_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else int(time.time())


def card_hash(card: Card, environment: str) -> str:
    """Hash of everything that shapes a card's notes: its parts and the build environment."""
    parts = [
        environment,
        card.kind.value,
        card.subdeck,
        " ".join(card.tags),
        card.question.markdown,
        card.answer.markdown,
        *(q.markdown for q in card.quotes),
        card.note.markdown if card.note else "",
    ]
    from deckgen.render import media_name

    # The image's content, not its size: a same-size replacement must reach learners too.
    parts += [f"{image.src}={media_name(image.path)}" for image in card.images]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def read_lock(path: Path) -> Lock:
    """The lock file, or an empty lock if there is none yet."""
    if not path.is_file():
        return Lock()
    try:
        data = json.loads(path.read_text("utf-8"))
        return Lock(
            cards={k: Entry(v["hash"], int(v["mtime"])) for k, v in data["cards"].items()},
            note_types={
                k: Entry(v["hash"], int(v["mtime"])) for k, v in data["note_types"].items()
            },
            retired=tuple(str(card_id) for card_id in data.get("retired", [])),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        hint = (
            f"restore it from version control (git checkout -- {path.name}); "
            "deleting it resets every card's time"
        )
        raise DeckgenError(
            [Problem(Location(path), "DG060", f"lock file is damaged: {error}", hint)]
        ) from None


def updated(old: dict[str, Entry], hashes: dict[str, str], now: int) -> dict[str, Entry]:
    """New entries for ``hashes``: unchanged keep their time, changed ones move forward."""
    entries = {}
    for key, digest in hashes.items():
        previous = old.get(key)
        if previous is not None and previous.hash == digest:
            entries[key] = previous
        else:
            entries[key] = Entry(digest, max(now, previous.mtime + 1) if previous else now)
    return entries


def write_lock(path: Path, lock: Lock) -> None:
    """Write the lock atomically, one card per line so that diffs stay readable."""

    def rows(entries: dict[str, Entry]) -> str:
        return ",\n".join(
            f'    {json.dumps(key, ensure_ascii=False)}: {{"hash": "{e.hash}", "mtime": {e.mtime}}}'
            for key, e in sorted(entries.items())
        )

    retired = "".join(f"\n    {json.dumps(i, ensure_ascii=False)}," for i in lock.retired)
    text = (
        f'{{\n  "format": {_FORMAT},\n  "cards": {{\n{rows(lock.cards)}\n  }},\n'
        f'  "note_types": {{\n{rows(lock.note_types)}\n  }},\n'
        f'  "retired": [{retired.rstrip(",")}\n  ]\n}}\n'
    )
    if path.is_file() and path.read_text("utf-8") == text:
        return
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, "utf-8")
        os.replace(temporary, path)
    except OSError as error:
        raise DeckgenError(
            [
                Problem(
                    Location(path),
                    "DG060",
                    f"cannot write the lock file: {error.strerror}",
                    "make the deck folder writable and build again",
                )
            ]
        ) from None


def lock_problems(
    lock: Lock, path: Path, deck: Deck, hashes: dict[str, str], note_types: dict[str, str]
) -> list[Problem]:
    """DG301 (lock out of date), DG302 (an id disappeared), DG303 (a retired id reused)."""
    problems = [
        Problem(
            card.location,
            "DG303",
            f"card id {card.id!r} belonged to a card deleted in an earlier build",
            "learners still have that card's note: this card would take over its review "
            "history. Give it a fresh id (deckgen new, or deckgen ids --fix)",
            WARNING,
        )
        for card in deck.cards
        if card.id in lock.retired
    ]
    lines = path.read_text("utf-8").splitlines() if path.is_file() else []
    for card_id in sorted(set(lock.cards) - set(hashes)):
        line = next((n for n, text in enumerate(lines, 1) if f'"{card_id}"' in text), 0)
        problems.append(
            Problem(
                Location(path, line),
                "DG302",
                f"card id {card_id!r} from the last build has disappeared",
                "learners' notes and review history for it would be orphaned: "
                "restore the id (rename it back) unless the card is retired "
                "on purpose",
                WARNING,
            )
        )
    stale = [
        card_id
        for card_id, digest in hashes.items()
        if card_id not in lock.cards or lock.cards[card_id].hash != digest
    ]
    stale += [
        f"note type {k}"
        for k, d in note_types.items()
        if k in lock.note_types and lock.note_types[k].hash != d
    ]
    if stale:
        problems.append(
            Problem(
                Location(path),
                "DG301",
                f"{path.name} is out of date for {len(stale)} cards (first: {stale[0]})",
                f"run 'deckgen build' and commit {path.name} with the cards",
                WARNING,
            )
        )
    return problems
