"""Rules about a card's text against its source and the script conversion.

DG110 quotes verbatim in --source files; DG120 no Traditional characters in
zh-Hans cards; DG201/DG202 every ambiguous conversion settled by a phrase entry
that really applies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from deckgen.cardtext import CheckContext, converted_lines, text_lines
from deckgen.errors import Location, Problem, Rule, Severity
from deckgen.model import Card, CardSummary
from deckgen.segment import OURS

ERROR, WARNING = Severity.ERROR, Severity.WARNING


def quotes_verbatim(cards: Sequence[CardSummary], context: CheckContext) -> Iterator[Problem]:
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
                    card.at(quote),
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


def _reference(context: CheckContext) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The config DG201/DG202 read the conversion with, and the entries it takes: s2t for
    a zh-Hans deck (the step between the scripts; regional steps only adapt forms), the
    deck's first conversion to Simplified for a zh-Hant deck (tw2s reads Taiwan forms:
    its first step decides 著), else t2s."""
    from deckgen.convert import phrase_table
    from deckgen.segment import to_simplified

    config = "s2t"
    if context.script == "zh-Hant":
        found = (v.opencc for v in context.variants if to_simplified(v.opencc))
        config = next(found, "t2s")
    return config, tuple(sorted(phrase_table(config, context.phrases).items()))


def ambiguous_conversion(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG201: an ambiguous character that OpenCC converts alone, or a word that OpenCC's
    dictionary gives several forms, with no phrase entry to decide it.

    Read on OpenCC's own segmentation (the deck's entries chained in, as the build
    does), step by step: a character inside one of OpenCC's words (几次, 面对,
    一张表里) was decided by the word, and is not reported.
    """
    from deckgen.convert import ambiguous_characters
    from deckgen.segment import mirror

    table = ambiguous_characters(context.script)
    config, entries = _reference(context)
    reference = mirror(config, entries)
    other = "Traditional" if context.script == "zh-Hans" else "Simplified"
    for path, line, text in text_lines(card):
        if not any(char in table for char in text):
            continue  # most lines: spare the segmentation
        steps = [reference.tokens(text, step) for step in range(len(reference.steps))]
        decided = {
            i
            for tokens in steps
            for t in tokens
            if t.dictionary == OURS or (len(t.text) > 1 and len(set(t.values)) == 1)
            for i in range(t.start, t.start + len(t.text))
        }
        converted = "".join(t.converted for t in steps[-1])  # the last step writes it
        if len(converted) != len(text):
            converted = text  # (never between the scripts: OpenCC maps character to character)
        reported: set[int] = set()
        for token in (t for tokens in steps for t in tokens):
            char = text[token.start] if token.start < len(text) else token.text
            if token.start in decided or token.start in reported:
                continue
            where, around = Location(path, line), _context(text, token.start, token.text)
            if len(token.text) == 1 and char in table:
                reported.add(token.start)
                yield AMBIGUOUS.at(
                    where,
                    f"'{char}' in '{around}' has several {other} forms ({table[char]}); no "
                    f"word decides it here, and OpenCC writes '{converted[token.start]}'",
                    "check the converted deck; if that form is wrong here, add the word "
                    f"'{char}' is part of in this sentence to the phrase dictionary, "
                    f"with its right {other} form (a word, never one character alone)",
                )
            elif len(token.text) > 1 and _forms_differ(token.text, token.values, table):
                reported.update(range(token.start, token.start + len(token.text)))
                forms = " ".join(dict.fromkeys(token.values))
                yield AMBIGUOUS.at(
                    where,
                    f"OpenCC's word '{token.text}' (in '{around}') has several {other} "
                    f"forms ({forms}), and it writes '{token.converted}'",
                    f"check the converted deck, then add '{token.text}<TAB>…' with the right "
                    "form to the phrase dictionary",
                )


def _forms_differ(word: str, values: tuple[str, ...], table: dict[str, str]) -> bool:
    """Whether a word's forms differ in a character of the ambiguous list, between two of
    its everyday forms (才能/纔能 differ by a rare variant: not reported)."""
    for i, char in enumerate(word):
        candidates = table.get(char, "").split()
        forms = {value[i] for value in values if len(value) == len(word)}
        if len(forms & set(candidates)) > 1:
            return True
    return False


def _context(text: str, start: int, word: str) -> str:
    """A few characters around ``word`` at ``start``, to find it in the line."""
    end = start + len(word)
    head = ("…" if start > 4 else "") + text[max(0, start - 4) : start]
    tail = text[end : end + 4] + ("…" if len(text) > end + 4 else "")
    return head + word + tail


def phrase_overridden(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG202: a phrase entry that OpenCC's segmentation overrides where it is used.

    OpenCC segments text by the longest word it knows, ours and its own; where one
    of its words overlaps ours (OpenCC has 者回, in 读者回复), our entry does not apply.
    """
    from deckgen.segment import mirror

    config, entries = _reference(context)
    phrases = dict(entries)
    if not phrases:
        return
    sources = {p.written(context.script)[0]: p for p in context.phrases}
    pattern = _phrase_pattern(tuple(phrases))
    for path, line, text in text_lines(card):
        if not pattern.search(text):
            continue  # most text uses no entry: spare the mirror (loading it takes 0.3 s)
        aligned = mirror(config, entries).aligned(text)
        converted = "".join(c for _, c, _ in aligned)
        if len(converted) != len(text):
            continue
        for found in pattern.finditer(text):
            got = converted[found.start() : found.end()]
            if got != phrases[found[0]]:
                phrase = sources[found[0]]
                longer = _covering_words(aligned, found.start(), found.end())
                yield OVERRIDDEN.at(
                    Location(path, line),
                    f"phrase entry '{found[0]}' ({phrase.location}) does not apply "
                    f"here: OpenCC segments the text differently and gives '{got}'",
                    f"add the longer phrase '{longer}<TAB>…' (the entry with the word OpenCC "
                    "reads across it), which wins the segmentation",
                )


def _covering_words(aligned: list[tuple[str, str, bool]], start: int, end: int) -> str:
    """text[start:end] extended to the dictionary words it overlaps: the shortest phrase
    entry that wins OpenCC's segmentation there."""
    low, high = _covering_span(aligned, start, end)
    return "".join(segment for segment, _, _ in aligned)[low:high]


def _covering_span(aligned: list[tuple[str, str, bool]], start: int, end: int) -> tuple[int, int]:
    low, high, offset = start, end, 0
    for segment, _, word in aligned:
        after = offset + len(segment)
        if word and offset < end and after > start:
            low, high = min(low, offset), max(high, after)
        offset = after
    return low, high


@functools.cache
def _phrase_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))


def other_script_characters(card: Card, context: CheckContext) -> Iterator[Problem]:
    """DG120: a character of the other script: Traditional in a zh-Hans deck (OpenCC
    t2s changes it), Simplified in a zh-Hant deck (a character OpenCC's s2t always
    changes: 发, 为; 台 and 里 are Traditional too)."""
    if context.script == "zh-Hant":
        yield from _simplified_characters(card)
        return
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


def _simplified_characters(card: Card) -> Iterator[Problem]:
    from deckgen.convert import simplified_only
    from deckgen.segment import character_table

    forms = character_table("STCharacters")
    for path, line, text in text_lines(card):
        char = next((c for c in text if simplified_only(c)), None)
        if char is not None:
            yield TRADITIONAL.at(
                Location(path, line),
                f"'{char}' is Simplified, but the deck is written in zh-Hant",
                f"write {' or '.join(repr(f) for f in forms[char])} (deckgen makes the "
                "Simplified deck from Traditional cards)",
            )


def one_form(cards: Sequence[CardSummary], context: CheckContext) -> Iterator[Problem]:
    """DG203, over the deck: a word converted to different forms in one variant.

    The words are OpenCC's (dictionary words of its segmentation, ours included);
    every other place the same characters occur is compared with them, so that
    了解 → 瞭解 in five places and 了解 in 先了解 (where OpenCC's 先了 takes the 了)
    is found. Quotes are compared under the variant's ``opencc``, the deck's own
    text under its ``wording``: a word that wording changes on purpose is not a
    second form.
    """
    from deckgen.convert import phrase_table
    from deckgen.segment import mirror

    for variant in context.variants:
        groups = {variant.opencc: [True]}
        own = variant.wording or variant.opencc
        groups[own] = [*groups.get(own, []), False]
        for config, quoted in groups.items():
            if config == "none":
                continue
            entries = tuple(sorted(phrase_table(config, context.phrases).items()))
            lines = [
                (card.at(prose), mirror(config, entries).aligned(prose.text))
                for card in cards
                for prose in card.prose
                if prose.quoted in quoted
            ]
            yield from _second_forms(lines, variant.name)


_Aligned = list[tuple[str, str, bool]]


def _second_forms(lines: list[tuple[Location, _Aligned]], variant: str) -> Iterator[Problem]:
    words = {
        segment
        for _, aligned in lines
        for segment, converted, word in aligned
        if word and len(segment) > 1 and len(converted) == len(segment)
    }
    if not words:
        return
    lengths = sorted({len(w) for w in words})
    places: dict[str, dict[str, list[tuple[Location, _Aligned, int]]]] = {}
    for where, aligned in lines:
        text = "".join(segment for segment, _, _ in aligned)
        chars = _char_forms(aligned)
        for start in range(len(text)):
            for n in lengths:
                word = text[start : start + n]
                found = chars[start : start + n]
                if word in words and all(found):
                    form = "".join(c or "" for c in found)
                    places.setdefault(word, {}).setdefault(form, []).append((where, aligned, start))
    for word, forms in sorted(places.items()):
        if len(forms) < 2:
            continue
        usual = max(forms, key=lambda f: len(forms[f]))  # the first found wins a tie
        first = forms[usual][0][0]
        for form, places_of_form in forms.items():
            if form == usual:
                continue
            for where, aligned, offset in places_of_form:
                yield _second_form(word, form, usual, len(forms[usual]), aligned, offset).at(
                    where, variant, first
                )


@dataclass(frozen=True)
class _SecondForm:
    word: str
    form: str
    usual: str
    count: int
    longer: str
    """The place's phrase that wins the segmentation, with the usual form."""

    def at(self, where: Location, variant: str, first: Location) -> Problem:
        return ONE_FORM.at(
            where,
            f"'{self.word}' is '{self.form}' here in {variant}, but '{self.usual}' in "
            f"{self.count} other place(s) (first at {first})",
            f"choose one form for the deck and settle it with phrase entries: to write "
            f"'{self.usual}' here too, add '{self.longer}'; to write '{self.form}' "
            f"everywhere, add '{self.word}<TAB>{self.form}' (and the longer phrase with it)",
        )


def _second_form(
    word: str, form: str, usual: str, count: int, aligned: _Aligned, offset: int
) -> _SecondForm:
    text = "".join(segment for segment, _, _ in aligned)
    chars = _char_forms(aligned)
    low, high = _covering_span(aligned, offset, offset + len(word))
    longer = text[low:high]
    right = [c or t for c, t in zip(chars[low : low + len(longer)], longer, strict=True)]
    right[offset - low : offset - low + len(word)] = usual
    return _SecondForm(word, form, usual, count, f"{longer}<TAB>{''.join(right)}")


def _char_forms(aligned: _Aligned) -> list[str | None]:
    """What each character of the text becomes (None inside a segment whose length
    the conversion changes: 全局 → 全域性 maps no character to one)."""
    forms: list[str | None] = []
    for segment, converted, _ in aligned:
        if len(converted) == len(segment):
            forms += converted
        else:
            forms += [None] * len(segment)
    return forms


NOT_VERBATIM = Rule("DG110", ERROR, "quote not found verbatim in the source", quotes_verbatim)
TRADITIONAL = Rule(
    "DG120",
    ERROR,
    "character of the other script (Traditional in zh-Hans, Simplified in zh-Hant)",
    other_script_characters,
)
AMBIGUOUS = Rule(
    "DG201", WARNING, "ambiguous conversion not settled by a phrase entry", ambiguous_conversion
)
OVERRIDDEN = Rule(
    "DG202", WARNING, "phrase entry overridden by OpenCC's segmentation", phrase_overridden
)
ONE_FORM = Rule("DG203", WARNING, "one word converted to different forms in a variant", one_form)
CARD_RULES = (TRADITIONAL, AMBIGUOUS, OVERRIDDEN)
DECK_RULES = (NOT_VERBATIM, ONE_FORM)
