"""The deck as data: frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.errors import Location

if TYPE_CHECKING:
    from markdown_it.token import Token


class Kind(str, Enum):
    """The card kinds; each has one note type shared by every variant."""

    BASIC = "basic"
    REVERSED = "reversed"
    CLOZE = "cloze"


@dataclass(frozen=True)
class Field:
    """One part of a card as written: its Markdown and where it starts."""

    markdown: str
    """The Markdown source of this part, as in the file (used for hashing and linting)."""
    location: Location
    tokens: tuple[Token, ...] = field(default=(), compare=False, repr=False)
    """markdown-it tokens of this part (inline children for the question), rendered later."""

    @property
    def text(self) -> str:
        """Plain text: the content of text tokens, code included, markup dropped."""
        return "".join(_plain_text(self.tokens))


def _plain_text(tokens: tuple[Token, ...] | list[Token]) -> list[str]:
    parts: list[str] = []
    for token in tokens:
        if token.children:
            parts.extend(_plain_text(token.children))
        elif token.type in ("text", "code_inline", "code_block", "fence"):
            parts.append(token.content)
        elif token.type == "hardbreak":
            parts.append("\n")
    return parts


def is_tag(text: str) -> bool:
    """A word Anki keeps as one tag and shows safely: no spaces, no '<' or '>' (Anki
    inserts {{Tags}} into the card as raw HTML), nothing unprintable."""
    return bool(text) and not any(c.isspace() or c in "<>" or not c.isprintable() for c in text)


@dataclass(frozen=True)
class Image:
    """An image a card references, resolved inside the deck folder."""

    src: str
    """The path as written in the card."""
    path: Path
    """The resolved file."""
    location: Location


@dataclass(frozen=True)
class Card:
    """One card (one Anki note) as written in Markdown."""

    id: str
    kind: Kind
    question: Field
    """The heading; for cloze cards, the context shown above the sentence."""
    answer: Field
    """The body; for cloze cards, the sentence with ``{{cN::…}}`` deletions."""
    quotes: tuple[Field, ...]
    note: Field | None
    tags: tuple[str, ...]
    """File tags then card tags (deck tags are added at packaging)."""
    subdeck: str
    """``::``-separated subdeck under the deck title, or ``""``."""
    location: Location
    allow: frozenset[str] = frozenset()
    """Lint codes silenced for this card."""
    images: tuple[Image, ...] = ()
    cloze_numbers: tuple[int, ...] = ()
    """The cloze numbers used in the answer, in order of appearance."""


@dataclass(frozen=True)
class Source:
    """The work the cards quote, shown under every quote."""

    title: str
    author: str
    site: str
    url: str = ""


@dataclass(frozen=True)
class Variant:
    """One package to build: a BCP 47 script tag and the OpenCC config that makes it."""

    name: str
    opencc: str
    """An OpenCC config name (``s2tw``), or ``none`` for the script the cards are in."""
    title: str | None = None
    """The deck title for this variant; None converts the deck title."""


@dataclass(frozen=True)
class DeckConfig:
    """``deck.toml``."""

    path: Path
    id: int
    title: str
    script: str
    tags: tuple[str, ...]
    source: Source
    variants: tuple[Variant, ...]
    phrases: Path | None = None
    allow: frozenset[str] = frozenset()
    raw: str = field(default="", repr=False)
    """The file's text, hashed into every card's content hash."""

    @property
    def folder(self) -> Path:
        return self.path.parent


@dataclass(frozen=True)
class Deck:
    """A parsed deck: its config and its cards in file and line order."""

    config: DeckConfig
    cards: tuple[Card, ...]
    files: tuple[Path, ...] = ()
