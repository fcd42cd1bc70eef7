"""markdown-it plugin: Anki cloze deletions ``{{c1::text}}`` / ``{{c1::text::hint}}`` as tokens.

Parsing deletions as inline syntax (like links) means emphasis and CJK
punctuation around or inside them cannot break them, and the renderer writes
the markers back exactly as Anki expects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_OPENER = re.compile(r"\{\{c([1-9][0-9]{0,2})::")
MALFORMED = re.compile(r"\{\{c[^}]*(::|\}\})|\{\{c\d")
"""What is left in text tokens when a deletion did not parse (no closing ``}}``, bad number)."""


def _find_close(src: str, start: int, limit: int) -> tuple[int, int]:
    """(end of content, position of the closing braces); the hint starts at the first ``::``,
    as in Anki, so ``{{c1::a::b::c}}`` hides "a" with the hint "b::c"."""
    close = src.find("}}", start, limit)
    if close < 0:
        return -1, -1
    hint = src.find("::", start, close)
    return (hint if hint >= 0 else close), close


def _cloze_rule(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("{{c", state.pos):
        return False
    opener = _OPENER.match(state.src, state.pos)
    if not opener:
        return False
    content_start = opener.end()
    content_end, close = _find_close(state.src, content_start, state.posMax)
    if close < 0 or content_end == content_start or "{{c" in state.src[content_start:close]:
        return False
    if not silent:
        token = state.push("cloze_open", "", 1)
        token.meta = {"number": int(opener[1]), "hint": state.src[content_end + 2 : close]}
        old_max, state.pos, state.posMax = state.posMax, content_start, content_end
        state.md.inline.tokenize(state)
        state.posMax = old_max
        state.push("cloze_close", "", -1).meta = token.meta
    state.pos = close + 2
    return True


def _render_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f"{{{{c{tokens[idx].meta['number']}::"


def _render_close(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    meta: dict[str, Any] = tokens[idx].meta
    hint = meta["hint"]
    return f"::{escapeHtml(hint)}}}}}" if hint else "}}"


def cloze_plugin(md: MarkdownIt) -> None:
    """Parse ``{{cN::…}}`` into ``cloze_open`` / ``cloze_close`` tokens."""
    md.inline.ruler.before("emphasis", "cloze", _cloze_rule)
    md.add_render_rule("cloze_open", _render_open)
    md.add_render_rule("cloze_close", _render_close)
