"""Rules over a parsed deck → Problems (errors and warnings); raises nothing.

The card rules live in quality.py (how a card is written) and textrules.py (its
text against the source and the script conversion); this module runs them,
finds duplicates across cards, and applies silencing. Each rule has a stable
code, documented with a bad and a good example in docs/rules.md. Warnings can
be silenced per card (``allow="DG101"``) or per deck (``[lint] allow``).
"""

from __future__ import annotations

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

NEAR_DUPLICATE = 0.7
"""Questions this similar (Jaccard, character bigrams) are near-duplicates (DG109)."""
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class CheckContext:
    """What rules may need beyond the deck itself."""

    sources: dict[Path, str]
    """Source files given with --source: path → text with whitespace removed."""
    phrases: Sequence[Phrase] = ()


CardRule = Callable[[Card, CheckContext], Iterator[Problem]]


def card_rules() -> dict[CardRule, frozenset[str]]:
    """Every card rule and the codes it can report (a rule silenced deck-wide is not run)."""
    from deckgen import quality, textrules

    return {**quality.RULES, **textrules.RULES}


def problem_at(
    part: Field | Card, code: str, severity: Severity, message: str, hint: str
) -> Problem:
    """A problem located at a card or at one of its parts."""
    return Problem(part.location, code, message, hint, severity)


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


def duplicate_questions(cards: Sequence[Card]) -> Iterator[Problem]:
    """DG109: the same question twice, or nearly (Jaccard similarity of bigrams ≥ 0.7).

    Bigrams that many cards share (a title repeated in every question) are left
    out, so that boilerplate does not make different questions look alike.
    """
    keys = [
        letters(card.question.text) + letters(card.answer.text)
        if card.kind is Kind.CLOZE
        else letters(card.question.text)
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
            yield problem_at(
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
    phrases: Sequence[Phrase] = (),
    extra: Sequence[Problem] = (),
) -> list[Problem]:
    """Every problem in the deck that rules find, silenced warnings removed, in file order.

    A card with placeholder text (DG100) gets no other card rule: it is not written yet.
    Errors cannot be silenced: they are what would ship broken.
    """
    from deckgen.quality import placeholders

    context = CheckContext(sources=_read_sources(sources), phrases=phrases)
    problems: list[Problem] = list(extra)
    allowed = deck.config.allow
    rules = [rule for rule, codes in card_rules().items() if not codes <= allowed - _ERRORS]
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
    problems += _unknown_codes(deck)
    return sorted(problems, key=lambda p: (p.location, p.code))


SILENCEABLE_ELSEWHERE = frozenset({"DG109", "DG301", "DG302", "DG303"})
"""Warnings reported outside the card rules that ``allow`` may still name."""


def _unknown_codes(deck: Deck) -> Iterator[Problem]:
    """DG111: an ``allow`` that names no rule silences nothing (a typo, usually)."""
    known = sorted(SILENCEABLE_ELSEWHERE.union(*card_rules().values()))
    named = [(card.location, code) for card in deck.cards for code in sorted(card.allow)]
    named += [(Location(deck.config.path), code) for code in sorted(deck.config.allow)]
    for location, code in named:
        if code not in known:
            # Codes differ by a character or two: count characters in the same place.
            best = max(known, key=lambda k: sum(a == b for a, b in zip(k, code, strict=False)))
            close = sum(a == b for a, b in zip(best, code, strict=False)) >= len(code) - 1
            yield Problem(
                location,
                "DG111",
                f"allow names {code!r}, which is not a rule code",
                f"did you mean {best!r}?" if close else "see docs/rules.md for the codes",
                WARNING,
            )


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
