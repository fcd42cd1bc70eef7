"""Problems, the rules that report them, and the one error type for user mistakes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    """What would ship broken: stops the build, never silenced."""
    WARNING = "warning"
    """A likely mistake: reported; fails only with --strict; can be silenced."""
    INFO = "info"
    """Worth knowing (what the next build records); never fails anything."""


def brief(text: object, limit: int = 60) -> str:
    """User text as it may appear in a message: escaped so that it cannot forge a line
    or hide characters (newlines, bidi controls), and cut after ``limit`` characters."""
    value = str(text)
    cut = len(value) > limit
    escaped = "".join(
        c if c.isprintable() and unicodedata.category(c) != "Cf" else _escape(c)
        for c in value[:limit]
    )
    return escaped + ("…" if cut else "")


def counted(number: int, noun: str) -> str:
    """``1 card``, ``2 cards``: a count in a message."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def shown(text: object, limit: int = 60) -> str:
    """User text in quotes for a message (see ``brief``)."""
    return "'" + brief(text, limit).replace("'", "\\'") + "'"


def _escape(char: str) -> str:
    if char in "\n\t\r":
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def printable_path(path: Path) -> str:
    """A path as it reads in a message: control and format characters escaped."""
    return brief(path, limit=4096)


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """Where a problem or a card is: a file and a 1-based line (0 = the whole file)."""

    path: Path
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        text = printable_path(self.path)
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, said so that a contributor can fix it."""

    location: Location
    code: str
    """Stable rule code, e.g. ``DG001``; documented in docs/rules.md."""
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    def format(self) -> str:
        text = f"{self.location}: {self.severity.value}: {self.message} [{self.code}]"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(frozen=True)
class Rule:
    """One kind of problem: its code, severity and title, stated once.

    ``run`` is the check that finds it, for rules that the check stage runs; the
    other stages report their rules themselves (``rule.at(...)``). Every rule is
    listed in ``check.RULES``, from which docs, ``allow``, and the JSON output derive.
    """

    code: str
    severity: Severity
    title: str
    run: Callable[..., Iterable[Problem]] | None = None

    def at(self, location: Location, message: str, hint: str = "") -> Problem:
        return Problem(location, self.code, message, hint, self.severity)

    def at_line(self, path: Path, line: int, message: str, hint: str = "") -> Problem:
        return self.at(Location(path, line), message, hint)


class DeckgenError(Exception):
    """Raised by a stage once, with every problem it found.

    ``written`` lists the files a failing step had already replaced, so that what
    deckgen says about its output is true.
    """

    def __init__(self, problems: list[Problem], written: Iterable[Path] = ()) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location, p.code))
        self.written = tuple(written)
        super().__init__("\n".join(p.format() for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        # So that it crosses process boundaries (cards are parsed in worker processes).
        return DeckgenError, (self.problems, self.written)


def fail(rule: Rule, path: Path, line: int, message: str, hint: str = "") -> DeckgenError:
    """A DeckgenError with a single problem, for stages that cannot go on."""
    return DeckgenError([rule.at_line(path, line, message, hint)])
