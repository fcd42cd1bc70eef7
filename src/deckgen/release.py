"""A deck → a release folder (``deckgen release``): the packages named with the deck's
version, CHANGES.md (what the release changes for learners since the previous one, per
variant), the lock they were made from, and SHA256SUMS.

The previous release's lock comes from git (the newest ``v*`` tag before this version,
or ``--since REV``) or from a file (``--since release/1.0.0/deck.lock.json``): every
release folder keeps a copy of its lock for that. The folder is written as a hidden
``.VERSION.partial`` and renamed into place when complete: a release folder is whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.errors import DeckgenError, Location, Problem, Rule, Severity, fail, shown

if TYPE_CHECKING:  # the pipeline is imported when a release is made, not with the CLI
    from deckgen.changelog import VariantChanges
    from deckgen.lock import Lock
    from deckgen.model import DeckConfig
    from deckgen.publish import PackageSummary
    from deckgen.stages import Track

ERROR = Severity.ERROR
NO_VERSION = Rule("DG081", ERROR, "deckgen release needs a version in deck.toml")
RELEASED = Rule("DG082", ERROR, "this version's release folder exists already")
NO_BASELINE = Rule("DG083", ERROR, "--since names no earlier release")
NOT_LOCKED = Rule("DG084", ERROR, "--locked, and deck.lock.json is not up to date")
RULES = (NO_VERSION, RELEASED, NO_BASELINE, NOT_LOCKED)

CHANGES_NAME = "CHANGES.md"
SUMS_NAME = "SHA256SUMS"
TAG_PREFIX = "v"
"""Release tags are ``v`` + the version in deck.toml (``v1.2.0``)."""


@dataclass(frozen=True)
class Baseline:
    """The previous release's lock, and where it came from (None: a first release)."""

    lock: Lock | None
    name: str
    """How CHANGES.md names the previous release: a tag, or the lock file's path."""
    origin: str
    """Where deckgen found it, for the command's output."""


@dataclass(frozen=True)
class Release:
    """What ``deckgen release`` wrote."""

    folder: Path
    version: str
    baseline: Baseline
    packages: list[PackageSummary]
    changes: list[VariantChanges]
    files: list[Path]
    warnings: list[Problem]
    lock_updated: bool


def make_release(
    deck_dir: Path,
    *,
    out_dir: Path,
    since: str | None = None,
    locked: bool = False,
    strict: bool = False,
    track: Track | None = None,
) -> Release:
    """Build every variant into ``out_dir/VERSION/`` with CHANGES.md, the lock, SHA256SUMS."""
    from deckgen.build import build
    from deckgen.config import load_config
    from deckgen.lock import LOCK_NAME

    config = load_config(deck_dir)
    version = config.version
    if not version:
        raise fail(
            NO_VERSION,
            config.path,
            0,
            "deck.toml has no version: a release is named by it",
            'add version = "1.0.0" to [deck] (it also shows in each deck\'s description)',
        )
    final = out_dir / version
    if final.exists() or final.is_symlink():
        raise fail(
            RELEASED,
            final,
            0,
            f"version {version} was released already into {final}",
            "a published release never changes: raise [deck] version in deck.toml",
        )
    baseline = previous_release(deck_dir, since=since, version=version)
    if locked:
        _require_lock(deck_dir)
    lock_path = deck_dir / LOCK_NAME
    lock_before = lock_path.read_bytes() if lock_path.is_file() else None
    partial = out_dir / f".{version}.partial"
    shutil.rmtree(partial, ignore_errors=True)  # an interrupted release of this version
    try:
        built = build(deck_dir, out_dir=partial, strict=strict, version=version, track=track)
        shutil.rmtree(partial / ".deckgen-cache", ignore_errors=True)
        lock_bytes = lock_path.read_bytes()
        (partial / LOCK_NAME).write_bytes(lock_bytes)
        packages = {s.variant: s.path.name for s in built.summaries}
        changes = _changes(config, baseline, deck_dir, packages)
        changelog = _markdown(config, version, baseline, changes)
        (partial / CHANGES_NAME).write_text(changelog, "utf-8")
        names = sorted(p.name for p in partial.iterdir() if not p.name.startswith("."))
        (partial / SUMS_NAME).write_text(sha256sums(partial, names), "utf-8")
        os.rename(partial, final)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        from deckgen.files import CANNOT_WRITE, os_problem

        raise DeckgenError([os_problem(CANNOT_WRITE, error, final, "write")]) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Release(
        folder=final,
        version=version,
        baseline=baseline,
        packages=[replace(s, path=final / s.path.name) for s in built.summaries],
        changes=changes,
        files=[final / name for name in [*names, SUMS_NAME]],
        warnings=built.warnings,
        lock_updated=lock_before != lock_bytes,
    )


def sha256sums(folder: Path, names: list[str]) -> str:
    """``sha256sum`` format (``HASH  NAME``): ``sha256sum -c SHA256SUMS`` verifies it."""
    lines = []
    for name in names:
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        lines.append(f"{digest}  {name}\n")
    return "".join(lines)


def previous_release(deck_dir: Path, *, since: str | None, version: str) -> Baseline:
    """The previous release's lock: ``since`` (a lock file, a release folder, or a git
    revision), else the newest ``v*`` tag before this version, else none (a first release)."""
    from deckgen.lock import LOCK_NAME, read_lock

    if since == "none":
        return Baseline(None, "", "none: --since none makes this the first release")
    if since is not None:
        path = Path(since)
        if path.is_dir() and (path / LOCK_NAME).is_file():
            path = path / LOCK_NAME
        if path.is_file():
            return Baseline(read_lock(path), since, f"the lock file {path}")
        if _git(deck_dir, "rev-parse", "--verify", "--quiet", f"{since}^{{commit}}") is None:
            raise fail(
                NO_BASELINE,
                path,
                0,
                f"--since {shown(since)} is neither a lock file, a release folder, nor a git "
                "revision",
                "name the previous release: its tag (--since v1.0.0) or its lock "
                "(--since release/1.0.0/deck.lock.json)",
            )
        return Baseline(_lock_at(deck_dir, since), since, f"git revision {since}")
    tag = _git(
        deck_dir,
        "describe",
        "--tags",
        "--abbrev=0",
        "--match",
        f"{TAG_PREFIX}[0-9]*",
        "--exclude",
        f"{TAG_PREFIX}{version}",
        "HEAD",
    )
    if tag is None:
        _refuse_a_false_first_release(deck_dir / LOCK_NAME, read_lock(deck_dir / LOCK_NAME))
        return Baseline(None, "", f"no earlier release: no {TAG_PREFIX}* tag in git")
    return Baseline(_lock_at(deck_dir, tag), tag, f"git tag {tag}")


def _refuse_a_false_first_release(path: Path, lock: Lock) -> None:
    """DG083: retired notes in the lock mean learners have an earlier release, which the
    changelog would otherwise deny ("the first release")."""
    retired = sorted(key.split("/")[0] for key, item in lock.retired.items() if item.notes)
    if not retired:
        return
    raise fail(
        NO_BASELINE,
        path,
        0,
        f"no earlier release found (no {TAG_PREFIX}* tag), but the lock retires notes "
        f"learners have (first: {shown(retired[0])}): CHANGES.md would call this the first "
        "release",
        "tag the commit of the previous release (git tag v1.0.0 COMMIT) or name it with "
        "--since REV|FILE; --since none if learners really have no earlier release",
    )


def _lock_at(deck_dir: Path, revision: str) -> Lock:
    """The deck's lock as committed at ``revision``."""
    from deckgen.lock import LOCK_NAME, read_lock

    where = f"{revision}:./{LOCK_NAME}"
    data = _git_bytes(deck_dir, "show", where)
    if data is None:
        raise fail(
            NO_BASELINE,
            deck_dir / LOCK_NAME,
            0,
            f"{revision} has no {LOCK_NAME} in {deck_dir}",
            "name the previous release's lock with --since FILE (each release folder keeps one)",
        )
    with tempfile.TemporaryDirectory(prefix="deckgen-release-") as folder:
        copy = Path(folder) / LOCK_NAME
        copy.write_bytes(data)
        try:
            return read_lock(copy)
        except DeckgenError as error:
            shown_at = Location(Path(where))
            raise DeckgenError([replace(p, location=shown_at) for p in error.problems]) from None


def _git(deck_dir: Path, *args: str) -> str | None:
    """git's output in the deck folder as text, or None (see ``_git_bytes``)."""
    output = _git_bytes(deck_dir, *args)
    return None if output is None else output.decode("utf-8", "replace").strip()


def _git_bytes(deck_dir: Path, *args: str) -> bytes | None:
    """git's output in the deck folder, or None (no git, not a repository, a failure)."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=deck_dir, capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _require_lock(deck_dir: Path) -> None:
    """DG084: the build would record new times, which then were in no commit."""
    from deckgen.build import check, pending_changes

    checked = check(deck_dir)
    pending = pending_changes(checked)
    if pending:
        raise DeckgenError(
            [
                NOT_LOCKED.at(
                    pending[0].location,
                    f"{pending[0].message}: a release made now would give those notes "
                    "times that no commit records",
                    "run 'deckgen build', commit deck.lock.json with the cards, and tag "
                    "that commit",
                )
            ]
        )


def _changes(
    config: DeckConfig, baseline: Baseline, deck_dir: Path, packages: dict[str, str]
) -> list[VariantChanges]:
    from deckgen.changelog import compare
    from deckgen.convert import converter, load_phrases
    from deckgen.lock import LOCK_NAME, read_lock

    after = read_lock(deck_dir / LOCK_NAME)
    phrases = load_phrases(config)
    return [
        compare(
            baseline.lock,
            after,
            variant=variant.name,
            package=packages[variant.name],
            text=converter(variant.opencc, phrases).text,
        )
        for variant in config.variants
    ]


def _markdown(
    config: DeckConfig, version: str, baseline: Baseline, changes: list[VariantChanges]
) -> str:
    from deckgen.changelog import changes_markdown

    return changes_markdown(config.title, version, baseline.name, changes)
