"""Reading markdown-it tokens: plain text, blocks, lists, cloze deletions. Used while a
card is parsed (deckgen.parse, deckgen.guards); tokens do not leave parsing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from deckgen.latex import MathCloze, split_clozes, without_clozes
from deckgen.model import BRACE, Cloze

if TYPE_CHECKING:
    from markdown_it.token import Token

MATH = ("math_inline", "math_inline_double", "math_block")
"""The token types of math."""


def walk(tokens: list[Token]) -> Iterator[Token]:
    """Every token, children after their parent."""
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def plain_text(tokens: list[Token]) -> Iterator[str]:
    """The text a reader sees: literal braces restored, math without its deletions."""
    for token in tokens:
        if token.children:
            yield from plain_text(token.children)
        elif token.type in ("text", "code_inline"):
            yield token.content.replace(BRACE, "{")
        elif token.type in MATH:
            yield without_clozes(token.content)
        elif token.type == "hardbreak":
            yield "\n"


def inline_blocks(tokens: list[Token]) -> Iterator[str]:
    """The plain text of each inline block (paragraph, heading, table cell)."""
    for token in tokens:
        if token.children:
            yield "".join(
                "\n"
                if child.type in ("softbreak", "hardbreak")
                else child.content.replace(BRACE, "{")
                for child in token.children
                if child.type in ("text", "code_inline", "softbreak", "hardbreak")
            )


def bullet_lists(tokens: list[Token]) -> Iterator[int]:
    """The number of items of each unordered list; ordered steps are not counted."""
    counts: list[int] = []
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            counts.append(0 if token.type == "bullet_list_open" else -1)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            count = counts.pop()
            if count >= 0:
                yield count
        elif token.type == "list_item_open" and counts and counts[-1] >= 0:
            counts[-1] += 1


def clozes(tokens: list[Token]) -> Iterator[Cloze]:
    """Every deletion in order, with its plain text (deletions do not nest)."""
    opened: list[tuple[int, str, list[str]]] = []
    for token in walk(tokens):
        if token.type == "cloze_open":
            opened.append((token.meta["number"], token.meta["hint"], []))
        elif token.type == "cloze_close" and opened:
            number, hint, texts = opened.pop()
            yield Cloze(number, "".join(texts), hint)
        elif opened and token.type in ("text", "code_inline", *MATH):
            opened[-1][2].append(token.content.replace(BRACE, "{"))
        elif token.type in MATH:
            parts, _ = split_clozes(token.content)
            yield from (Cloze(p.number, p.text, p.hint) for p in parts if isinstance(p, MathCloze))


def top_level_blocks(tokens: list[Token]) -> Iterator[tuple[int, int]]:
    """(first, end) indexes of each top-level block: a paragraph, a list, a quote."""
    start = 0
    depth = 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            yield start, index + 1
            start = index + 1
