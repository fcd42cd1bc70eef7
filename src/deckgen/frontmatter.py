"""A card file's front matter (``deck:`` and ``tags:`` between ``---`` lines) → FrontMatter.

YAML is read with a safe loader that refuses aliases and anchors: front matter
never needs them, and a few hundred bytes of nested aliases would otherwise
expand into gigabytes.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.errors import Problem, Rule, Severity, brief, shown
from deckgen.model import is_tag, name_problem

BAD_FRONT_MATTER = Rule("DG012", Severity.ERROR, "front matter is not valid or has an unknown key")
BAD_TAGS = Rule("DG013", Severity.ERROR, "tags are not words")
RULES = (BAD_FRONT_MATTER, BAD_TAGS)
KEYS = ("deck", "tags")
MAX_BYTES = 16 * 1024


@dataclass(frozen=True)
class FrontMatter:
    """What a file's front matter gives every card in it."""

    subdeck: str = ""
    tags: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=(), compare=False)


def split_front_matter(lines: list[str]) -> int:
    """How many lines the front matter takes at the start of ``lines`` (0 if none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return number + 1
    return 0  # never closed: it is not front matter, and the text says so when parsed


def read_front_matter(path: Path, lines: list[str]) -> FrontMatter:
    """Read the front matter lines (with their ``---`` fences) of one file."""
    import yaml

    problems: list[Problem] = []

    def problem(rule: Rule, line: int, message: str, hint: str) -> None:
        problems.append(rule.at_line(path, line, message, hint))

    def key_line(key: str) -> int:
        for offset, text in enumerate(lines[1:-1], start=2):
            if text.startswith(f"{key}:"):
                return offset
        return 2

    content = "\n".join(lines[1:-1])
    if len(content.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        problem(
            BAD_FRONT_MATTER, 1, "front matter is too long", "it holds only 'deck:' and 'tags:'"
        )
        return FrontMatter(problems=tuple(problems))
    try:
        data = yaml.load(content, Loader=_loader())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = 2 + mark.line if mark is not None else 1
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        problem(
            BAD_FRONT_MATTER,
            line,
            f"front matter is not valid YAML: {brief(reason)}",
            "front matter holds 'deck: name' and 'tags: [a, b]' between '---' lines",
        )
        return FrontMatter(problems=tuple(problems))
    if data is None:
        return FrontMatter()
    if not isinstance(data, dict):
        problem(
            BAD_FRONT_MATTER,
            2,
            "front matter must be 'key: value' lines",
            "e.g. 'deck: 核心能力' and 'tags: [整合]'",
        )
        return FrontMatter(problems=tuple(problems))
    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            problem(
                BAD_FRONT_MATTER,
                key_line(str(key)),
                f"unknown front matter key {shown(key)}",
                f"did you mean '{close[0]}'?" if close else "allowed keys: deck, tags",
            )
    subdeck = data.get("deck", "")
    parts = subdeck.split("::") if isinstance(subdeck, str) and subdeck else []
    if not isinstance(subdeck, str) or any(not _plain(part.strip()) for part in parts):
        parts = []
        problem(
            BAD_FRONT_MATTER,
            key_line("deck"),
            f"'deck' must be a subdeck name like 核心能力::整合, got {brief(repr(subdeck))}",
            "write one name, '::' between levels: deck: 核心能力::整合",
        )
        subdeck = ""
    tags = data.get("tags", [])
    if isinstance(tags, str):
        tags = tags.split()
    if not isinstance(tags, list) or not all(
        isinstance(t, str) and _plain(t) and is_tag(t) for t in tags
    ):
        problem(
            BAD_TAGS,
            key_line("tags"),
            f"tags must be words without spaces, '<' or '>', got {brief(repr(tags))}",
            'write tags: [结果导向, 整合] (front matter) or tags="a b" (card)',
        )
        tags = []
    return FrontMatter("::".join(p.strip() for p in parts), tuple(tags), tuple(problems))


def _plain(text: str) -> bool:
    """Printable text that UTF-8 can hold (YAML escapes can make lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(text) and not name_problem(text)


@functools.cache
def _loader() -> Any:
    """yaml's safe loader, refusing anchors and aliases (made on first use: yaml loads late)."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise yaml.composer.ComposerError(
                    None, None, "anchors and aliases (& and *) are not allowed", event.start_mark
                )
            return super().compose_node(parent, index)

    return Loader
