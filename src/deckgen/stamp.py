"""Build inputs → one digest, so that a build whose inputs did not change does no work.

The stamp lives beside the packages it describes (``OUT/.deckgen-stamp.json``)
and records the digest of every input, the options, and each package's own
sha256: a package that was deleted or touched is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen import __version__
from deckgen.errors import Location, Problem, Severity

if TYPE_CHECKING:
    from deckgen.build import Track

STAMP_NAME = ".deckgen-stamp.json"


@dataclass(frozen=True)
class Output:
    """One package the stamped build wrote, and what it printed about it."""

    path: str
    sha256: str
    summary: str
    size: int = 0
    mtime_ns: int = 0

    def intact(self) -> bool:
        """Unchanged since the stamp: same size and time, or else the same content."""
        try:
            status = Path(self.path).stat()
        except OSError:
            return False
        if (status.st_size, status.st_mtime_ns) == (self.size, self.mtime_ns):
            return True
        return _file_sha256(Path(self.path)) == self.sha256


def input_digest(deck_dir: Path, templates: Path, options: list[str]) -> str:
    """Hash of everything a build reads: the deck folder, templates, versions, options."""
    digest = hashlib.sha256()
    digest.update("\x1f".join([__version__, metadata.version("opencc"), *options]).encode())
    data = Path(__file__).parent / "data"
    for root, prefix in ((deck_dir, "deck"), (templates, "templates"), (data, "data")):
        inside = root.resolve()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root).as_posix()
            if relative.startswith("."):
                continue
            digest.update(f"\x1e{prefix}/{relative}\x1f".encode())
            # Never read outside the deck: a link that escapes is hashed as a link
            # (the build then refuses it with file:line).
            if path.resolve().is_relative_to(inside):
                digest.update(path.read_bytes())
            else:
                digest.update(f"link:{os.readlink(path) if path.is_symlink() else ''}".encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_stamp(out_dir: Path) -> tuple[str, list[Output], list[Problem]]:
    try:
        stamp = json.loads((out_dir / STAMP_NAME).read_text("utf-8"))
        outputs = [Output(**entry) for entry in stamp["outputs"]]
        return str(stamp["digest"]), outputs, [_load(w) for w in stamp["warnings"]]
    except (OSError, ValueError, KeyError, TypeError):
        return "", [], []


def _dump(problem: Problem) -> dict[str, object]:
    where = problem.location
    return {
        "path": str(where.path),
        "line": where.line,
        "column": where.column,
        "code": problem.code,
        "message": problem.message,
        "hint": problem.hint,
    }


def _load(data: dict[str, object]) -> Problem:
    where = Location(Path(str(data["path"])), int(str(data["line"])), int(str(data["column"])))
    return Problem(
        where, str(data["code"]), str(data["message"]), str(data["hint"]), Severity.WARNING
    )


def up_to_date(out_dir: Path, digest: str) -> tuple[list[Output], list[Problem]] | None:
    """The stamped outputs and warnings if the last build had these inputs and its
    packages are intact."""
    stamped, outputs, warnings = _read_stamp(out_dir)
    if stamped == digest and outputs and all(output.intact() for output in outputs):
        return outputs, warnings
    return None


def _remove_superseded(out_dir: Path, written: list[Path]) -> None:
    """Delete packages the previous build wrote that this one did not (e.g. a renamed deck)."""
    _, previous, _ = _read_stamp(out_dir)
    for output in previous:
        if Path(output.path) not in {path.resolve() for path in written} and output.intact():
            Path(output.path).unlink(missing_ok=True)


def write_stamp(
    out_dir: Path, digest: str, outputs: list[tuple[Path, str]], warnings: list[Problem]
) -> None:
    """Record a successful build; best effort, as a missing stamp only costs a rebuild."""
    entries = [
        asdict(
            Output(
                # Absolute: the next build may run from another working directory.
                str(path.resolve()),
                _file_sha256(path),
                summary,
                path.stat().st_size,
                path.stat().st_mtime_ns,
            )
        )
        for path, summary in outputs
    ]
    stamp = {"digest": digest, "outputs": entries, "warnings": [_dump(w) for w in warnings]}
    temporary = out_dir / f"{STAMP_NAME}.tmp"
    try:
        temporary.write_text(json.dumps(stamp, ensure_ascii=False, indent=1), "utf-8")
        os.replace(temporary, out_dir / STAMP_NAME)
    except OSError:
        pass


def build_unless_up_to_date(
    deck_dir: Path,
    *,
    out_dir: Path,
    variants: tuple[str, ...] = (),
    shared_guids: bool = False,
    strict: bool = False,
    force: bool = False,
    track: Track | None = None,
) -> tuple[list[str], list[Problem], bool]:
    """Build, or reuse the stamped packages; return summaries, warnings and whether it built.

    Only the digest is computed on the no-op path: the pipeline (markdown-it,
    OpenCC, genanki) is not even imported.
    """
    from deckgen.notetypes import templates_dir

    options = [str(out_dir.resolve()), ",".join(variants), str(shared_guids), str(strict)]
    if not force and (
        stamped := up_to_date(out_dir, input_digest(deck_dir, templates_dir(), options))
    ):
        outputs, warnings = stamped
        return [output.summary for output in outputs], warnings, False

    from deckgen.build import build

    summaries, warnings = build(
        deck_dir,
        out_dir=out_dir,
        variants=variants,
        shared_guids=shared_guids,
        strict=strict,
        track=track,
    )
    if not variants:  # a build of some variants leaves the others' packages alone
        _remove_superseded(out_dir, [summary.path for summary in summaries])
    # After the build: the lock it wrote is one of the inputs of the next one.
    digest = input_digest(deck_dir, templates_dir(), options)
    write_stamp(out_dir, digest, [(summary.path, str(summary)) for summary in summaries], warnings)
    return [str(summary) for summary in summaries], warnings, True
