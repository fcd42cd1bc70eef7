"""OpenCC's configs and dictionaries read as data: which word converts each character.

OpenCC's Python binding only converts; the checks need to know how it got
there. A ``Mirror`` repeats OpenCC 1.4's algorithm on the wheel's own
dictionaries (.ocd2 files are a marisa trie followed by the values, indexed by
key id): normalization, maximum-match segmentation by the segmentation
dictionary (unmatched characters merged into runs), then each conversion step
by longest match inside every segment. Groups match as OpenCC's do:
``short_circuit`` takes the first dictionary that matches, ``union`` the
longest match (the earlier dictionary on a tie). tests/test_segment.py checks
that a Mirror converts exactly as opencc does, on the shipped cards and on
random text, so a new OpenCC that converts differently fails the tests.

Our phrases are chained in here, for the Mirror and for OpenCC alike
(``chained_spec``), so that what the checks read is what the build does.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

OURS = "deckgen"
"""The dictionary name of the deck's and deckgen's phrase entries."""
_ARITY = {**dict.fromkeys(range(0x2FF0, 0x2FFE), 2), 0x2FF2: 3, 0x2FF3: 3, 0x2FFE: 1, 0x2FFF: 1}
_MAGIC = b"OPENCC_MARISA_0.2.5"
_CHARACTER_TABLES = ("STCharacters", "TSCharacters")


def share_dir() -> Path:
    """OpenCC's bundled configs and dictionaries (found without importing opencc)."""
    spec = importlib.util.find_spec("opencc")
    assert spec is not None and spec.origin is not None, "opencc is a dependency"
    return Path(spec.origin).parent / "clib" / "share" / "opencc"


def from_simplified(config: str) -> bool:
    """Whether an OpenCC config reads Simplified text (s2t, s2tw, ...)."""
    return config.startswith("s2")


def to_simplified(config: str) -> bool:
    """Whether an OpenCC config reads Traditional text and writes Simplified (t2s, tw2s, ...)."""
    return not from_simplified(config) and config.split("2")[-1] in ("s", "sp")


@functools.lru_cache(maxsize=2)
def known_configs(script: str = "zh-Hans") -> list[str]:
    """OpenCC configs that read text in ``script``: s2t, s2tw, ... for zh-Hans; t2s,
    tw2s, t2tw, ... for zh-Hant (not t2jp: Japanese is not a variant)."""
    names = sorted(p.stem for p in share_dir().glob("*.json"))
    if script == "zh-Hans":
        return [n for n in names if from_simplified(n)]
    return [n for n in names if n.split("2")[0] in ("t", "tw", "hk") and n != "t2jp"]


def target_script(config: str, script: str) -> str:
    """The script ``config`` writes when the cards are in ``script`` ("none" keeps it)."""
    if config == "none":
        return script
    return "zh-Hans" if to_simplified(config) else "zh-Hant"


@functools.cache
def read_dict(path: Path) -> dict[str, tuple[str, ...]]:
    """key → its values (the first is what OpenCC writes), from an .ocd2 file."""
    import marisa_trie

    data = path.read_bytes()
    if not data.startswith(_MAGIC):
        raise ValueError(f"{path} is not an OpenCC .ocd2 dictionary")
    trie = marisa_trie.Trie().frombytes(data[len(_MAGIC) :])
    offset = len(_MAGIC) + len(trie.tobytes())  # the values follow the trie
    count, total = struct.unpack_from("<II", data, offset)
    values, position = data[offset + 8 : offset + 8 + total], 0
    offset += 8 + total
    table = {}
    for key_id in range(count):
        (n,) = struct.unpack_from("<H", data, offset)
        sizes = struct.unpack_from(f"<{n}H", data, offset + 2)
        offset += 2 + 2 * n
        found = []
        for size in sizes:  # each value is NUL-terminated
            found.append(values[position : position + size - 1].decode())
            position += size
        table[trie.restore_key(key_id)] = tuple(found)
    return table


def character_table(name: str) -> dict[str, tuple[str, ...]]:
    """OpenCC's single-character table (``STCharacters`` or ``TSCharacters``)."""
    return read_dict(share_dir() / f"{name}.ocd2")


def chained_spec(config: str, table: Mapping[str, str]) -> dict[str, Any]:
    """OpenCC's config with our phrases (``table``: text in the cards' script → its
    converted form) chained in front of its dictionaries, in segmentation and in the
    step that converts characters between the scripts; every file path absolute.

    Our entries are written as the cards are; in a step after a regional one (tw2s
    turns 裡 into 裏 before converting to Simplified) their keys are converted by
    the steps before, so that they meet the text as OpenCC has made it by then.
    Configs that do not change script (t2tw) take no entries.
    """
    share = share_dir()
    spec: dict[str, Any] = json.loads((share / f"{config}.json").read_text("utf-8"))
    _absolutize(spec, share)
    if not table or not (from_simplified(config) or to_simplified(config)):
        return spec
    steps = spec["conversion_chain"]
    index = next((i for i, s in enumerate(steps) if _mentions(s["dict"], _CHARACTER_TABLES)), 0)
    ours = {"type": OURS, "table": dict(table)}
    if index:
        before = Mirror({"conversion_chain": steps[:index]})
        ours_there = {before.convert(k): v for k, v in table.items()}
        ours_there.update({k: v for k, v in table.items() if k not in ours_there})
        step_dict = {"type": OURS, "table": ours_there}
    else:
        step_dict = ours
    # Some configs (s2t, t2s in OpenCC 1.4) segment by their first conversion step.
    segmentation = spec.setdefault("segmentation", {"type": "mmseg", "dict": steps[0]["dict"]})
    segmentation["dict"] = _chain(ours, segmentation["dict"], "union")
    steps[index]["dict"] = _chain(step_dict, steps[index]["dict"], "short_circuit")
    if from_simplified(config):
        for step in steps[index + 1 :]:
            _guard_vocabulary(step, set(table.values()))
    return spec


def _guard_vocabulary(step: dict[str, Any], outputs: set[str]) -> None:
    """Keep a regional vocabulary step (s2twp's TWPhrases: 全局 → 全域性) off our entries'
    words, which stay as the entry says, in the step's regional forms (這裏 → 這裡)."""
    node = step["dict"]
    children = node.get("dicts", []) if node.get("type") == "group" else [node]
    vocabulary = [c for c in children if _is_vocabulary(c)]
    if not vocabulary:
        return
    rest = [c for c in children if not _is_vocabulary(c)]
    forms = Mirror({"conversion_chain": [{"dict": {**node, "dicts": rest}}]})
    guard = {"type": OURS, "table": {word: forms.convert(word) for word in sorted(outputs)}}
    step["dict"] = _chain(guard, node, "short_circuit")


def _is_vocabulary(node: dict[str, Any]) -> bool:
    stem = Path(str(node.get("file", ""))).stem
    return stem.endswith("Phrases") and "Variants" not in stem and not stem.startswith("ST")


def _mentions(node: Any, names: tuple[str, ...]) -> bool:
    if node.get("type") == "group":
        return any(_mentions(child, names) for child in node["dicts"])
    return Path(str(node.get("file", ""))).stem in names


def _chain(ours: dict[str, Any], theirs: dict[str, Any], policy: str) -> dict[str, Any]:
    chained: dict[str, Any] = {"type": "group", "match_policy": policy, "dicts": [ours, theirs]}
    return chained


def _absolutize(node: Any, share: Path) -> None:
    if isinstance(node, dict):
        if "file" in node:
            node["file"] = str(share / node["file"])
        for value in node.values():
            _absolutize(value, share)
    elif isinstance(node, list):
        for value in node:
            _absolutize(value, share)


class Match(NamedTuple):
    length: int
    values: tuple[str, ...]
    dictionary: str


class _Leaf:
    """One dictionary, or a union of several flattened into one (the earlier wins a tie)."""

    def __init__(self, table: dict[str, tuple[tuple[str, ...], str]]) -> None:
        self.table = table
        lengths: dict[str, set[int]] = {}
        for key in table:
            lengths.setdefault(key[0], set()).add(len(key))
        self.lengths = {c: sorted(found, reverse=True) for c, found in lengths.items()}

    def match(self, text: str, start: int) -> Match | None:
        for n in self.lengths.get(text[start], ()):
            found = self.table.get(text[start : start + n])
            if found is not None:
                return Match(n, *found)
        return None


class _Group:
    def __init__(self, children: list[_Leaf | _Group], union: bool) -> None:
        self.children, self.union = children, union

    def match(self, text: str, start: int) -> Match | None:
        if not self.union:
            return next((m for c in self.children if (m := c.match(text, start))), None)
        hits = [m for c in self.children if (m := c.match(text, start))]
        return max(hits, key=lambda m: m.length, default=None)  # max keeps the first


@functools.cache
def _file_leaf(file: str) -> _Leaf:
    """One of OpenCC's dictionaries, read once however many configs use it."""
    name = Path(file).stem
    return _Leaf({key: (values, name) for key, values in read_dict(Path(file)).items()})


def _build(node: dict[str, Any]) -> _Leaf | _Group:
    if node["type"] == OURS:
        return _Leaf({k: ((v,), OURS) for k, v in node["table"].items()})
    if node["type"] != "group":
        return _file_leaf(node["file"])
    children = [_build(child) for child in node["dicts"]]
    union = node.get("match_policy") == "union"
    if union and all(isinstance(c, _Leaf) for c in children):
        merged: dict[str, tuple[tuple[str, ...], str]] = {}
        for child in reversed(children):
            merged.update(child.table)  # type: ignore[union-attr]
        return _Leaf(merged)
    return _Group(children, union)


@dataclass(frozen=True)
class Token:
    """A piece of text as one conversion step matched it."""

    text: str
    converted: str
    """What the step writes (the first of ``values``)."""
    values: tuple[str, ...]
    """Every form the dictionary lists; one element if nothing matched."""
    dictionary: str | None
    """The dictionary that matched (``STPhrases``, ``STCharacters``, ``deckgen``), or None."""
    start: int
    """Its offset in the text (as written, when earlier steps keep lengths, as they do
    between the scripts)."""


class Mirror:
    """OpenCC's conversion for one config spec, step by step."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.normalization = [_build(s["dict"]) for s in spec.get("normalization", [])]
        self.steps = [_build(s["dict"]) for s in spec["conversion_chain"]]
        seg = spec.get("segmentation")
        self.segmentation = _build(seg["dict"]) if seg else None
        self._converted: dict[str, str] = {}

    def segments(self, text: str) -> list[str]:
        """OpenCC's segments: dictionary words, and runs of unmatched characters merged."""
        return [segment for segment, _ in self.words(text)]

    def words(self, text: str) -> list[tuple[str, bool]]:
        """OpenCC's segments, each with whether it is a dictionary word (not a run of
        characters no dictionary matched)."""
        for step in self.normalization:
            text = _apply(step, text)
        if self.segmentation is None:
            return [(text, False)] if text else []
        out: list[tuple[str, bool]] = []
        run, i = "", 0
        while i < len(text):
            found = self.segmentation.match(text, i)
            if found:
                if run:
                    out.append((run, False))
                out.append((text[i : i + found.length], True))
                run, i = "", i + found.length
            else:
                n = _unmatched_length(text, i)
                run, i = run + text[i : i + n], i + n
        return [*out, (run, False)] if run else out

    def tokens(self, text: str, step: int = 0) -> list[Token]:
        """What conversion step ``step`` matched, segment by segment (earlier steps applied)."""
        found, offset = [], 0
        for segment in self.segments(text):
            for earlier in self.steps[:step]:
                segment = _apply(earlier, segment)
            for source, hit in _walk(self.steps[step], segment):
                if hit is None:
                    found.append(Token(source, source, (source,), None, offset))
                else:
                    found.append(Token(source, hit.values[0], hit.values, hit.dictionary, offset))
                offset += len(source)
        return found

    def aligned(self, text: str) -> list[tuple[str, str, bool]]:
        """(segment, its conversion, whether it is a dictionary word) for every segment:
        what each part of text becomes."""
        out = []
        for segment, word in self.words(text):
            converted = self._converted.get(segment)
            if converted is None:
                converted = segment
                for step in self.steps:
                    converted = _apply(step, converted)
                if len(segment) <= 8:  # words repeat; long runs rarely do
                    self._converted[segment] = converted
            out.append((segment, converted, word))
        return out

    def convert(self, text: str) -> str:
        """What OpenCC writes for ``text``."""
        return "".join(converted for _, converted, _ in self.aligned(text))


def _walk(step: _Leaf | _Group, segment: str) -> Iterator[tuple[str, Match | None]]:
    i = 0
    while i < len(segment):
        found = step.match(segment, i)
        n = found.length if found else _unmatched_length(segment, i)
        yield segment[i : i + n], found
        i += n


def _apply(step: _Leaf | _Group, text: str) -> str:
    return "".join(m.values[0] if m else s for s, m in _walk(step, text))


def _unmatched_length(text: str, start: int) -> int:
    """1, or the length of an Ideographic Description Sequence (⿰氵发), kept whole."""
    if ord(text[start]) not in _ARITY:
        return 1
    needed, j = [1], start  # operands still needed at each nesting level
    while needed and j < len(text) and len(needed) <= 16 and j - start < 64:
        needed[-1] -= 1
        arity = _ARITY.get(ord(text[j]), 0)
        j += 1
        if arity:
            needed.append(arity)
        while needed and needed[-1] == 0:
            needed.pop()
    return j - start if not needed else 1


@functools.lru_cache(maxsize=16)
def mirror(config: str, table: tuple[tuple[str, str], ...]) -> Mirror:
    """The Mirror of ``config`` with phrase entries (text → converted form) chained in."""
    return Mirror(chained_spec(config, dict(table)))
