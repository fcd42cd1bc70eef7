"""What card rules read of a card: its prose with lines, its letters, how long it reads.

The rules (quality.py, textrules.py) and the check stage (check.py) import
this module; it imports none of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deckgen.model import Card, DeckConfig, Kind, Variant

if TYPE_CHECKING:
    from deckgen.convert import Phrase

_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class CheckContext:
    """What rules may need beyond the card itself."""

    phrases: tuple[Phrase, ...] = ()
    """The phrase entries, deckgen's built-in ones first."""
    sources: dict[Path, str] = field(default_factory=dict)
    """Source files given with --source: path → text with whitespace removed."""
    script: str = "zh-Hans"
    """The script the cards are written in."""
    variants: tuple[Variant, ...] = ()
    """The deck's variants: what the conversion rules check the cards' text in."""

    @classmethod
    def of(cls, config: DeckConfig, phrases: tuple[Phrase, ...], **more: Any) -> CheckContext:
        """The context for a deck's rules."""
        return cls(phrases, script=config.script, variants=config.variants, **more)


def letters(text: str) -> str:
    """Text without whitespace and punctuation: what 'length' means for CJK."""
    return "".join(
        c for c in text if not c.isspace() and not unicodedata.category(c).startswith(("P", "S"))
    )


def reading_length(text: str) -> int:
    """How long text reads: one per CJK character, one per Latin word or number."""
    latin = _LATIN_WORD.findall(text)
    return len(letters(_LATIN_WORD.sub("", text))) + len(latin)


def text_lines(card: Card) -> Iterator[tuple[Path, int, str]]:
    """(file, line, text) for every run of card prose; code and markup left out."""
    for part in card.parts:
        for run in part.lines:
            yield part.location.path, run.line, run.text


def converted_lines(
    card: Card, convert: Callable[[str], str]
) -> Iterator[tuple[Path, int, str, str]]:
    """text_lines with each text converted, in one OpenCC call per card (its cost is per call)."""
    lines = list(text_lines(card))
    texts = [text for _, _, text in lines]
    converted = convert("\n".join(texts)).split("\n")
    if len(converted) != len(texts):  # a text with a line break: convert one by one
        converted = [convert(text) for text in texts]
    for (path, line, text), result in zip(lines, converted, strict=True):
        yield path, line, text, result


def question_key(card: Card) -> str:
    """What makes two questions the same question: their letters (with the sentence, for
    cloze cards, whose question is only context)."""
    if card.kind is Kind.CLOZE:
        return letters(card.question.text) + letters(card.answer.text)
    return letters(card.question.text)
