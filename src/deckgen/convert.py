"""Rendered cards in zh-Hans → each variant's note fields with OpenCC; the only opencc import.

Our phrase dictionaries are chained in front of OpenCC's own, in segmentation
and in the first conversion step, through a config generated at run time:
the Python wheel does not resolve dictionary file names in a custom config to
its bundled .ocd2 files, so every path in the generated config is absolute.
A phrase entry is text: its Traditional side must be a plausible Traditional
form of its Simplified side, so that a dictionary can never inject markup.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
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

BAD_PHRASE = Rule("DG020", Severity.ERROR, "phrase dictionary entry is malformed")
RULES = (BAD_PHRASE,)
_PROTECTED = re.compile(f"{PROTECT_OPEN}(.*?){PROTECT_CLOSE}", re.DOTALL)
BUILTIN_PHRASES = "builtin-phrases.txt"
_SEPARATOR = "\ue003"
_SHORT = 64


@dataclass(frozen=True)
class Phrase:
    """One entry of a phrase dictionary."""

    simplified: str
    traditional: str
    location: Location


def engine_version() -> str:
    """OpenCC's version: part of what every converted card depends on."""
    return metadata.version("opencc")


def _data_file(name: str) -> Path:
    return Path(str(resources.files("deckgen") / "data" / name))


def _opencc_share_dir() -> Path:
    import opencc

    return Path(opencc.__file__).parent / "clib" / "share" / "opencc"


@functools.lru_cache(maxsize=1)
def known_configs() -> list[str]:
    """OpenCC configs that convert from Simplified (s2t, s2tw, s2twp, s2hk, ...)."""
    return sorted(p.stem for p in _opencc_share_dir().glob("s2*.json"))


def _entry_problem(simplified: str, traditional: str) -> str:
    """Why an entry is not a Simplified phrase and a Traditional form of it, or ""."""
    for side in (simplified, traditional):
        if any(c.isspace() for c in side):
            return "has a space: an entry is one phrase, a tab, one phrase"
        if any(not _is_word_character(c) for c in side):
            odd = next(c for c in side if not _is_word_character(c))
            return f"has {shown(odd)}, which is not part of a Chinese phrase"
    if len(simplified) != len(traditional):
        return "the two phrases differ in length: an entry maps each character to one character"
    if simplifier()(traditional) != simplifier()(simplified):
        return "the Traditional side is not a Traditional form of the Simplified side"
    return ""


def _is_word_character(char: str) -> bool:
    # Letters, digits and CJK punctuation (》里 is a phrase); never ASCII punctuation,
    # which is what markup is made of.
    category = unicodedata.category(char)
    return category[0] in "LN" or (not char.isascii() and category[0] == "P")


def read_phrases(path: Path, *, inside: Path | None = None) -> list[Phrase]:
    """Read a phrase dictionary: ``simplified<TAB>traditional`` a line, ``#`` comments."""
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
                    where,
                    f"malformed phrase entry {shown(line)}",
                    "write the Simplified phrase, one tab, the Traditional "
                    "phrase, e.g. 和面对<TAB>和面對",
                )
            )
            continue
        simplified, traditional = parts
        if why := _entry_problem(simplified, traditional):
            problems.append(
                BAD_PHRASE.at(
                    where,
                    f"phrase entry {shown(simplified)} → {shown(traditional)}: {why}",
                    "write the Simplified phrase, one tab, the Traditional phrase (same "
                    "characters in Traditional form), e.g. 和面对<TAB>和面對",
                )
            )
            continue
        phrases.append(Phrase(simplified, traditional, where))
    if problems:
        raise DeckgenError(problems)
    return phrases


def _as_phrase_problem(problem: Problem) -> Problem:
    if problem.code == "DG002":
        return BAD_PHRASE.at(problem.location, problem.message, problem.hint)
    return problem


def load_phrases(config: DeckConfig | None) -> tuple[Phrase, ...]:
    """deckgen's built-in phrases, then the deck's (a deck entry wins over a built-in one)."""
    phrases = read_phrases(_data_file(BUILTIN_PHRASES))
    if config is not None and config.phrases is not None:
        phrases += read_phrases(config.phrases, inside=config.folder)
    return tuple(phrases)


@functools.lru_cache(maxsize=1)
def ambiguous_characters() -> dict[str, str]:
    """Simplified character → its Traditional candidates, from data/ambiguous.txt."""
    table: dict[str, str] = {}
    for line in _data_file("ambiguous.txt").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            char, candidates = line.split("\t")
            table[char] = candidates
    return table


def find_ambiguities(text: str, phrases: Iterable[Phrase]) -> Iterator[tuple[int, str]]:
    """(offset, character) for each ambiguous character in text that no phrase covers."""
    table = ambiguous_characters()
    covered: set[int] = set()
    for phrase in phrases:
        start = text.find(phrase.simplified)
        while start >= 0:
            covered.update(range(start, start + len(phrase.simplified)))
            start = text.find(phrase.simplified, start + 1)
    for offset, char in enumerate(text):
        if char in table and offset not in covered:
            yield offset, char


class Converter:
    """Converts rendered HTML or plain text from zh-Hans to one variant's script."""

    def __init__(self, config: str, phrases: Sequence[Phrase]) -> None:
        self.config = config
        self._opencc = None if config == "none" else _make_opencc(config, phrases)
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

    def html(self, html: str) -> str:
        """Convert HTML from our renderer: markup is ASCII; protected spans are kept."""
        if self._opencc is None:
            return html.replace(PROTECT_OPEN, "").replace(PROTECT_CLOSE, "")
        pieces = _PROTECTED.split(html)
        # Even pieces are convertible text, odd ones protected code.
        return "".join(
            self.text(piece) if index % 2 == 0 else piece for index, piece in enumerate(pieces)
        )

    def html_many(self, htmls: Sequence[str]) -> list[str]:
        """Convert several HTML fields with one OpenCC call (its per-call cost dominates)."""
        if self._opencc is None or any(_SEPARATOR in html for html in htmls):
            return [self.html(html) for html in htmls]
        # No phrase spans the separator, so segmentation is the same as one call per field.
        return self.html(_SEPARATOR.join(htmls)).split(_SEPARATOR)


@functools.lru_cache(maxsize=8)
def converter(config: str, phrases: tuple[Phrase, ...]) -> Converter:
    """One converter per config and dictionary in a process (building one reads OpenCC's
    dictionaries)."""
    return Converter(config, phrases)


def convert_card(
    rendered: RenderedCard, *, config: DeckConfig, variant: Variant, phrases: tuple[Phrase, ...]
) -> Note:
    """One rendered card → its note in ``variant``: fields, tags and deck name converted.

    The HTML is not sanitized here: sanitizing is the last step, after conversion.
    """
    convert = converter(variant.opencc, phrases)
    names = [name for name in FIELDS[rendered.kind] if name in rendered.fields]
    converted = dict(
        zip(names, convert.html_many([rendered.fields[n] for n in names]), strict=True)
    )
    converted.update(Lang=variant.name, Id=rendered.card_id)
    title = variant.title or convert.text(config.title)
    levels = [convert.text(p.strip()) for p in rendered.subdeck.split("::") if p.strip()]
    return Note(
        card_id=rendered.card_id,
        variant=variant.name,
        kind=rendered.kind,
        fields=tuple(converted[name] for name in FIELDS[rendered.kind]),
        tags=tuple(convert.text(tag) for tag in rendered.tags),
        deck="::".join([title, *levels]),
        subdeck=rendered.subdeck,
    )


def deck_title(config: DeckConfig, variant: Variant, phrases: tuple[Phrase, ...]) -> str:
    """The deck's title in ``variant``'s script."""
    return variant.title or converter(variant.opencc, phrases).text(config.title)


def _make_opencc(config: str, phrases: Sequence[Phrase]) -> Any:
    try:
        return _build_opencc(config, phrases)
    except OSError as error:  # the temporary folder is full or not writable
        folder = Path(tempfile.gettempdir())
        raise DeckgenError(
            [os_problem(CANNOT_WRITE, error, folder, "write a temporary file")]
        ) from None


def _build_opencc(config: str, phrases: Sequence[Phrase]) -> Any:
    import opencc

    share = _opencc_share_dir()
    spec = json.loads((share / f"{config}.json").read_text("utf-8"))
    _absolutize(spec, share)
    with tempfile.TemporaryDirectory(prefix="deckgen-opencc-") as tmp:
        ours = Path(tmp) / "phrases.txt"
        # Later entries win: deck phrases override built-in ones.
        table = {p.simplified: p.traditional for p in phrases}
        ours.write_text("".join(f"{s}\t{t}\n" for s, t in sorted(table.items())), "utf-8")
        ours_dict = {"type": "text", "file": str(ours)}
        if table:
            first = spec["conversion_chain"][0]
            # Some configs (s2t in OpenCC 1.4) segment by their first conversion step.
            segmentation = spec.setdefault("segmentation", {"type": "mmseg", "dict": first["dict"]})
            segmentation["dict"] = _chain(ours_dict, segmentation["dict"], "union")
            first["dict"] = _chain(ours_dict, first["dict"], "short_circuit")
        path = Path(tmp) / f"{config}.json"
        path.write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
        # The dictionaries are read while the converter is built; the files may go after.
        return opencc.OpenCC(str(path))


def _chain(ours: dict[str, Any], theirs: dict[str, Any], policy: str) -> dict[str, Any]:
    return {"type": "group", "match_policy": policy, "dicts": [ours, theirs]}


def _absolutize(node: Any, share: Path) -> None:
    if isinstance(node, dict):
        if "file" in node:
            node["file"] = str(share / node["file"])
        for value in node.values():
            _absolutize(value, share)
    elif isinstance(node, list):
        for value in node:
            _absolutize(value, share)


@functools.lru_cache(maxsize=1)
def simplifier() -> Callable[[str], str]:
    """OpenCC t2s, to find Traditional characters in text that should be Simplified."""
    return Converter("t2s", []).text
