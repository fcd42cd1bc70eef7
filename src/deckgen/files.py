"""The one place deckgen touches a user's paths: reading, atomic writing, cleaning up.

Every OS error (loops, dangling links, FIFOs, folders, over-long names, full
disks) becomes a coded problem here, and every command uses these functions,
so that ``build``, ``check``, ``ids`` and the up-to-date guard agree on which
files belong to a deck and what may be read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from deckgen.errors import (
    DeckgenError,
    Location,
    Problem,
    Rule,
    Severity,
    fail,
    printable_path,
    shown,
)

ERROR = Severity.ERROR
OUTSIDE = Rule("DG001", ERROR, "a file the deck uses is outside the deck folder")
NOT_UTF8 = Rule("DG002", ERROR, "a file is not valid UTF-8")
UNREADABLE = Rule("DG016", ERROR, "a file cannot be read")
BAD_NAME = Rule("DG017", ERROR, "a file name has control characters")
CANNOT_WRITE = Rule("DG050", ERROR, "an output file cannot be written")
WORKER_DIED = Rule("DG051", ERROR, "a worker process stopped (killed, out of memory)")
RULES = (OUTSIDE, NOT_UTF8, UNREADABLE, BAD_NAME, CANNOT_WRITE, WORKER_DIED)

MAX_FILE_BYTES = 8 * 2**20
"""Larger card files, configs and images are refused: no deck needs them, and they
would only make every stage slow."""
NOT_CARD_FILES = frozenset({"README.md", "CONTRIBUTING.md", "CHANGELOG.md"})
_TEMPORARY = re.compile(r"^\..+\.deckgen-(\d+)-[0-9a-f]{8}\.tmp$")

_REASONS = {
    errno.ENOENT: ("not found", "check the path"),
    errno.ELOOP: ("a symbolic link loop", "replace the link with the file itself"),
    errno.EISDIR: ("a folder, not a file", "give a file"),
    errno.ENOTDIR: ("a part of the path is not a folder", "check the path"),
    errno.ENAMETOOLONG: ("a name in the path is too long", "use a shorter name"),
    errno.EACCES: ("permission denied", "fix the permissions"),
    errno.EPERM: ("operation not permitted", "fix the permissions"),
    errno.ENOSPC: ("no space left on the device", "free some space and run deckgen again"),
    errno.EDQUOT: ("disk quota exceeded", "free some space and run deckgen again"),
    errno.EROFS: ("the file system is read-only", "choose a writable folder"),
    errno.EEXIST: ("a file is in the way", "remove it, or choose another folder with --out"),
}


def worker_died(folder: Path) -> DeckgenError:
    """DG051: a worker process ended without a word (killed, or out of memory)."""
    return DeckgenError(
        [
            WORKER_DIED.at(
                Location(folder),
                "a worker process stopped before it finished (out of memory?)",
                "run the build again; if it happens again, free some memory",
            )
        ]
    )


def os_problem(rule: Rule, error: OSError, path: Path, what: str) -> Problem:
    """An OSError as a problem: what could not be done, why, and what to do."""
    if error.errno == errno.ENOENT and os.path.lexists(path):
        reason, hint = "a link to a file that does not exist", "fix or remove the link"
    else:
        unknown = (error.strerror or str(error), "check the path and its permissions")
        reason, hint = _REASONS.get(error.errno or 0, unknown)
    return rule.at_line(path, 0, f"cannot {what}: {reason}", hint)


def resolved(path: Path) -> Path | None:
    """The real path, or None where links loop or the path cannot be a path (a NUL)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def exists(path: Path) -> bool:
    """Whether anything is at ``path`` (a dangling link too); never raises, whatever the
    path (too long, a NUL, a loop), unlike ``Path.exists``."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def is_file(path: Path) -> bool:
    """Whether ``path`` is (or links to) a regular file; never raises."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def is_folder(path: Path) -> bool:
    """Whether ``path`` is (or links to) a folder; never raises."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, links followed, stays inside ``folder``."""
    real, real_folder = resolved(path), resolved(folder)
    return real is not None and real_folder is not None and real.is_relative_to(real_folder)


def read_bytes(
    path: Path, *, inside: Path | None = None, limit: int = MAX_FILE_BYTES, what: str = "file"
) -> bytes:
    """A file's bytes, refusing a link out of ``inside``, anything but a regular file
    (a FIFO would block forever), and more than ``limit`` bytes."""
    if inside is not None:
        if resolved(path) is None:
            raise fail(UNREADABLE, path, 0, "cannot read: a symbolic link loop", "replace the link")
        if not is_inside(path, inside):
            # Never read (and echo in messages) what a link out of the deck points to.
            raise fail(
                OUTSIDE,
                path,
                0,
                f"{what} is a link to a file outside the deck folder",
                "replace the link with the file itself",
            )
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError) as error:
        if isinstance(error, ValueError):  # an embedded NUL
            raise fail(UNREADABLE, path, 0, "cannot read: the name has a NUL character") from None
        raise DeckgenError([os_problem(UNREADABLE, error, path, "read")]) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            kind = "a folder" if stat.S_ISDIR(status.st_mode) else "not a regular file"
            raise fail(UNREADABLE, path, 0, f"cannot read: {kind}", "give a regular file")
        if status.st_size > limit:
            raise fail(
                UNREADABLE,
                path,
                0,
                f"file is too large ({status.st_size:,} bytes; at most {limit:,})",
                "split it into smaller files",
            )
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise DeckgenError([os_problem(UNREADABLE, error, path, "read")]) from None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise fail(UNREADABLE, path, 0, f"file is too large (more than {limit:,} bytes)")
    return data


def read_text(
    path: Path, *, inside: Path | None = None, limit: int = MAX_FILE_BYTES, what: str = "file"
) -> str:
    """A UTF-8 text file (a BOM allowed) with its line endings made ``\\n``."""
    raw = read_bytes(path, inside=inside, limit=limit, what=what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise fail(
            NOT_UTF8,
            path,
            line,
            f"not valid UTF-8 ({error.reason} at byte {error.start})",
            "save the file as UTF-8",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def card_files(deck_dir: Path) -> list[Path]:
    """The deck's card files, in build order: every ``*.md`` directly in the deck folder
    except READMEs and hidden files. The one rule every command uses."""
    try:
        entries = sorted(deck_dir.iterdir())
    except OSError:
        return []
    return [
        path
        for path in entries
        if path.suffix == ".md"
        and path.name not in NOT_CARD_FILES
        and not path.name.startswith(".")
        and not is_folder(path)  # a loop or a dangling link is read, and reported
    ]


def check_name(path: Path) -> None:
    """Refuse a file name that would forge or hide text in messages (a newline, a bidi control)."""
    if printable_path(Path(path.name)) != path.name:
        raise fail(
            BAD_NAME,
            path,
            0,
            f"the file name {shown(path.name)} has control characters",
            "rename the file",
        )


def temporary_path(final: Path) -> Path:
    """A name beside ``final`` for writing it, that ``sweep_leftovers`` recognises as ours."""
    return final.with_name(f".{final.name}.deckgen-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def sweep_leftovers(folder: Path) -> None:
    """Delete temporary files that a killed deckgen process left in ``folder``.

    Only our own names, and only where the process that made them is gone: a
    build running at the same time keeps its files.
    """
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = _TEMPORARY.match(entry.name)
            if match and entry.is_file(follow_symlinks=False) and not _alive(int(match[1])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@dataclass(frozen=True)
class Staged:
    """A file written in full beside its final path, waiting to replace it."""

    temporary: Path
    final: Path

    @classmethod
    def beside(cls, final: Path) -> Staged:
        return cls(temporary_path(final), final)

    @contextlib.contextmanager
    def writing(self, rule: Rule = CANNOT_WRITE) -> Iterator[IO[bytes]]:
        """Open the temporary file; it is deleted if anything fails while writing."""
        descriptor = open_new(self.temporary, rule)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException as error:
            # Ctrl-C included: never leave a partial file behind.
            self.discard()
            if isinstance(error, OSError):
                raise DeckgenError([os_problem(rule, error, self.final, "write")]) from None
            raise

    def publish(self, rule: Rule = CANNOT_WRITE) -> None:
        """Rename it over the final path (atomic on one file system)."""
        try:
            os.replace(self.temporary, self.final)
        except OSError as error:
            self.discard()
            raise DeckgenError([os_problem(rule, error, self.final, "write")]) from None

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.temporary)


def open_new(path: Path, rule: Rule = CANNOT_WRITE) -> int:
    """Create ``path`` (a new file of ours) and its folder; a problem at the folder if not."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except ValueError:
        raise fail(
            rule, path.parent, 0, "cannot write there: the name has a NUL character"
        ) from None
    except OSError as error:
        if error.errno == errno.EEXIST:  # something is at the folder's path: say what
            try:
                os.stat(path.parent)
            except OSError as real:
                error = real
        problem = os_problem(rule, error, path.parent, "write to the output folder")
        raise DeckgenError([problem]) from None


def stage_bytes(final: Path, data: bytes, rule: Rule = CANNOT_WRITE) -> Staged:
    """``data`` written beside ``final``, ready to publish."""
    staged = Staged.beside(final)
    with staged.writing(rule) as handle:
        handle.write(data)
    return staged


def write_atomically(final: Path, data: bytes, rule: Rule = CANNOT_WRITE) -> None:
    """Replace ``final`` with ``data`` at once: readers see the old file or the new one."""
    stage_bytes(final, data, rule).publish(rule)
