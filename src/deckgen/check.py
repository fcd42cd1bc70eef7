"""Rules over a parsed deck → Problems (errors and warnings); raises nothing.

Each rule has a stable code, documented with a bad and a good example in
docs/rules.md. Card-level rules can be silenced per card (``allow="DG101"``)
or per deck (``[lint] allow`` in deck.toml).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown_it.token import Token

from deckgen.errors import Location, Problem, Severity
from deckgen.model import Card, Deck, Field, Kind

ERROR, WARNING = Severity.ERROR, Severity.WARNING

MAX_ANSWER_CHARS = 40
MAX_ENUMERATION = 2
MAX_CLOZE_SHARE = 0.6
MAX_CLOZE_NUMBERS = 5
_YES_NO = re.compile(r"[吗嗎]\s*[？?]?\s*$|是否|是不是|对不对|對不對")
_ENUMERATION = re.compile(r"[、，,；;]")


@dataclass(frozen=True)
class CheckContext:
    """What rules may need beyond the deck itself."""

    sources: dict[Path, str]
    """Source files given with --source: path → text with whitespace removed."""
    phrases: Sequence[object] = ()
    lock_problems: Sequence[Problem] = ()


CardRule = Callable[[Card, CheckContext], Iterator[Problem]]
CARD_RULES: list[CardRule] = []


def card_rule(function: CardRule) -> CardRule:
    CARD_RULES.append(function)
    return function


def _problem(part: Field | Card, code: str, severity: Severity, message: str, hint: str) -> Problem:
    return Problem(part.location, code, message, hint, severity)


def _letters(text: str) -> str:
    """Text without whitespace and punctuation: what 'length' means for CJK."""
    return "".join(
        c for c in text if not c.isspace() and not unicodedata.category(c).startswith(("P", "S"))
    )


@card_rule
def answer_too_long(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    length = len(_letters(card.answer.text))
    if length > MAX_ANSWER_CHARS:
        yield _problem(
            card.answer,
            "DG101",
            WARNING,
            f"answer has {length} characters (more than {MAX_ANSWER_CHARS}): too long for one idea",
            "keep the answer to a phrase or one sentence; move background to the note",
        )


@card_rule
def enumeration(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    items = max(
        [_list_items(card.answer)]
        + [len(_ENUMERATION.split(t.content)) for t in _inline_text(card.answer)]
    )
    if items > MAX_ENUMERATION:
        yield _problem(
            card.answer,
            "DG102",
            WARNING,
            f"answer enumerates {items} items: hard to recall as a set",
            "split it into one card per item, or make it a .cloze card",
        )


def _list_items(part: Field) -> int:
    counts = [0]
    for token in part.tokens:
        if token.type == "list_item_open":
            counts[-1] += 1
    return counts[0]


def _inline_text(part: Field) -> Iterator[Token]:
    for token in part.tokens:
        for child in token.children or ():
            if child.type == "text":
                yield child


@card_rule
def yes_no_question(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is not Kind.CLOZE and _YES_NO.search(card.question.text):
        yield _problem(
            card.question,
            "DG103",
            WARNING,
            "yes/no question: a coin toss, not recall",
            "ask for the thing itself: '…是什么？', '为什么…？', '如何…？'",
        )


@card_rule
def gives_away(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    question, answer = _letters(card.question.text), _letters(card.answer.text)
    if answer and question and (answer in question or question in answer):
        yield _problem(
            card.answer,
            "DG104",
            WARNING,
            "the question and the answer repeat each other",
            "reword the question so that it cannot be answered by pattern-matching its own words",
        )


@card_rule
def missing_annotations(card: Card, context: CheckContext) -> Iterator[Problem]:
    if not card.quotes:
        yield _problem(
            card,
            "DG105",
            WARNING,
            "card has no source quote",
            "add the sentence it rests on as a '> quote' (verbatim)",
        )
    if card.note is None:
        yield _problem(
            card,
            "DG106",
            WARNING,
            "card has no note",
            "add '::: note' … ':::' saying why it matters or how to apply it",
        )


@card_rule
def cloze_shape(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is not Kind.CLOZE or not card.cloze_numbers:
        return
    numbers = sorted(set(card.cloze_numbers))
    if numbers != list(range(1, len(numbers) + 1)):
        yield _problem(
            card.answer,
            "DG043",
            ERROR,
            f"cloze numbers {numbers} have gaps or do not start at 1",
            "number deletions c1, c2, c3 … without gaps",
        )
    if len(numbers) > MAX_CLOZE_NUMBERS:
        yield _problem(
            card.answer,
            "DG107",
            WARNING,
            f"{len(numbers)} cards from one note: too many deletions",
            "split the sentence, or give related deletions the same number",
        )
    hidden = len(_letters("".join(_cloze_text(card.answer))))
    total = len(_letters(card.answer.text))
    if total and hidden / total > MAX_CLOZE_SHARE:
        yield _problem(
            card.answer,
            "DG108",
            WARNING,
            f"deletions hide {hidden} of {total} characters: too little context",
            "hide only the key words; the rest of the sentence is the cue",
        )


def _cloze_text(part: Field) -> Iterator[str]:
    for token in part.tokens:
        depth = 0
        for child in token.children or ():
            depth += {"cloze_open": 1, "cloze_close": -1}.get(child.type, 0)
            if depth and child.type in ("text", "code_inline"):
                yield child.content


@card_rule
def quote_verbatim(card: Card, context: CheckContext) -> Iterator[Problem]:
    if not context.sources:
        return
    for quote in card.quotes:
        wanted = "".join(quote.text.split())
        if wanted and not any(wanted in text for text in context.sources.values()):
            names = ", ".join(p.name for p in context.sources)
            yield _problem(
                quote,
                "DG110",
                ERROR,
                f"quote not found verbatim in {names}",
                "copy the sentence exactly, punctuation included (the article "
                "uses half-width , ? :); quote one contiguous passage per '>' block",
            )


def _text_lines(card: Card) -> Iterator[tuple[Path, int, str]]:
    """(file, line, text) for every run of card text; code and markup left out."""
    parts = [card.question, card.answer, *card.quotes, *([card.note] if card.note else [])]
    for part in parts:
        blocks = (
            [(part.location.line, list(part.tokens))]
            if part is card.question
            else [
                (token.map[0] + 1, token.children or [])
                for token in part.tokens
                if token.map and token.children
            ]
        )
        for line, children in blocks:
            for child in children:
                if child.type == "text":
                    yield part.location.path, line, child.content
                elif child.type in ("softbreak", "hardbreak"):
                    line += 1


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


@card_rule
def ambiguous_conversion(card: Card, context: CheckContext) -> Iterator[Problem]:
    from deckgen.convert import Phrase, ambiguous_characters, find_ambiguities

    phrases = [p for p in context.phrases if isinstance(p, Phrase)]
    table = ambiguous_characters()
    for path, line, text in _text_lines(card):
        for offset, char in find_ambiguities(text, phrases):
            # Suggest the two-character word the character most likely belongs to.
            if offset > 0 and _is_han(text[offset - 1]):
                word = text[offset - 1 : offset + 1]
            else:
                word = (
                    text[offset : offset + 2]
                    if offset + 1 < len(text) and _is_han(text[offset + 1])
                    else char
                )
            yield Problem(
                Location(path, line),
                "DG201",
                f"'{char}' in '{word}' has several Traditional forms ({table[char]}) and no "
                "phrase entry decides it",
                f"check the Traditional deck, then add '{word}<TAB>…' (the right Traditional "
                "form) to the deck's phrase dictionary",
                WARNING,
            )


def duplicate_questions(cards: Sequence[Card]) -> Iterator[Problem]:
    """DG109: the same or nearly the same question twice (bigram Jaccard ≥ 0.8)."""
    grams = [
        _bigrams(
            _letters(card.question.text) + _letters(card.answer.text)
            if card.kind is Kind.CLOZE
            else _letters(card.question.text)
        )
        for card in cards
    ]
    postings: dict[str, list[int]] = defaultdict(list)
    for index, bigrams in enumerate(grams):
        for gram in bigrams:
            postings[gram].append(index)
    for index, bigrams in enumerate(grams):
        shared: Counter[int] = Counter()
        for gram in bigrams:
            posting = postings[gram]
            if len(posting) <= 64:  # very common bigrams say nothing about sameness
                shared.update(other for other in posting if other < index)
        for other, count in shared.items():
            union = len(bigrams | grams[other])
            if union and count / union >= 0.8:
                yield _problem(
                    cards[index].question,
                    "DG109",
                    WARNING,
                    f"question is (nearly) the same as card {cards[other].id!r} "
                    f"at {cards[other].location}",
                    "merge the two cards, or make each ask something different",
                )


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset({text})


def check_deck(
    deck: Deck,
    *,
    sources: Sequence[Path] = (),
    phrases: Sequence[object] = (),
    extra: Sequence[Problem] = (),
) -> list[Problem]:
    """Every problem in the deck that rules find, silenced ones removed."""
    context = CheckContext(
        sources={path: "".join(path.read_text("utf-8-sig").split()) for path in sources},
        phrases=phrases,
    )
    problems: list[Problem] = list(extra)
    for card in deck.cards:
        problems += [
            p for rule in CARD_RULES for p in rule(card, context) if p.code not in card.allow
        ]
    by_location = {card.question.location: card for card in deck.cards}
    problems += [
        p for p in duplicate_questions(deck.cards) if p.code not in by_location[p.location].allow
    ]
    return [p for p in problems if p.code not in deck.config.allow]


@card_rule
def traditional_characters(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG120: Traditional characters in a deck written in zh-Hans (OpenCC t2s changes them)."""
    from deckgen.convert import simplifier

    to_simplified = simplifier()
    for path, line, text in _text_lines(card):
        converted = to_simplified(text)
        if converted == text or len(converted) != len(text):
            continue
        offset = next(i for i, (a, b) in enumerate(zip(text, converted, strict=True)) if a != b)
        yield Problem(
            Location(path, line),
            "DG120",
            f"'{text[offset]}' is Traditional, but the deck is written in zh-Hans",
            f"write '{converted[offset]}' (deckgen makes the Traditional deck from "
            "Simplified cards)",
            ERROR,
        )
