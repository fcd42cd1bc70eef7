"""Rules over the cards → Problems (errors, warnings, information); raises nothing.

``RULES`` is the one table of every rule deckgen reports, with its code,
severity and title; the docs test, ``allow``, ``--strict`` and the JSON output
all derive from it. Card rules run per card (and are cached with the card);
deck rules run over every card. Warnings can be silenced per card
(``allow="DG101"``) or per deck (``[lint] allow``); errors never.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from deckgen import (
    cardfile,
    config,
    convert,
    files,
    frontmatter,
    lifecycle,
    parse,
    quality,
    sanitize,
    textrules,
)
from deckgen.cardtext import CheckContext
from deckgen.errors import Location, Problem, Rule, Severity, shown
from deckgen.model import Card, CardSummary, DeckConfig

ERROR, WARNING = Severity.ERROR, Severity.WARNING
NEAR_DUPLICATE = 0.7
"""Questions this similar (Jaccard, character bigrams) are near-duplicates (DG109)."""


def duplicate_questions(cards: Sequence[CardSummary], context: CheckContext) -> Iterator[Problem]:
    """DG109: the same question twice, or nearly (Jaccard similarity of bigrams ≥ 0.7).

    Bigrams that many cards share (a title repeated in every question) are left
    out, so that boilerplate does not make different questions look alike.
    """
    keys = [card.question_key for card in cards]
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
            yield DUPLICATE.at(
                cards[index].location,
                f"question is {'the same' if keys[other] == keys[index] else 'nearly the same'}"
                f" as card {cards[other].id!r} at {cards[other].location}",
                "merge the two cards, or make each ask something different",
            )


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset({text})


DUPLICATE = Rule("DG109", WARNING, "duplicate or near-duplicate question", duplicate_questions)
UNKNOWN_CODE = Rule("DG111", WARNING, "`allow` names no warning rule")
COPIED_DECK_ID = Rule("DG320", WARNING, "the deck id is the shipped deck's (a copied deck.toml)")
SHIPPED_DECK_ID = 1764086400000
"""The id of the deck this repository ships (cards/): a deck.toml copied from it keeps it."""
SHIPPED_TITLE = "如何做好运营工作"
CARD_RULES: tuple[Rule, ...] = (*quality.RULES, *textrules.CARD_RULES)
DECK_RULES: tuple[Rule, ...] = (DUPLICATE, *textrules.DECK_RULES)
RULES: tuple[Rule, ...] = (
    *files.RULES,
    *config.RULES,
    *frontmatter.RULES,
    *cardfile.RULES,
    *parse.RULES,
    *convert.RULES,
    *sanitize.RULES,
    quality.PLACEHOLDER_LEFT,
    *CARD_RULES,
    *DECK_RULES,
    UNKNOWN_CODE,
    *lifecycle.RULES,
    COPIED_DECK_ID,
)
"""Every rule check and build report (``new``, ``ids``, ``init``, ``release`` and ``preview``
add their own: scaffold.RULES and preview.RULES)."""
SILENCEABLE = frozenset(rule.code for rule in RULES if rule.severity is not ERROR)


def check_card(
    card: Card, context: CheckContext, *, deck_allow: frozenset[str]
) -> tuple[Problem, ...]:
    """The card rules' problems for one card, without those the card's ``allow`` silences.

    A card with placeholder text (DG100) gets no other rule: it is not written yet.
    A rule silenced deck-wide is not run.
    """
    found = list(quality.placeholders(card, context))
    if not found:
        for rule in CARD_RULES:
            if rule.severity is ERROR or rule.code not in deck_allow:
                assert rule.run is not None
                found += rule.run(card, context)
    return tuple(p for p in found if p.severity is ERROR or p.code not in card.allow)


def check_deck(
    cards: Sequence[CardSummary], context: CheckContext, *, deck: DeckConfig
) -> list[Problem]:
    """The deck rules' problems, and ``allow`` lists that name no warning rule."""
    problems: list[Problem] = []
    written = [card for card in cards if not card.placeholder]
    for rule in DECK_RULES:
        if rule.severity is ERROR or rule.code not in deck.allow:
            assert rule.run is not None
            problems += rule.run(written, context)
    problems += _unknown_codes(cards, deck)
    problems += _copied_deck_id(deck)
    return problems


def _copied_deck_id(deck: DeckConfig) -> list[Problem]:
    """DG320: another deck with the shipped deck's id shares its notes' GUIDs (and its
    subdecks' ids) in every learner's collection: the two decks overwrite each other."""
    if deck.id != SHIPPED_DECK_ID or deck.title == SHIPPED_TITLE:
        return []
    lines = deck.raw.splitlines()
    line = next((n for n, text in enumerate(lines, 1) if text.split("=")[0].strip() == "id"), 0)
    return [
        COPIED_DECK_ID.at(
            Location(deck.path, line),
            f"deck id {deck.id} is the id of the deck deckgen ships ({SHIPPED_TITLE}), and "
            f"this deck is {shown(deck.title)}: in a learner's collection, cards of the two "
            "decks with the same id would be one note, each deck's updates overwriting the other's",
            "give this deck its own id before its first release: start decks with 'deckgen "
            "init DIR' (it picks a random id) and copy its id = line; a deck already released "
            "with this id keeps it (add DG320 to [lint] allow)",
        )
    ]


def silence(problems: Sequence[Problem], deck: DeckConfig) -> list[Problem]:
    """Problems in file order, without the warnings the deck's ``[lint] allow`` silences."""
    kept = [p for p in problems if p.severity is ERROR or p.code not in deck.allow]
    return sorted(kept, key=lambda p: (p.location, p.code))


def _unknown_codes(cards: Sequence[CardSummary], deck: DeckConfig) -> Iterator[Problem]:
    """DG111: an ``allow`` that names no warning rule silences nothing (a typo, usually)."""
    known = sorted(SILENCEABLE)
    errors = {rule.code for rule in RULES if rule.severity is ERROR}
    named = [(card.location, code) for card in cards for code in sorted(card.allow)]
    named += [(Location(deck.path), code) for code in sorted(deck.allow)]
    for location, code in named:
        if code in SILENCEABLE:
            continue
        if code in errors:
            yield UNKNOWN_CODE.at(
                location,
                f"allow names {code!r}, an error: errors cannot be silenced",
                "fix what it reports instead",
            )
            continue
        # Codes differ by a character or two: count characters in the same place.
        best = max(known, key=lambda k: sum(a == b for a, b in zip(k, code, strict=False)))
        close = sum(a == b for a, b in zip(best, code, strict=False)) >= len(code) - 1
        yield UNKNOWN_CODE.at(
            location,
            f"allow names {code!r}, which is not a rule code",
            f"did you mean {best!r}?" if close else "see docs/rules.md for the codes",
        )


def read_sources(paths: Sequence[Path]) -> dict[Path, str]:
    """--source files: path → text without whitespace (what quotes are searched in)."""
    return {path: "".join(files.read_text(path).split()) for path in paths}
