"""What a build wrote into its output folder: what "is the output up to date" reads
(deckgen.rebuild), and the only proof deckgen accepts that it may delete a file.

The record (``OUT/.deckgen-<deck id>.json``) holds a digest of every input, the
options, and each package's name (relative to the output folder), size, time
and sha256. A build whose inputs did not change and whose packages are intact
does nothing. A later build deletes a package it no longer makes (a renamed
deck) only if it is still, byte for byte, the file this deck's record names,
inside the output folder; another deck's packages, a copied project's, or a
file a forged record names are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from deckgen import __version__
from deckgen.errors import Location, Problem, Severity
from deckgen.files import is_inside, write_atomically

_PACKAGE_SUFFIX = ".apkg"


@dataclass(frozen=True)
class Output:
    """One package the recorded build wrote, and what it printed about it."""

    name: str
    sha256: str
    summary: str
    size: int
    mtime_ns: int

    def intact(self, folder: Path) -> bool:
        """Still the file the build wrote: same size and time, or else the same content."""
        status = _regular_file(folder, self.name)
        if status is None:
            return False
        if (status.st_size, status.st_mtime_ns) == (self.size, self.mtime_ns):
            return True
        return _sha256(folder / self.name) == self.sha256


def _regular_file(folder: Path, name: str) -> os.stat_result | None:
    """The status of a regular file called ``name`` directly in ``folder`` (no link, no path)."""
    if not name.endswith(_PACKAGE_SUFFIX) or Path(name).name != name or name.startswith("."):
        return None
    try:
        status = os.lstat(folder / name)
    except (OSError, ValueError):
        return None
    return status if stat.S_ISREG(status.st_mode) else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_path(out_dir: Path, deck_id: int) -> Path:
    return out_dir / f".deckgen-{deck_id}.json"


LIBRARIES = (
    "opencc", "markdown-it-py", "mdit-py-plugins", "mdit-py-cjk-friendly", "Pygments", "nh3",
    "genanki",
)  # fmt: skip
"""The libraries whose version shapes what a build writes: conversion, HTML, highlighting,
sanitizing, packages."""


def versions() -> list[str]:
    """deckgen's version and each library's: a change in any is a change of every input
    (the no-op guard and the card cache both read this)."""
    from importlib import metadata

    return [__version__, *(f"{name} {metadata.version(name)}" for name in LIBRARIES)]


def content_digest(deck_dir: Path) -> str:
    """Hash of everything a build or check reads but options: the deck's files (its lock
    included), the templates, deckgen's data and the versions."""
    from deckgen.notetypes import templates_dir

    digest = hashlib.sha256()
    digest.update("\x1f".join(versions()).encode())
    data = Path(__file__).parent / "data"
    roots = ((deck_dir, "deck"), (templates_dir(), "templates"), (data, "data"))
    for root, prefix in roots:
        for path in _files_under(root):
            digest.update(f"\x1e{prefix}/{path.relative_to(root).as_posix()}\x1f".encode())
            # Never read outside the deck (the build refuses such a link with file:line),
            # nor anything but a regular file (a FIFO would block).
            try:
                status = path.stat()
                if is_inside(path, root) and stat.S_ISREG(status.st_mode):
                    digest.update(path.read_bytes())
                else:
                    digest.update(f"other:{status.st_mode}".encode())
            except (OSError, ValueError):
                digest.update(b"unreadable")
    return digest.hexdigest()


def input_digest(content: str, options: list[str]) -> str:
    """What a build's record is matched by: its inputs (``content_digest``) and options."""
    return hashlib.sha256("\x1f".join([content, *options]).encode()).hexdigest()


def _files_under(root: Path) -> list[Path]:
    """Every file below ``root`` but hidden ones and the build's own cache and records."""
    found = []
    for folder, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        found += [Path(folder) / name for name in sorted(names) if not name.startswith(".")]
    return found


@dataclass(frozen=True)
class CheckRecord:
    """What ``deckgen check`` reports of a deck as a build left it (its lock up to date
    with its cards): reused by check while nothing it reads has changed."""

    deck: str
    """The deck folder as the build was given it: problems name files under it."""
    digest: str
    """The content_digest after the build (the lock it wrote included)."""
    cards: int
    problems: list[Problem]


@dataclass(frozen=True)
class Record:
    digest: str
    outputs: list[Output]
    warnings: list[Problem]
    keys: list[str]
    """Every note key the build released (cards and retired notes): a lock that lacks
    one of them was lost or regenerated."""
    check: CheckRecord | None = None


def read_record(out_dir: Path, deck_id: int) -> Record | None:
    try:
        data = json.loads(record_path(out_dir, deck_id).read_text("utf-8"))
        return Record(
            str(data["digest"]),
            [Output(**entry) for entry in data["outputs"]],
            [_load(w) for w in data["warnings"]],
            [str(key) for key in data.get("keys", [])],
            _load_check(data.get("check")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _load_check(data: dict[str, object] | None) -> CheckRecord | None:
    if not data:
        return None
    problems = data["problems"]
    if not isinstance(problems, list):
        raise TypeError("problems")
    return CheckRecord(
        str(data["deck"]), str(data["digest"]), int(str(data["cards"])), list(map(_load, problems))
    )


def checked_as_recorded(out_dir: Path, deck_dir: Path, deck_id: int) -> CheckRecord | None:
    """What check reported when the last build left the deck as it is now, if it is."""
    record = read_record(out_dir, deck_id)
    if record is None or record.check is None or record.check.deck != str(deck_dir):
        return None
    return record.check if record.check.digest == content_digest(deck_dir) else None


def _dump(problem: Problem) -> dict[str, object]:
    where = problem.location
    return {
        "path": str(where.path),
        "line": where.line,
        "column": where.column,
        "code": problem.code,
        "message": problem.message,
        "hint": problem.hint,
        "severity": problem.severity.value,
    }


def _load(data: dict[str, object]) -> Problem:
    where = Location(Path(str(data["path"])), int(str(data["line"])), int(str(data["column"])))
    return Problem(
        where,
        str(data["code"]),
        str(data["message"]),
        str(data["hint"]),
        Severity(str(data["severity"])),
    )


def up_to_date(out_dir: Path, deck_id: int, digest: str) -> Record | None:
    """The record of the last build if it had these inputs and its packages are intact."""
    record = read_record(out_dir, deck_id)
    if record and record.digest == digest and record.outputs:
        return record if all(output.intact(out_dir) for output in record.outputs) else None
    return None


def remove_superseded(out_dir: Path, deck_id: int, kept: list[Path]) -> list[str]:
    """Delete the packages this deck's last build wrote and this one did not (a renamed
    deck), where they are still exactly what it wrote; return their names."""
    record = read_record(out_dir, deck_id)
    if record is None:
        return []
    names = {path.name for path in kept}
    removed = []
    for output in record.outputs:
        if (
            output.name not in names
            and output.intact(out_dir)
            and _sha256(out_dir / output.name) == output.sha256
        ):
            try:
                os.unlink(out_dir / output.name)
                removed.append(output.name)
            except OSError:
                pass
    return removed


def write_record(
    out_dir: Path,
    deck_id: int,
    digest: str,
    outputs: list[tuple[Path, str]],
    warnings: list[Problem],
    keys: list[str],
    check: CheckRecord | None = None,
) -> None:
    """Record a successful build; best effort, as a missing record only costs a rebuild."""
    entries = []
    for path, summary in outputs:
        status = path.stat()
        entries.append(
            asdict(Output(path.name, _sha256(path), summary, status.st_size, status.st_mtime_ns))
        )
    record = {
        "digest": digest,
        "outputs": entries,
        "warnings": [_dump(w) for w in warnings],
        "keys": keys,
        "check": check
        and {
            "deck": check.deck,
            "digest": check.digest,
            "cards": check.cards,
            "problems": [_dump(problem) for problem in check.problems],
        },
    }
    text = json.dumps(record, ensure_ascii=False, indent=1)
    with contextlib.suppress(Exception):  # a record is only an optimisation
        write_atomically(record_path(out_dir, deck_id), text.encode())
