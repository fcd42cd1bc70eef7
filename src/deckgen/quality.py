"""Card-quality rules (DG100–DG109, DG043), after Wozniak's 20 rules and Matuschak.

Each takes one card and yields Problems; docs/rules.md shows a bad and a good
example of each.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator

from deckgen.check import (
    ERROR,
    WARNING,
    CardRule,
    CheckContext,
    letters,
    problem_at,
    reading_length,
    text_lines,
)
from deckgen.errors import Location, Problem
from deckgen.model import Card, Field, Kind

PLACEHOLDER = "【TODO"
"""How every placeholder that ``deckgen new`` writes starts (DG100)."""
MAX_ANSWER_LENGTH = 40
"""Characters of CJK text (a Latin word counts as one)."""
MAX_ENUMERATION = 2
MAX_ENUMERATION_ITEM = 4
MAX_CLOZE_SHARE = 0.6
MAX_CLOZE_NUMBERS = 5
MIN_REPEATED = 6
# Yes/no: ending in 吗, or 是否 / A-not-A (是不是, 对不对, 有没有) with no open question word.
_ENDS_IN_MA = re.compile(r"[吗嗎][\s？?]*$")
_WHETHER = re.compile(r"是否|(\w)[不没沒]\1")
_OPEN_QUESTION = re.compile(r"什么|什麼|怎|如何|为何|為何|哪|谁|誰|多少|几|幾|何时|何時")
_CLAUSE = re.compile(r"[，,；;]")
_LAST_AND = re.compile(r"和|与|與|及|或")


def placeholders(card: Card) -> Iterator[Problem]:
    """DG100: placeholder text from ``deckgen new`` still in the card."""
    for path, line, text in text_lines(card):
        start = text.find(PLACEHOLDER)
        if start >= 0:
            end = text.find("】", start)
            yield Problem(
                Location(path, line),
                "DG100",
                f"placeholder text left in card: {text[start : end + 1 if end > 0 else None]!r}",
                "replace every 【TODO：…】 with the card's real text",
                ERROR,
            )


def answer_too_long(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    length = reading_length(card.answer.text)
    if length > MAX_ANSWER_LENGTH:
        yield problem_at(
            card.answer,
            "DG101",
            WARNING,
            f"answer has {length} characters (more than {MAX_ANSWER_LENGTH}): "
            "too long for one idea",
            "keep the answer to a phrase or one sentence; move background to the note",
        )


def enumeration(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    items = max([0, *_bullet_items(card.answer), *map(_enumerated, _paragraphs(card.answer))])
    if items > MAX_ENUMERATION:
        yield problem_at(
            card.answer,
            "DG102",
            WARNING,
            f"answer enumerates {items} items: hard to recall as a set",
            "split it into one card per item, or make it a .cloze card",
        )


def _bullet_items(part: Field) -> Iterator[int]:
    """The number of items of each bullet (unordered) list; ordered steps are fine."""
    lists: list[list[int]] = []
    for token in part.tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append([0 if token.type == "bullet_list_open" else -1])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            yield lists.pop()[0]
        elif token.type == "list_item_open" and lists and lists[-1][0] >= 0:
            lists[-1][0] += 1


def _paragraphs(part: Field) -> Iterator[str]:
    """The plain text of each inline block (paragraph, heading, table cell)."""
    for token in part.tokens:
        if token.children:
            yield "".join(
                "\n" if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children
                if child.type in ("text", "code_inline", "softbreak", "hardbreak")
            )


def _enumerated(text: str) -> int:
    """Items listed in text: 业务、产品和技术 (3); short runs between commas (a，b，c)."""
    items = text.split("、")
    if len(items) > 1:
        last = _LAST_AND.split(items[-1])
        return len(items) + (len(last) == 2 and all(0 < reading_length(x) <= 8 for x in last))
    clauses = _CLAUSE.split(text)
    if len(clauses) > 2 and all(0 < reading_length(c) <= MAX_ENUMERATION_ITEM for c in clauses):
        return len(clauses)
    return 1


def yes_no_question(card: Card, context: CheckContext) -> Iterator[Problem]:
    text = card.question.text
    if card.kind is Kind.CLOZE:
        return
    if _ENDS_IN_MA.search(text) or (_WHETHER.search(text) and not _OPEN_QUESTION.search(text)):
        yield problem_at(
            card.question,
            "DG103",
            WARNING,
            "yes/no question: a coin toss, not recall",
            "ask for the thing itself: '…是什么？', '为什么…？', '如何…？'",
        )


def gives_away(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    question, answer = letters(card.question.text), letters(card.answer.text)
    if not question or not answer:
        return
    if len(answer) > 1 and answer in question:
        message = f"the question contains its own answer {answer!r}"
    else:
        match = difflib.SequenceMatcher(None, question, answer, autojunk=False)
        longest = match.find_longest_match(0, len(question), 0, len(answer))
        repeated = question[longest.a : longest.a + longest.size]
        if reading_length(repeated) < MIN_REPEATED:
            return
        message = f"the answer repeats {repeated!r} from the question"
    yield problem_at(
        card.answer,
        "DG104",
        WARNING,
        message,
        "answer with only the thing asked for; reword the question if it gives the answer away",
    )


def missing_annotations(card: Card, context: CheckContext) -> Iterator[Problem]:
    if not card.quotes:
        yield problem_at(
            card,
            "DG105",
            WARNING,
            "card has no source quote",
            "add the sentence it rests on as a '> quote' (verbatim)",
        )
    if card.note is None:
        yield problem_at(
            card,
            "DG106",
            WARNING,
            "card has no note",
            "add '::: note' … ':::' saying why it matters or how to apply it",
        )


def cloze_shape(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is not Kind.CLOZE or not card.cloze_numbers:
        return
    numbers = sorted(set(card.cloze_numbers))
    if numbers != list(range(1, len(numbers) + 1)):
        yield problem_at(
            card.answer,
            "DG043",
            ERROR,
            f"cloze numbers {numbers} have gaps or do not start at 1",
            "number deletions c1, c2, c3 … without gaps",
        )
    if len(numbers) > MAX_CLOZE_NUMBERS:
        yield problem_at(
            card.answer,
            "DG107",
            WARNING,
            f"{len(numbers)} cards from one note: too many deletions",
            "split the sentence, or give related deletions the same number",
        )
    # Each number is one card, hiding only its own deletions.
    hidden_by_number: Counter[int] = Counter()
    for number, text in _cloze_text(card.answer):
        hidden_by_number[number] += reading_length(text)
    hidden = max(hidden_by_number.values(), default=0)
    total = reading_length(card.answer.text)
    if total and hidden / total > MAX_CLOZE_SHARE:
        yield problem_at(
            card.answer,
            "DG108",
            WARNING,
            f"a deletion hides {hidden} of {total} characters: too little context",
            "hide only the key words; the rest of the sentence is the cue",
        )


def _cloze_text(part: Field) -> Iterator[tuple[int, str]]:
    """(cloze number, text) for every run of text inside a deletion."""
    for token in part.tokens:
        numbers: list[int] = []
        for child in token.children or ():
            if child.type == "cloze_open":
                numbers.append(child.meta["number"])
            elif child.type == "cloze_close":
                numbers.pop()
            elif numbers and child.type in ("text", "code_inline"):
                yield numbers[-1], child.content


RULES: dict[CardRule, frozenset[str]] = {
    answer_too_long: frozenset({"DG101"}),
    enumeration: frozenset({"DG102"}),
    yes_no_question: frozenset({"DG103"}),
    gives_away: frozenset({"DG104"}),
    missing_annotations: frozenset({"DG105", "DG106"}),
    cloze_shape: frozenset({"DG043", "DG107", "DG108"}),
}
"""Each rule and the codes it can report."""
