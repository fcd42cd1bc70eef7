"""Card-quality rules (DG1xx, DG043), after Wozniak's 20 rules and Matuschak.

Each takes one card and yields Problems; docs/rules.md shows a bad and a good
example of each.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator

from deckgen.cardtext import CheckContext, letters, reading_length
from deckgen.errors import Location, Problem, Rule, Severity
from deckgen.model import Card, Kind

ERROR, WARNING = Severity.ERROR, Severity.WARNING
PLACEHOLDER = "【TODO"
"""How every placeholder that ``deckgen new`` writes starts (DG100)."""
MAX_ANSWER_LENGTH = 40
"""Characters of CJK text (a Latin word counts as one)."""
MAX_ENUMERATION = 2
MAX_ENUMERATION_ITEM = 4
MAX_CLOZE_SHARE = 0.6
MAX_CLOZE_NUMBERS = 5
MIN_REPEATED = 6
MIN_CUE = 8
"""A reversed card's answer shorter than this (reading length) is a bare term (DG112)."""
# Yes/no: ending in 吗, or 是否 / A-not-A (是不是, 对不对, 有没有) with no open question word.
_ENDS_IN_MA = re.compile(r"[吗嗎][\s？?]*$")
_WHETHER = re.compile(r"是否|(\w)[不没沒]\1")
_OPEN_QUESTION = re.compile(r"什么|什麼|怎|如何|为何|為何|哪|谁|誰|多少|几|幾|何时|何時")
_ENDS_IN_QUESTION_MARK = re.compile(r"[？?][\s”’」』)）]*$")
_CJK_RUN = re.compile(r"[^\x00-\x7f]+")
_LATIN_WORDS = re.compile(r"[A-Za-z0-9]{2,}")
_CLAUSE = re.compile(r"[，,；;]")
_LAST_AND = re.compile(r"和|与|與|及|或")


def placeholders(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG100: placeholder text from ``deckgen new`` still in the card: in its Markdown as
    written, so that one left in code, math or a table is found too."""
    for part in card.parts:
        for number, line in zip(part.markdown_lines, part.markdown.split("\n"), strict=False):
            start = line.find(PLACEHOLDER)
            while start >= 0:
                end = line.find("】", start)
                left = line[start : end + 1] if end > 0 else line[start:]
                yield PLACEHOLDER_LEFT.at(
                    Location(part.location.path, number),
                    f"placeholder text left in card: {left!r}",
                    "replace every 【TODO：…】 with the card's real text",
                )
                start = line.find(PLACEHOLDER, start + 1)


def answer_too_long(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    length = reading_length(card.answer.text)
    if length > MAX_ANSWER_LENGTH:
        yield ANSWER_TOO_LONG.at(
            card.answer.location,
            f"answer has {length} characters (more than {MAX_ANSWER_LENGTH}): "
            "too long for one idea",
            "keep the answer to a phrase or one sentence; move background to the note",
        )


def enumeration(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    items = max([0, *card.answer.bullet_lists, *map(_enumerated, card.answer.blocks)])
    if items > MAX_ENUMERATION:
        yield ENUMERATION.at(
            card.answer.location,
            f"answer enumerates {items} items: hard to recall as a set",
            "split it into one card per item, or make it a .cloze card",
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
        yield YES_NO.at(
            card.question.location,
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
    yield GIVES_AWAY.at(
        card.answer.location,
        message,
        "answer with only the thing asked for; reword the question if it gives the answer away",
    )


def missing_quote(card: Card, context: CheckContext) -> Iterator[Problem]:
    if not card.quotes:
        yield NO_QUOTE.at(
            card.location,
            "card has no source quote",
            "add the sentence it rests on as a '> quote' (verbatim)",
        )


def missing_note(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.note is None:
        yield NO_NOTE.at(
            card.location,
            "card has no note",
            "add '::: note' … ':::' saying why it matters or how to apply it",
        )


def cloze_gaps(card: Card, context: CheckContext) -> Iterator[Problem]:
    numbers = sorted(set(card.cloze_numbers))
    if card.kind is Kind.CLOZE and numbers and numbers != list(range(1, len(numbers) + 1)):
        yield CLOZE_GAPS.at(
            card.answer.location,
            f"cloze numbers {numbers} have gaps or do not start at 1",
            "number deletions c1, c2, c3 … without gaps",
        )


def too_many_deletions(card: Card, context: CheckContext) -> Iterator[Problem]:
    numbers = set(card.cloze_numbers)
    if card.kind is Kind.CLOZE and len(numbers) > MAX_CLOZE_NUMBERS:
        yield TOO_MANY_DELETIONS.at(
            card.answer.location,
            f"{len(numbers)} cards from one note: too many deletions",
            "split the sentence, or give related deletions the same number",
        )


def deletion_hides_too_much(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is not Kind.CLOZE:
        return
    # Each number is one card, hiding only its own deletions.
    hidden_by_number: Counter[int] = Counter()
    for cloze in card.answer.clozes:
        hidden_by_number[cloze.number] += reading_length(cloze.text)
    hidden = max(hidden_by_number.values(), default=0)
    total = reading_length(card.answer.text)
    if total and hidden / total > MAX_CLOZE_SHARE:
        yield HIDES_TOO_MUCH.at(
            card.answer.location,
            f"a deletion hides {hidden} of {total} characters: too little context",
            "hide only the key words; the rest of the sentence is the cue",
        )


def reversed_not_a_cue(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG112: a reversed card asks in both directions: its front must be a question, and its
    answer, the prompt of the reverse card, must say on its own what it is about."""
    if card.kind is not Kind.REVERSED:
        return
    question, answer = card.question.text.strip(), card.answer.text.strip()
    if not (_ENDS_IN_QUESTION_MARK.search(question) or _OPEN_QUESTION.search(question)):
        yield REVERSED_NOT_A_CUE.at(
            card.question.location,
            "the front of a reversed card is not a question: a label asks nothing",
            "ask for the answer: '……指什么？', '作者用哪句话……？'",
        )
    length = reading_length(answer)
    if length < MIN_CUE or not _words(question) & _words(answer):
        why = (
            f"is a bare term ({length} characters)"
            if length < MIN_CUE
            else "shares no word with the question"
        )
        yield REVERSED_NOT_A_CUE.at(
            card.answer.location,
            f"the answer of a reversed card {why}: shown alone on the reverse card, "
            "it does not say what it is about",
            "give the answer its context (what it is, whose words), e.g. "
            "'不达目标不罢休：作者说这是运营人员必备的基础素质'; or make it a basic card",
        )


def _words(text: str) -> set[str]:
    """What two texts can share: CJK character pairs and Latin words (lowercased)."""
    pairs = {run[i : i + 2] for run in _CJK_RUN.findall(letters(text)) for i in range(len(run) - 1)}
    return pairs | {word.lower() for word in _LATIN_WORDS.findall(text)}


PLACEHOLDER_LEFT = Rule("DG100", ERROR, "placeholder text left in card", placeholders)
ANSWER_TOO_LONG = Rule("DG101", WARNING, "answer too long for one idea", answer_too_long)
ENUMERATION = Rule("DG102", WARNING, "unordered enumeration in an answer", enumeration)
YES_NO = Rule("DG103", WARNING, "yes/no question", yes_no_question)
GIVES_AWAY = Rule("DG104", WARNING, "question and answer repeat each other", gives_away)
NO_QUOTE = Rule("DG105", WARNING, "card has no source quote", missing_quote)
NO_NOTE = Rule("DG106", WARNING, "card has no note", missing_note)
CLOZE_GAPS = Rule("DG043", ERROR, "cloze numbers have gaps", cloze_gaps)
TOO_MANY_DELETIONS = Rule("DG107", WARNING, "too many deletions in one note", too_many_deletions)
HIDES_TOO_MUCH = Rule(
    "DG108", WARNING, "a deletion hides most of the sentence", deletion_hides_too_much
)
REVERSED_NOT_A_CUE = Rule(
    "DG112", WARNING, "a reversed card's front is no question or its answer no cue",
    reversed_not_a_cue,
)  # fmt: skip
RULES = (
    ANSWER_TOO_LONG, ENUMERATION, YES_NO, GIVES_AWAY, NO_QUOTE, NO_NOTE, CLOZE_GAPS,
    TOO_MANY_DELETIONS, HIDES_TOO_MUCH, REVERSED_NOT_A_CUE,
)  # fmt: skip
"""The card rules, run on every card that has no placeholder left (PLACEHOLDER_LEFT)."""
