"""The one error type for user mistakes, and the problems it carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem or a card is: a file and a 1-based line (0 = the whole file)."""

    path: Path
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        text = str(self.path)
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


@dataclass(frozen=True)
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


class DeckgenError(Exception):
    """Raised by a stage once, with every problem it found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location, p.code))
        super().__init__("\n".join(p.format() for p in self.problems))

    def __reduce__(self) -> tuple[type[DeckgenError], tuple[list[Problem]]]:
        # So that it crosses process boundaries (packages are written in parallel).
        return DeckgenError, (self.problems,)


def fail(path: Path, line: int, code: str, message: str, hint: str = "") -> DeckgenError:
    """A DeckgenError with a single problem, for stages that cannot go on."""
    return DeckgenError([Problem(Location(path, line), code, message, hint)])
