"""Rules about a card's text against its source and the script conversion.

DG110 quotes verbatim in --source files; DG120 no Traditional characters in
zh-Hans cards; DG201/DG202 every ambiguous conversion settled by a phrase entry
that really applies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from deckgen.cardtext import CheckContext, converted_lines, text_lines
from deckgen.errors import Location, Problem, Rule, Severity
from deckgen.model import Card

if TYPE_CHECKING:
    from deckgen.convert import Phrase

ERROR, WARNING = Severity.ERROR, Severity.WARNING


def quotes_verbatim(cards: Sequence[Card], context: CheckContext) -> Iterator[Problem]:
    """DG110, over the deck: every quote found verbatim in one of the --source files."""
    if not context.sources:
        return
    texts = list(context.sources.values())
    names = ", ".join(p.name for p in context.sources)
    for card in cards:
        for quote in card.quotes:
            wanted = "".join(quote.text.split())
            if wanted and not any(wanted in text for text in texts):
                found = _found_prefix(wanted, texts)
                where = (
                    f"; it matches up to '…{wanted[max(0, found - 8) : found]}' "
                    f"and then has '{wanted[found : found + 8]}…'"
                    if found
                    else ""
                )
                yield NOT_VERBATIM.at(
                    quote.location,
                    f"quote not found verbatim in {names}{where}",
                    "copy the sentence exactly, punctuation included (the article "
                    "uses half-width , ? :); quote one contiguous passage per '>' block",
                )


def _found_prefix(wanted: str, texts: list[str]) -> int:
    """The length of the longest start of ``wanted`` found in one of ``texts``."""
    low, high = 0, len(wanted)
    while low < high:
        middle = (low + high + 1) // 2
        if any(wanted[:middle] in text for text in texts):
            low = middle
        else:
            high = middle - 1
    return low


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def ambiguous_conversion(card: Card, context: CheckContext) -> Iterator[Problem]:
    from deckgen.convert import ambiguous_characters, find_ambiguities

    table = ambiguous_characters()
    for path, line, text in text_lines(card):
        for offset, char in find_ambiguities(text, context.phrases):
            # Suggest the two-character word the character most likely belongs to.
            if offset > 0 and _is_han(text[offset - 1]):
                word = text[offset - 1 : offset + 1]
            else:
                word = (
                    text[offset : offset + 2]
                    if offset + 1 < len(text) and _is_han(text[offset + 1])
                    else char
                )
            yield AMBIGUOUS.at(
                Location(path, line),
                f"'{char}' in '{word}' has several Traditional forms ({table[char]}) and no "
                "phrase entry decides it",
                f"check the Traditional deck, then add '{word}<TAB>…' (the right Traditional "
                "form) to the deck's phrase dictionary",
            )


def phrase_overridden(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG202: a phrase entry that OpenCC's segmentation overrides where it is used.

    OpenCC segments text by the longest word it knows, ours and its own; where one
    of its words overlaps ours (OpenCC has 者回, in 读者回复), our entry does not apply.
    """
    phrases = {p.simplified: p for p in context.phrases}
    if not phrases:
        return
    convert = _s2t(tuple(phrases.values()))
    pattern = _phrase_pattern(tuple(phrases))
    for path, line, text in text_lines(card):
        if not pattern.search(text):
            continue  # most text uses no entry: spare OpenCC the work
        converted = convert(text)
        if len(converted) != len(text):
            continue
        for found in pattern.finditer(text):
            phrase = phrases[found[0]]
            got = converted[found.start() : found.end()]
            if got != phrase.traditional:
                yield OVERRIDDEN.at(
                    Location(path, line),
                    f"phrase entry '{phrase.simplified}' ({phrase.location}) does not apply "
                    f"here: OpenCC segments the text differently and gives '{got}'",
                    f"add a longer phrase with the words around it, e.g. "
                    f"'{text[max(found.start() - 1, 0) : found.end()]}<TAB>…'",
                )


@functools.cache
def _phrase_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))


@functools.cache
def _s2t(phrases: tuple[Phrase, ...]) -> Callable[[str], str]:
    """s2t with our phrases: it has no variant step, so where an entry applies, the
    output is the entry itself."""
    from deckgen.convert import converter

    return converter("s2t", phrases).text


def traditional_characters(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG120: Traditional characters in a deck written in zh-Hans (OpenCC t2s changes them)."""
    from deckgen.convert import simplifier

    for path, line, text, converted in converted_lines(card, simplifier()):
        if converted == text or len(converted) != len(text):
            continue
        offset = next(i for i, (a, b) in enumerate(zip(text, converted, strict=True)) if a != b)
        yield TRADITIONAL.at(
            Location(path, line),
            f"'{text[offset]}' is Traditional, but the deck is written in zh-Hans",
            f"write '{converted[offset]}' (deckgen makes the Traditional deck from "
            "Simplified cards)",
        )


NOT_VERBATIM = Rule("DG110", ERROR, "quote not found verbatim in the source", quotes_verbatim)
TRADITIONAL = Rule(
    "DG120", ERROR, "Traditional character in a zh-Hans deck", traditional_characters
)
AMBIGUOUS = Rule(
    "DG201", WARNING, "ambiguous conversion not settled by a phrase entry", ambiguous_conversion
)
OVERRIDDEN = Rule(
    "DG202", WARNING, "phrase entry overridden by OpenCC's segmentation", phrase_overridden
)
CARD_RULES = (TRADITIONAL, AMBIGUOUS, OVERRIDDEN)
DECK_RULES = (NOT_VERBATIM,)
