"""zh-Hans text → each variant's script with OpenCC; the only opencc import.

Our phrase dictionaries are chained in front of OpenCC's own, in segmentation
and in the first conversion step, through a config generated at run time:
the Python wheel does not resolve dictionary file names in a custom config to
its bundled .ocd2 files, so every path in the generated config is absolute.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError, Location, Problem

PROTECT_OPEN = "\ue000"
"""Renderers wrap text that must not be converted (code) in these two characters."""
PROTECT_CLOSE = "\ue001"
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


def _data_file(name: str) -> Path:
    return Path(str(resources.files("deckgen") / "data" / name))


def _opencc_share_dir() -> Path:
    import opencc

    return Path(opencc.__file__).parent / "clib" / "share" / "opencc"


@functools.lru_cache(maxsize=1)
def known_configs() -> list[str]:
    """OpenCC configs that convert from Simplified (s2t, s2tw, s2twp, s2hk, ...)."""
    return sorted(p.stem for p in _opencc_share_dir().glob("s2*.json"))


def read_phrases(path: Path) -> list[Phrase]:
    """Read a phrase dictionary: ``simplified<TAB>traditional`` a line, ``#`` comments."""
    problems: list[Problem] = []
    phrases: list[Phrase] = []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DeckgenError(
            [
                Problem(
                    Location(path),
                    "DG020",
                    f"not valid UTF-8: {error.reason}",
                    "save the file as UTF-8",
                )
            ]
        ) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            problems.append(
                Problem(
                    Location(path, number),
                    "DG020",
                    f"malformed phrase entry {line!r}",
                    "write the Simplified phrase, one tab, the Traditional "
                    "phrase, e.g. 和面对<TAB>和面對",
                )
            )
            continue
        simplified, traditional = parts[0].strip(), parts[1].strip()
        if len(simplified) != len(traditional):
            problems.append(
                Problem(
                    Location(path, number),
                    "DG020",
                    f"{simplified!r} and {traditional!r} differ in length",
                    "an entry maps each character to one character",
                )
            )
            continue
        phrases.append(Phrase(simplified, traditional, Location(path, number)))
    if problems:
        raise DeckgenError(problems)
    return phrases


def load_phrases(deck_phrases: Path | None) -> list[Phrase]:
    """deckgen's built-in phrases, then the deck's (a deck entry wins over a built-in one)."""
    phrases = read_phrases(_data_file(BUILTIN_PHRASES))
    if deck_phrases is not None:
        phrases += read_phrases(deck_phrases)
    return phrases


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

    def __init__(self, config: str, phrases: list[Phrase]) -> None:
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

    def html_many(self, htmls: list[str]) -> list[str]:
        """Convert several HTML fields with one OpenCC call (its per-call cost dominates)."""
        if self._opencc is None or any(_SEPARATOR in html for html in htmls):
            return [self.html(html) for html in htmls]
        # No phrase spans the separator, so segmentation is the same as one call per field.
        return self.html(_SEPARATOR.join(htmls)).split(_SEPARATOR)


def _make_opencc(config: str, phrases: list[Phrase]) -> Any:
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
