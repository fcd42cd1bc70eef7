"""Card files → one ``CardText`` per card: a file is cut into cards by its lines, before
Markdown sees it (deckgen.parse then reads each card on its own).

A card starts at a ``## `` heading (with its ``{#id}`` line above) and ends where
the next ``#`` or ``##`` heading starts, so nothing a card leaves open (a code
fence, a ``::: note``) can swallow the cards after it. What is wrong with a file
as a whole (git conflict markers, deckgen's private characters, no cards) is
found here; ids repeated across the deck too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from deckgen.errors import DeckgenError, Problem, Rule, Severity, shown
from deckgen.files import check_name, read_text
from deckgen.frontmatter import read_front_matter, split_front_matter
from deckgen.model import RESERVED, CardSummary

ERROR = Severity.ERROR
RESERVED_CHARACTER = Rule("DG003", ERROR, "private-use character that deckgen uses internally")
NO_CARDS = Rule("DG004", ERROR, "no cards in a file, or no card files in the deck")
DUPLICATE_ID = Rule("DG011", ERROR, "duplicate card id")
CONFLICT_MARKER = Rule("DG034", ERROR, "git conflict marker")
RULES = (RESERVED_CHARACTER, NO_CARDS, DUPLICATE_ID, CONFLICT_MARKER)
MAX_PROBLEMS_PER_FILE = 50
_HEADING = re.compile(r"^ {0,3}(#{1,2})(?:[ \t]|$)")
_ATTRS_LINE = re.compile(r"^ {0,3}\{[^{}]*\}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RESERVED = re.compile("[" + "".join(sorted(RESERVED)) + "]")
_CONFLICT = re.compile(r"^(?:<{7}|>{7})(?: .*)?$|^={7}$", re.M)


@dataclass(frozen=True)
class CardText:
    """One card's Markdown as cut from its file, with what else shapes it: the unit that
    is parsed, cached and sent to worker processes."""

    path: Path
    line: int
    """The file line of the card's first line (its attributes line, or its heading)."""
    text: str
    subdeck: str
    tags: tuple[str, ...]
    """The file's tags (front matter)."""


@dataclass(frozen=True)
class FileText:
    """A card file as read: its text, or what stopped it being read."""

    path: Path
    text: str
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class CardFile:
    """A card file cut into cards, and what is wrong with the file as a whole."""

    path: Path
    cards: tuple[CardText, ...]
    problems: tuple[Problem, ...]


def load_card_file(path: Path, *, deck_dir: Path) -> FileText:
    """Read one card file (a file that cannot be read is a problem, not an exception)."""
    try:
        check_name(path)
        return FileText(path, read_text(path, inside=deck_dir, what="card file"))
    except DeckgenError as error:
        return FileText(path, "", tuple(error.problems))


def read_card_file(path: Path, *, deck_dir: Path) -> CardFile:
    """Read one card file and cut it into cards; problems of the file itself are kept."""
    return cut_card_file(load_card_file(path, deck_dir=deck_dir))


def cut_card_file(file: FileText) -> CardFile:
    """Cut a card file into cards; problems of the file itself are kept."""
    path, text = file.path, file.text
    if file.problems:
        return CardFile(path, (), file.problems)
    lines = text.split("\n")
    problems = [*_conflict_markers(path, text), *_reserved_characters(path, text)]
    if problems:
        return CardFile(path, (), tuple(problems[:MAX_PROBLEMS_PER_FILE]))
    front = split_front_matter(lines)
    matter = read_front_matter(path, lines[:front]) if front else None
    problems += matter.problems if matter else ()
    subdeck, tags = (matter.subdeck, matter.tags) if matter else ("", ())
    cards = tuple(
        CardText(path, start + 1, "\n".join(lines[start:end]), subdeck, tags)
        for start, end in _card_ranges(lines, front)
    )
    if not cards and not problems:
        problems.append(
            NO_CARDS.at_line(
                path,
                1,
                "no cards in this file",
                "a card is a '## question' heading with '{#card-id}' on the line "
                "above it; see docs/card-format.md",
            )
        )
    return CardFile(path, cards, tuple(problems))


def _conflict_markers(path: Path, text: str) -> Iterator[Problem]:
    for found in _CONFLICT.finditer(text):
        yield CONFLICT_MARKER.at_line(
            path,
            text.count("\n", 0, found.start()) + 1,
            f"git conflict marker {shown(found[0][:7])}: a merge left this file unresolved",
            "keep one side of the conflict and delete the <<<<<<<, ======= and >>>>>>> lines",
        )


def _reserved_characters(path: Path, text: str) -> Iterator[Problem]:
    if found := _RESERVED.search(text):
        yield RESERVED_CHARACTER.at_line(
            path,
            text.count("\n", 0, found.start()) + 1,
            f"private-use character U+{ord(found[0]):04X} in the text",
            "delete it; deckgen uses U+E000 to U+E003 internally",
        )


def _card_ranges(lines: list[str], start: int) -> Iterator[tuple[int, int]]:
    """(first, end) line indexes of each card: from its attributes line (or its ``##``
    heading) to where the next ``#`` or ``##`` heading starts.

    Inside a code fence, ``# comment`` and ``## x`` are code, except a ``##`` line
    right under a ``{#id}`` line: that is the next card, and the fence that would
    swallow it is reported as left open where it starts.
    """
    boundaries: list[tuple[int, bool]] = []  # (first line, starts a card)
    fence = ""
    for index in _marked_lines(lines, start):
        line = lines[index]
        heading = _HEADING.match(line)
        first = _attributes_above(lines, index, start) if heading else index
        if fence and not (heading and heading[1] == "##" and first != index):
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
            continue
        if heading:
            fence = ""
            is_card = heading[1] == "##"
            boundaries.append((first if is_card else index, is_card))
        elif opened := _FENCE.match(line):
            fence = opened[1]
    for number, (first, is_card) in enumerate(boundaries):
        if is_card:
            yield first, boundaries[number + 1][0] if number + 1 < len(boundaries) else len(lines)


_MARKED = re.compile(r"^[^\S\n]*[#`~]", re.M)


def _marked_lines(lines: list[str], start: int) -> Iterator[int]:
    """The indexes from ``start`` on of lines that may be a heading or a fence (their first
    character after whitespace is #, ` or ~): the only lines _card_ranges acts on. Found
    with one regular expression over the text, as most of a file's lines are neither."""
    text = "\n".join(lines[start:])
    index, offset = start, 0
    for found in _MARKED.finditer(text):
        index += text.count("\n", offset, found.start())
        offset = found.start()
        yield index


def _attributes_above(lines: list[str], heading: int, start: int) -> int:
    """The line of a heading's ``{#id …}`` attributes (blank lines may come between)."""
    above = heading - 1
    while above >= start and not lines[above].strip():
        above -= 1
    return above if above >= start and _ATTRS_LINE.match(lines[above]) else heading


def duplicate_ids(cards: Sequence[CardSummary]) -> Iterator[Problem]:
    """DG011: the second and later card with an id another card has."""
    seen: dict[str, CardSummary] = {}
    for card in cards:
        if card.id in seen:
            yield DUPLICATE_ID.at(
                card.location,
                f"duplicate card id {shown(card.id)}",
                f"first used at {seen[card.id].location}; every card needs its own id",
            )
        else:
            seen[card.id] = card
