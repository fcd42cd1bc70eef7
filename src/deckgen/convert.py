"""Rendered cards → each variant's note fields with OpenCC; the only opencc import.

Our phrase dictionaries are chained in front of OpenCC's own, in segmentation
and in the step that converts between the scripts (segment.chained_spec): the
Python wheel does not resolve dictionary file names in a custom config to its
bundled .ocd2 files, so every path in the generated config is absolute.
A phrase entry is text: its right side must be a plausible form of its left
side in the other script, so that a dictionary can never inject markup.

A variant converts the deck's own text (questions, answers, notes, tags, deck
names) with its ``wording`` config, and quotes and their attributions with
``opencc`` (characters only: an author's words are never changed); with
``quotation_marks = "corner"``, “…” and ‘…’ become 「…」 and 『…』.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError, Location, Problem, Rule, Severity, shown
from deckgen.files import CANNOT_WRITE, os_problem, read_text
from deckgen.model import (
    FIELDS,
    PROTECT_CLOSE,
    PROTECT_OPEN,
    DeckConfig,
    Note,
    RenderedCard,
    Variant,
)
from deckgen.segment import OURS, chained_spec, from_simplified, to_simplified

BAD_PHRASE = Rule("DG020", Severity.ERROR, "phrase dictionary entry is malformed")
RULES = (BAD_PHRASE,)
_PROTECTED = re.compile(f"{PROTECT_OPEN}(.*?){PROTECT_CLOSE}", re.DOTALL)
BUILTIN_PHRASES = {"zh-Hans": "builtin-phrases.txt", "zh-Hant": "builtin-phrases-hant.txt"}
_SEPARATOR = "\ue003"
_SHORT = 64
_QUOTED_FIELDS = frozenset({"Quote", "Source"})
"""Fields that hold the author's words and their attribution: converted with ``opencc``."""


@dataclass(frozen=True)
class Phrase:
    """One entry of a phrase dictionary: the same phrase in both scripts.

    In a zh-Hans deck an entry reads ``simplified<TAB>traditional``; in a zh-Hant
    deck, ``traditional<TAB>simplified`` (the cards' script first, always).
    """

    simplified: str
    traditional: str
    location: Location

    def written(self, script: str) -> tuple[str, str]:
        """(as in the cards, converted) for a deck written in ``script``."""
        if script == "zh-Hant":
            return self.traditional, self.simplified
        return self.simplified, self.traditional


def engine_version() -> str:
    """OpenCC's version: part of what every converted card depends on."""
    from importlib import metadata

    return metadata.version("opencc")


def _data_file(name: str) -> Path:
    return Path(__file__).parent / "data" / name


def _entry_problem(left: str, right: str, script: str) -> str:
    """Why an entry is not a phrase and its form in the other script, or ""."""
    for side in (left, right):
        if any(c.isspace() for c in side):
            return "has a space: an entry is one phrase, a tab, one phrase"
        if any(not _is_word_character(c) for c in side):
            odd = next(c for c in side if not _is_word_character(c))
            return f"has {shown(odd)}, which is not part of a Chinese phrase"
    if len(left) != len(right):
        return "the two phrases differ in length: an entry maps each character to one character"
    if script == "zh-Hant":
        if not all(_simplified_form(t, s) for t, s in zip(left, right, strict=True)):
            return "the Simplified side is not a Simplified form of the Traditional side"
        if any(traditional_only(c) for c in right):
            odd = next(c for c in right if traditional_only(c))
            return f"the Simplified side has {shown(odd)}, a Traditional character"
    elif simplifier()(right) != simplifier()(left):
        return "the Traditional side is not a Traditional form of the Simplified side"
    return ""


def _simplified_form(traditional: str, simplified: str) -> bool:
    """Whether OpenCC knows ``simplified`` as a Simplified form of ``traditional``."""
    from deckgen.segment import character_table

    return (
        simplified == traditional
        or simplified == simplifier()(traditional)
        or simplified in character_table("TSCharacters").get(traditional, ())
        or traditional in character_table("STCharacters").get(simplified, ())
    )


def traditional_only(char: str) -> bool:
    """A character OpenCC always simplifies (發, 後): never written in Simplified text."""
    from deckgen.segment import character_table

    forms = character_table("TSCharacters").get(char)
    return forms is not None and char not in forms


def simplified_only(char: str) -> bool:
    """A character OpenCC always makes Traditional (发, 为): never in Traditional text."""
    from deckgen.segment import character_table

    forms = character_table("STCharacters").get(char)
    return forms is not None and char not in forms


def _is_word_character(char: str) -> bool:
    # Letters, digits and CJK punctuation (》里 is a phrase); never ASCII punctuation,
    # which is what markup is made of.
    category = unicodedata.category(char)
    return category[0] in "LN" or (not char.isascii() and category[0] == "P")


def read_phrases(
    path: Path, *, inside: Path | None = None, script: str = "zh-Hans"
) -> list[Phrase]:
    """Read a phrase dictionary: a phrase in the cards' script, a tab, its form in the
    other script, a line; ``#`` comments."""
    example = "和面对<TAB>和面對" if script == "zh-Hans" else "乾了<TAB>干了"
    sides = (
        "the Simplified phrase, one tab, the Traditional phrase"
        if script == "zh-Hans"
        else "the Traditional phrase, one tab, the Simplified phrase"
    )
    problems: list[Problem] = []
    phrases: list[Phrase] = []
    try:
        text = read_text(path, inside=inside)
    except DeckgenError as error:
        raise DeckgenError([_as_phrase_problem(p) for p in error.problems]) from None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        where = Location(path, number)
        if len(parts) != 2 or not parts[0] or not parts[1]:
            problems.append(
                BAD_PHRASE.at(
                    where, f"malformed phrase entry {shown(line)}", f"write {sides}, e.g. {example}"
                )
            )
            continue
        left, right = parts
        if why := _entry_problem(left, right, script):
            problems.append(
                BAD_PHRASE.at(
                    where,
                    f"phrase entry {shown(left)} → {shown(right)}: {why}",
                    f"write {sides} (same characters in the other script's form), e.g. {example}",
                )
            )
            continue
        if script == "zh-Hant":
            phrases.append(Phrase(right, left, where))
        else:
            phrases.append(Phrase(left, right, where))
    if problems:
        raise DeckgenError(problems)
    return phrases


def _as_phrase_problem(problem: Problem) -> Problem:
    if problem.code == "DG002":
        return BAD_PHRASE.at(problem.location, problem.message, problem.hint)
    return problem


def load_phrases(config: DeckConfig | None) -> tuple[Phrase, ...]:
    """deckgen's built-in phrases for the deck's script, then the deck's (a deck entry
    wins over a built-in one)."""
    script = config.script if config is not None else "zh-Hans"
    phrases = read_phrases(_data_file(BUILTIN_PHRASES[script]), script=script)
    if config is not None and config.phrases is not None:
        phrases += read_phrases(config.phrases, inside=config.folder, script=script)
    return tuple(phrases)


@functools.lru_cache(maxsize=2)
def ambiguous_characters(script: str = "zh-Hans") -> dict[str, str]:
    """Character → its candidates in the other script, from data/ambiguous*.txt."""
    name = "ambiguous.txt" if script == "zh-Hans" else "ambiguous-hant.txt"
    table: dict[str, str] = {}
    for line in _data_file(name).read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            char, candidates = line.split("\t")
            table[char] = candidates
    return table


def phrase_table(config: str, phrases: Sequence[Phrase]) -> dict[str, str]:
    """Our entries as ``config`` reads them: text → converted (later entries win)."""
    if from_simplified(config):
        return {p.simplified: p.traditional for p in phrases}
    if to_simplified(config):
        return {p.traditional: p.simplified for p in phrases}
    return {}


_TAG = re.compile(r"(<[^>]*>)")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


def _url_split(text: str) -> list[str]:
    """text, URL, text, URL, ...: a URL runs to a space, markup or CJK text; quotation
    marks closing it close the sentence's quotation, unless the URL opened them."""
    pieces, at = [], 0
    for found in _URL.finditer(text):
        url = found[0]
        for opener, closer in (("“", "”"), ("‘", "’")):
            while url.endswith(closer) and url.count(closer) > url.count(opener):
                url = url[:-1]
        pieces += [text[at : found.start()], url]
        at = found.start() + len(url)
    return [*pieces, text[at:]]


_CORNER = str.maketrans({"“": "「", "”": "」"})


def corner_quotes(html: str) -> str:
    """“…” → 「…」 and ‘…’ → 『…』 in HTML text: not in tags (attributes), URLs, or
    English apostrophes (it’s, students’)."""
    if not any(c in html for c in "“”‘’"):
        return html
    pieces = _TAG.split(html)
    opened = 0  # single quotes open: a ’ closes one, or is an apostrophe
    for index in range(0, len(pieces), 2):
        runs = _url_split(pieces[index])
        for at in range(0, len(runs), 2):
            text = runs[at].translate(_CORNER)
            chars = list(text)
            for i, char in enumerate(chars):
                before = text[i - 1] if i else ""
                after = text[i + 1] if i + 1 < len(text) else ""
                latin = before.isascii() and before.isalnum()
                if char == "‘" and not (latin and after.isascii() and after.isalpha()):
                    chars[i], opened = "『", opened + 1
                elif char == "’" and opened and not (latin and after.isascii() and after.isalpha()):
                    chars[i], opened = "』", opened - 1
            runs[at] = "".join(chars)
        pieces[index] = "".join(runs)
    return "".join(pieces)


class Converter:
    """Converts rendered HTML or plain text to one variant's script."""

    def __init__(self, config: str, phrases: Sequence[Phrase]) -> None:
        self.config = config
        self._opencc = (
            None if config == "none" else _make_opencc(config, phrase_table(config, phrases))
        )
        self._short: dict[str, str] = {}  # tags, deck names and sources repeat on every card

    def text(self, text: str) -> str:
        """Convert plain text (tags, deck names)."""
        if self._opencc is None:
            return text
        if len(text) <= _SHORT:
            if text not in self._short:
                self._short[text] = self._convert(text)
            return self._short[text]
        return self._convert(text)

    def _convert(self, text: str) -> str:
        assert self._opencc is not None
        # OpenCC takes C strings: it would drop everything after a NUL.
        return "\x00".join(str(self._opencc.convert(part)) for part in text.split("\x00"))

    def html(self, html: str, *, corner: bool = False) -> str:
        """Convert HTML from our renderer: markup is ASCII; protected spans are kept.
        With ``corner``, quotation marks outside code become corner brackets."""
        pieces = _PROTECTED.split(html)
        # Even pieces are convertible text, odd ones protected code.
        return "".join(
            (corner_quotes(self.text(piece)) if corner else self.text(piece))
            if index % 2 == 0
            else piece
            for index, piece in enumerate(pieces)
        )

    def html_many(self, htmls: Sequence[str], *, corner: bool = False) -> list[str]:
        """Convert several HTML fields with one OpenCC call (its per-call cost dominates)."""
        if self._opencc is None or any(_SEPARATOR in html for html in htmls):
            return [self.html(html, corner=corner) for html in htmls]
        # No phrase spans the separator, so segmentation is the same as one call per field.
        return self.html(_SEPARATOR.join(htmls), corner=corner).split(_SEPARATOR)


@functools.lru_cache(maxsize=8)
def converter(config: str, phrases: tuple[Phrase, ...]) -> Converter:
    """One converter per config and dictionary in a process (building one reads OpenCC's
    dictionaries)."""
    return Converter(config, phrases)


def convert_card(
    rendered: RenderedCard, *, config: DeckConfig, variant: Variant, phrases: tuple[Phrase, ...]
) -> Note:
    """One rendered card → its note in ``variant``: fields, tags and deck name converted.

    The deck's own text takes the variant's ``wording``; quotes and their
    attribution its ``opencc``. The HTML is not sanitized here: sanitizing is
    the last step, after conversion.
    """
    quoted = converter(variant.opencc, phrases)
    own = converter(variant.wording, phrases) if variant.wording else quoted
    corner = variant.quotation_marks == "corner"
    names = [name for name in FIELDS[rendered.kind] if name in rendered.fields]
    groups = (
        [(quoted, names)]
        if own is quoted
        else [
            (own, [n for n in names if n not in _QUOTED_FIELDS]),
            (quoted, [n for n in names if n in _QUOTED_FIELDS]),
        ]
    )
    converted: dict[str, str] = {}
    for convert, group in groups:
        fields = convert.html_many([rendered.fields[n] for n in group], corner=corner)
        converted.update(zip(group, fields, strict=True))
    converted.update(Lang=variant.name, Id=rendered.card_id)
    title = deck_title(config, variant, phrases)
    levels = [_own_text(p.strip(), own, corner) for p in rendered.subdeck.split("::") if p.strip()]
    return Note(
        card_id=rendered.card_id,
        variant=variant.name,
        kind=rendered.kind,
        fields=tuple(converted[name] for name in FIELDS[rendered.kind]),
        tags=tuple(own.text(tag) for tag in rendered.tags),
        deck="::".join([title, *levels]),
        subdeck=rendered.subdeck,
    )


def _own_text(text: str, convert: Converter, corner: bool) -> str:
    converted = convert.text(text)
    return corner_quotes(converted) if corner else converted


def deck_title(config: DeckConfig, variant: Variant, phrases: tuple[Phrase, ...]) -> str:
    """The deck's title in ``variant``'s script (and wording)."""
    if variant.title:
        return variant.title
    own = converter(variant.wording or variant.opencc, phrases)
    return _own_text(config.title, own, variant.quotation_marks == "corner")


def convert_description(html: str, *, variant: Variant, phrases: tuple[Phrase, ...]) -> str:
    """A deck description (the deck's own text, rendered) in ``variant``: its wording,
    its quotation marks."""
    own = converter(variant.wording or variant.opencc, phrases)
    return own.html(html, corner=variant.quotation_marks == "corner")


def _make_opencc(config: str, table: dict[str, str]) -> Any:
    try:
        return _build_opencc(config, table)
    except OSError as error:  # the temporary folder is full or not writable
        folder = Path(tempfile.gettempdir())
        raise DeckgenError(
            [os_problem(CANNOT_WRITE, error, folder, "write a temporary file")]
        ) from None


def _build_opencc(config: str, table: dict[str, str]) -> Any:
    import opencc

    spec = chained_spec(config, table)
    with tempfile.TemporaryDirectory(prefix="deckgen-opencc-") as tmp:
        # The wheel's binding reads dictionaries from files: write ours as text dicts.
        written: dict[int, str] = {}

        def as_file(node: Any) -> Any:
            if isinstance(node, dict) and node.get("type") == OURS:
                entries = node["table"]
                if id(entries) not in written:
                    path = Path(tmp) / f"phrases-{len(written)}.txt"
                    path.write_text(
                        "".join(f"{s}\t{t}\n" for s, t in sorted(entries.items())), "utf-8"
                    )
                    written[id(entries)] = str(path)
                return {"type": "text", "file": written[id(entries)]}
            if isinstance(node, dict):
                return {k: as_file(v) for k, v in node.items()}
            if isinstance(node, list):
                return [as_file(v) for v in node]
            return node

        path = Path(tmp) / f"{config}.json"
        path.write_text(json.dumps(as_file(spec), ensure_ascii=False), "utf-8")
        # The dictionaries are read while the converter is built; the files may go after.
        return opencc.OpenCC(str(path))


@functools.lru_cache(maxsize=1)
def simplifier() -> Callable[[str], str]:
    """OpenCC t2s, to find Traditional characters in text that should be Simplified."""
    return Converter("t2s", []).text


@functools.lru_cache(maxsize=1)
def traditionalizer() -> Callable[[str], str]:
    """OpenCC s2t, to find Simplified characters in text that should be Traditional."""
    return Converter("s2t", []).text
