"""Rules over a parsed deck → Problems (errors and warnings); raises nothing.

Each rule has a stable code, documented with a bad and a good example in
docs/rules.md. Card-level rules can be silenced per card (``allow="DG101"``)
or per deck (``[lint] allow`` in deck.toml).
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.errors import DeckgenError, Location, Problem, Severity
from deckgen.model import Card, Deck, Field, Kind

if TYPE_CHECKING:
    from deckgen.convert import Phrase

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
NEAR_DUPLICATE = 0.7
# Yes/no: ending in 吗, or 是否 / A-not-A (是不是, 对不对, 有没有) with no open question word.
_ENDS_IN_MA = re.compile(r"[吗嗎][\s？?]*$")
_WHETHER = re.compile(r"是否|(\w)[不没沒]\1")
_OPEN_QUESTION = re.compile(r"什么|什麼|怎|如何|为何|為何|哪|谁|誰|多少|几|幾|何时|何時")
_CLAUSE = re.compile(r"[，,；;]")
_LAST_AND = re.compile(r"和|与|與|及|或")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class CheckContext:
    """What rules may need beyond the deck itself."""

    sources: dict[Path, str]
    """Source files given with --source: path → text with whitespace removed."""
    phrases: Sequence[object] = ()


CardRule = Callable[[Card, CheckContext], Iterator[Problem]]
CARD_RULES: dict[CardRule, frozenset[str]] = {}
"""Each card rule and the codes it can report (a rule silenced deck-wide is not run)."""


def card_rule(*codes: str) -> Callable[[CardRule], CardRule]:
    def register(function: CardRule) -> CardRule:
        CARD_RULES[function] = frozenset(codes)
        return function

    return register


def _problem(part: Field | Card, code: str, severity: Severity, message: str, hint: str) -> Problem:
    return Problem(part.location, code, message, hint, severity)


def _letters(text: str) -> str:
    """Text without whitespace and punctuation: what 'length' means for CJK."""
    return "".join(
        c for c in text if not c.isspace() and not unicodedata.category(c).startswith(("P", "S"))
    )


def _length(text: str) -> int:
    """How long text reads: one per CJK character, one per Latin word or number."""
    latin = _LATIN_WORD.findall(text)
    return len(_letters(_LATIN_WORD.sub("", text))) + len(latin)


def placeholders(card: Card) -> Iterator[Problem]:
    """DG100: placeholder text from ``deckgen new`` still in the card."""
    for path, line, text in _text_lines(card):
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


@card_rule("DG101")
def answer_too_long(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    length = _length(card.answer.text)
    if length > MAX_ANSWER_LENGTH:
        yield _problem(
            card.answer,
            "DG101",
            WARNING,
            f"answer has {length} characters (more than {MAX_ANSWER_LENGTH}): "
            "too long for one idea",
            "keep the answer to a phrase or one sentence; move background to the note",
        )


@card_rule("DG102")
def enumeration(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    items = max([0, *_bullet_items(card.answer), *map(_enumerated, _paragraphs(card.answer))])
    if items > MAX_ENUMERATION:
        yield _problem(
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
        return len(items) + (len(last) == 2 and all(0 < _length(x) <= 8 for x in last))
    clauses = _CLAUSE.split(text)
    if len(clauses) > 2 and all(0 < _length(c) <= MAX_ENUMERATION_ITEM for c in clauses):
        return len(clauses)
    return 1


@card_rule("DG103")
def yes_no_question(card: Card, context: CheckContext) -> Iterator[Problem]:
    text = card.question.text
    if card.kind is Kind.CLOZE:
        return
    if _ENDS_IN_MA.search(text) or (_WHETHER.search(text) and not _OPEN_QUESTION.search(text)):
        yield _problem(
            card.question,
            "DG103",
            WARNING,
            "yes/no question: a coin toss, not recall",
            "ask for the thing itself: '…是什么？', '为什么…？', '如何…？'",
        )


@card_rule("DG104")
def gives_away(card: Card, context: CheckContext) -> Iterator[Problem]:
    if card.kind is Kind.CLOZE:
        return
    question, answer = _letters(card.question.text), _letters(card.answer.text)
    if not question or not answer:
        return
    if len(answer) > 1 and answer in question:
        message = f"the question contains its own answer {answer!r}"
    else:
        match = difflib.SequenceMatcher(None, question, answer, autojunk=False)
        longest = match.find_longest_match(0, len(question), 0, len(answer))
        repeated = question[longest.a : longest.a + longest.size]
        if _length(repeated) < MIN_REPEATED:
            return
        message = f"the answer repeats {repeated!r} from the question"
    yield _problem(
        card.answer,
        "DG104",
        WARNING,
        message,
        "answer with only the thing asked for; reword the question if it gives the answer away",
    )


@card_rule("DG105", "DG106")
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


@card_rule("DG043", "DG107", "DG108")
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
    # Each number is one card, hiding only its own deletions.
    hidden_by_number: Counter[int] = Counter()
    for number, text in _cloze_text(card.answer):
        hidden_by_number[number] += _length(text)
    hidden = max(hidden_by_number.values(), default=0)
    total = _length(card.answer.text)
    if total and hidden / total > MAX_CLOZE_SHARE:
        yield _problem(
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


@card_rule("DG110")
def quote_verbatim(card: Card, context: CheckContext) -> Iterator[Problem]:
    if not context.sources:
        return
    texts = list(context.sources.values())
    for quote in card.quotes:
        wanted = "".join(quote.text.split())
        if wanted and not any(wanted in text for text in texts):
            names = ", ".join(p.name for p in context.sources)
            found = _found_prefix(wanted, texts)
            where = (
                f"; it matches up to '…{wanted[max(0, found - 8) : found]}' "
                f"and then has '{wanted[found : found + 8]}…'"
                if found
                else ""
            )
            yield _problem(
                quote,
                "DG110",
                ERROR,
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


@card_rule("DG201")
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


@card_rule("DG202")
def phrase_overridden(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG202: a phrase entry that OpenCC's segmentation overrides where it is used.

    OpenCC segments text by the longest word it knows, ours and its own; where one
    of its words overlaps ours (OpenCC has 者回, in 读者回复), our entry does not apply.
    """
    from deckgen.convert import Phrase

    phrases = {p.simplified: p for p in context.phrases if isinstance(p, Phrase)}
    if not phrases:
        return
    convert = _s2t(tuple(phrases.values()))
    pattern = _phrase_pattern(tuple(phrases))
    for path, line, text in _text_lines(card):
        if not pattern.search(text):
            continue  # most text uses no entry: spare OpenCC the work
        converted = convert(text)
        if len(converted) != len(text):
            continue
        for found in pattern.finditer(text):
            phrase = phrases[found[0]]
            got = converted[found.start() : found.end()]
            if got != phrase.traditional:
                yield Problem(
                    Location(path, line),
                    "DG202",
                    f"phrase entry '{phrase.simplified}' ({phrase.location}) does not apply "
                    f"here: OpenCC segments the text differently and gives '{got}'",
                    f"add a longer phrase with the words around it, e.g. "
                    f"'{text[max(found.start() - 1, 0) : found.end()]}<TAB>…'",
                    WARNING,
                )


def _converted_lines(
    card: Card, convert: Callable[[str], str]
) -> Iterator[tuple[Path, int, str, str]]:
    """_text_lines with each text converted, in one OpenCC call per card (its cost is per call)."""
    lines = list(_text_lines(card))
    texts = [text for _, _, text in lines]
    converted = convert("\n".join(texts)).split("\n")
    if len(converted) != len(texts):  # a text with a line break: convert one by one
        converted = [convert(text) for text in texts]
    for (path, line, text), result in zip(lines, converted, strict=True):
        yield path, line, text, result


@functools.cache
def _phrase_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))


@functools.cache
def _s2t(phrases: tuple[Phrase, ...]) -> Callable[[str], str]:
    """s2t with our phrases: it has no variant step, so where an entry applies, the
    output is the entry itself."""
    from deckgen.convert import Converter

    return Converter("s2t", list(phrases)).text


def duplicate_questions(cards: Sequence[Card]) -> Iterator[Problem]:
    """DG109: the same question twice, or nearly (Jaccard similarity of bigrams ≥ 0.7).

    Bigrams that many cards share (a title repeated in every question) are left
    out, so that boilerplate does not make different questions look alike.
    """
    keys = [
        _letters(card.question.text) + _letters(card.answer.text)
        if card.kind is Kind.CLOZE
        else _letters(card.question.text)
        for card in cards
    ]
    frequency = Counter(gram for key in keys for gram in _bigrams(key))
    # Bounded, so that a large deck's shared words cannot make this quadratic.
    common = max(3, min(len(cards) // 10, 50))
    grams = [
        frozenset(g for g in _bigrams(key) if frequency[g] <= common) or _bigrams(key)
        for key in keys
    ]
    postings: dict[str, list[int]] = defaultdict(list)
    first: dict[str, int] = {}
    for index, bigrams in enumerate(grams):
        shared: Counter[int] = Counter()
        for gram in bigrams:
            shared.update(postings[gram])
            postings[gram].append(index)
        same = first.setdefault(keys[index], index)
        similar = [o for o, n in shared.items() if n / len(bigrams | grams[o]) >= NEAR_DUPLICATE]
        for other in sorted({same, *similar} - {index}):
            if "DG109" in cards[index].allow | cards[other].allow:
                continue
            yield _problem(
                cards[index].question,
                "DG109",
                WARNING,
                f"question is {'the same' if keys[other] == keys[index] else 'nearly the same'}"
                f" as card {cards[other].id!r} at {cards[other].location}",
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
    """Every problem in the deck that rules find, silenced warnings removed, in file order.

    A card with placeholder text (DG100) gets no other card rule: it is not written yet.
    Errors cannot be silenced: they are what would ship broken.
    """
    context = CheckContext(sources=_read_sources(sources), phrases=phrases)
    problems: list[Problem] = list(extra)
    allowed = deck.config.allow
    rules = [rule for rule, codes in CARD_RULES.items() if not codes <= allowed - _ERRORS]
    written = []
    for card in deck.cards:
        found = list(placeholders(card))
        if not found:
            written.append(card)
            found = [p for rule in rules for p in rule(card, context)]
        problems += [p for p in found if p.code not in card.allow or p.severity is ERROR]
    if "DG109" not in allowed:
        problems += duplicate_questions(written)
    problems = [p for p in problems if p.code not in allowed or p.severity is ERROR]
    return sorted(problems, key=lambda p: (p.location, p.code))


_ERRORS = frozenset({"DG043", "DG100", "DG110", "DG120"})
"""Rule codes reported as errors: never silenced, so their rules always run."""


def _read_sources(sources: Sequence[Path]) -> dict[Path, str]:
    texts = {}
    for path in sources:
        try:
            texts[path] = "".join(path.read_bytes().decode("utf-8-sig").split())
        except UnicodeDecodeError as error:
            raise DeckgenError(
                [
                    Problem(
                        Location(path),
                        "DG002",
                        f"source file is not valid UTF-8: {error.reason} at byte {error.start}",
                        "save it as UTF-8",
                    )
                ]
            ) from None
    return texts


@card_rule("DG120")
def traditional_characters(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG120: Traditional characters in a deck written in zh-Hans (OpenCC t2s changes them)."""
    from deckgen.convert import simplifier

    for path, line, text, converted in _converted_lines(card, simplifier()):
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
