"""The deck as plain data: frozen dataclasses that flow between the stages, no I/O.

Parsing turns Markdown into ``Card``s; rendering turns a card into a
``RenderedCard`` (HTML fields in the cards' script); conversion and
sanitizing make one ``Note`` per variant. All of them are plain values, so
that a card's results can be cached, sent to a worker process and compared
in a test; markdown-it's tokens never leave the parsing of one card.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from deckgen.errors import Location

PROTECT_OPEN = "\ue000"
"""Rendered HTML wraps text that script conversion must skip (code) in these two."""
PROTECT_CLOSE = "\ue001"
BRACE = "\ue002"
"""Stands for a literal ``{`` from rendering until sanitizing, so text never forms a cloze."""
RESERVED = frozenset("\ue000\ue001\ue002\ue003")
"""Private-use characters deckgen uses internally: refused in card text."""


class Kind(str, Enum):
    """The card kinds; each has one note type shared by every variant."""

    BASIC = "basic"
    REVERSED = "reversed"
    CLOZE = "cloze"


FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.BASIC: ("Front", "Back", "Quote", "Note", "Source", "Lang", "Id"),
    Kind.REVERSED: ("Front", "Back", "Quote", "Note", "Source", "Lang", "Id"),
    Kind.CLOZE: ("Text", "Context", "Quote", "Note", "Source", "Lang", "Id"),
}
"""Each note type's fields, in order. Frozen once shipped: Anki matches an incoming note
type by its field and template names, and any change makes learners' notes conflict."""


@dataclass(frozen=True)
class TextLine:
    """A run of a card's prose (code left out) and the line it is on."""

    line: int
    text: str


@dataclass(frozen=True)
class Cloze:
    """One deletion ``{{cN::text::hint}}`` as written."""

    number: int
    text: str
    """Its plain text (code included)."""
    hint: str = ""


@dataclass(frozen=True)
class Part:
    """One part of a card as written: the question, the answer, a quote or the note."""

    markdown: str
    """The Markdown source of this part, as in the file."""
    location: Location
    html: str
    """markdown-it's HTML of this part, not yet sanitized; code between PROTECT markers."""
    text: str
    """Plain text: text, inline code and math, markup dropped, hard breaks as newlines
    (code blocks left out: they are not prose)."""
    lines: tuple[TextLine, ...] = ()
    """Prose runs with their lines, code left out: what text rules read."""
    blocks: tuple[str, ...] = ()
    """Plain text of each paragraph, heading or table cell (inline code included)."""
    bullet_lists: tuple[int, ...] = ()
    """The number of items of each unordered list."""
    clozes: tuple[Cloze, ...] = ()
    source: str = ""
    """For a quote: the ``[sources.NAME]`` it names, or "" for ``[source]``."""
    markdown_lines: tuple[int, ...] = ()
    """The file line of each line of ``markdown`` (an answer's blocks are joined without
    the blank lines between them)."""


@dataclass(frozen=True)
class Image:
    """An image a card shows, resolved inside the deck folder."""

    src: str
    """The path as written in the card."""
    path: Path
    """The file."""
    media: str
    """Its name in the package: a hash of its content."""
    location: Location


def anki_cards(kind: Kind, cloze_numbers: tuple[int, ...]) -> int:
    """How many Anki cards a note of ``kind`` makes: one per cloze number, two for a
    reversed card, one for a basic one."""
    if kind is Kind.CLOZE:
        return len(set(cloze_numbers))
    return 2 if kind is Kind.REVERSED else 1


@dataclass(frozen=True)
class Card:
    """One card (one Anki note) as written in Markdown."""

    id: str
    kind: Kind
    question: Part
    """The heading; for cloze cards, the context shown above the sentence."""
    answer: Part
    """The body; for cloze cards, the sentence with ``{{cN::…}}`` deletions."""
    quotes: tuple[Part, ...]
    note: Part | None
    tags: tuple[str, ...]
    """File tags then card tags (deck tags are added when the notes are made)."""
    subdeck: str
    """``::``-separated subdeck under the deck title, or ``""``."""
    location: Location
    allow: frozenset[str] = frozenset()
    """Lint codes silenced for this card."""
    images: tuple[Image, ...] = ()

    @property
    def parts(self) -> tuple[Part, ...]:
        return (self.question, self.answer, *self.quotes, *((self.note,) if self.note else ()))

    @property
    def cloze_numbers(self) -> tuple[int, ...]:
        """The cloze numbers used in the answer, in order of appearance."""
        return tuple(cloze.number for cloze in self.answer.clozes)

    @property
    def anki_cards(self) -> int:
        """How many Anki cards the note makes."""
        return anki_cards(self.kind, self.cloze_numbers)


@dataclass(frozen=True, slots=True)
class Prose:
    """A run of a card's prose (code left out) and its line in the card's file."""

    line: int
    text: str
    quoted: bool
    """Part of a quote (the author's words), not the deck's own text."""


@dataclass(frozen=True, slots=True)
class CardSummary:
    """What the deck stages need of a card once its own stages have run: who it is, what
    learners would recognise it by, what the deck-wide rules compare, its media.

    Small enough to keep for every card between builds: the ``Card`` itself (every
    part's Markdown, HTML, text and positions) lives only while the card is parsed,
    checked and rendered.
    """

    id: str
    kind: Kind
    subdeck: str
    location: Location
    """The card's heading (its question)."""
    answer_location: Location
    allow: frozenset[str]
    text_hash: str
    """A hash of what the card says: same hash, same card (a restore)."""
    question: str
    """The question's plain text."""
    question_key: str
    """What makes two questions the same question (DG109)."""
    clozes: tuple[str, ...]
    """For a cloze card, the text of c1, c2, …: learners' histories follow the numbers."""
    cloze_numbers: tuple[int, ...]
    quotes: tuple[Prose, ...]
    """Each quote's whole text, at the quote."""
    prose: tuple[Prose, ...]
    """Every run of prose, quotes' included (flagged)."""
    media: tuple[tuple[str, Path], ...]
    """(name in the package, file) of each image."""
    placeholder: bool = False
    """Placeholder text is left (DG100): the card is not written yet."""

    def at(self, prose: Prose) -> Location:
        """Where a run of the card's prose is."""
        return Location(self.location.path, prose.line)

    @property
    def anki_cards(self) -> int:
        """How many Anki cards the note makes."""
        return anki_cards(self.kind, self.cloze_numbers)


@dataclass(frozen=True)
class RenderedCard:
    """A card's note fields as HTML in the cards' script, before conversion."""

    card_id: str
    kind: Kind
    fields: dict[str, str]
    """The HTML fields of the card's note type, by name (all but ``Lang`` and ``Id``)."""
    tags: tuple[str, ...]
    """Deck tags, then the card's."""
    subdeck: str


@dataclass(frozen=True, slots=True)
class Note:
    """One card as one variant's Anki note: what learners receive, before identity."""

    card_id: str
    variant: str
    kind: Kind
    fields: tuple[str, ...]
    """In the note type's field order."""
    tags: tuple[str, ...]
    deck: str
    """The full deck name, ``::`` between levels, in the variant's script."""
    subdeck: str
    """The subdeck as written (in the cards' script): what deck ids are made from."""


@dataclass(frozen=True)
class Source:
    """A work quotes come from, shown under each quote."""

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
    wording: str | None = None
    """The OpenCC config for the deck's own text (questions, answers, notes) where it
    differs from ``opencc``, which quotes always use (e.g. ``s2twp`` for Taiwan wording)."""
    quotation_marks: str = "keep"
    """``corner``: “…” and ‘…’ become 「…」 and 『…』 (Taiwan and Hong Kong usage)."""


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
    """The file's text: part of what every card's results depend on."""
    sources: dict[str, Source] = field(default_factory=dict)
    """Other sources a quote can name with ``{source=NAME}``."""
    version: str = ""
    """The deck's release version (names release packages, shown in each description)."""
    description: str = ""
    """Markdown, in the deck's script: what the deck is, for each package's description."""

    @property
    def folder(self) -> Path:
        return self.path.parent


@dataclass(frozen=True)
class DeckTexts:
    """The deck's own texts in each variant (by name), converted like its cards: what
    each package is named after and says about itself."""

    titles: dict[str, str]
    descriptions: dict[str, str]
    """Sanitized HTML."""


@functools.lru_cache(maxsize=4096)  # a deck's few tags and names, on every card
def is_tag(text: str) -> bool:
    """A word Anki keeps as one tag and shows safely: no spaces, no '<' or '>' (Anki
    inserts {{Tags}} into the card as raw HTML), nothing unprintable."""
    return (
        bool(text)
        and not name_problem(text)
        and not any(c.isspace() or c in "<>&\"'" for c in text)
    )


MAX_NAME = 80
"""Characters in a deck title or subdeck name: titles become file names, and file
names have at most 255 bytes."""


@functools.lru_cache(maxsize=4096)
def name_problem(text: str) -> str:
    """Why a title, subdeck or tag would mislead a reader, Anki or a file system; "" if fine."""
    if any(not c.isprintable() or unicodedata.category(c) in ("Cf", "Cs") for c in text):
        return "has control or invisible formatting characters"
    if text != text.strip():
        return "starts or ends with a space"
    if len(text) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    return ""
