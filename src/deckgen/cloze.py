"""markdown-it plugin: Anki cloze deletions ``{{c1::text}}`` / ``{{c1::text::hint}}`` as tokens.

Parsing deletions as inline syntax (like links) means emphasis and CJK
punctuation around or inside them cannot break them, and the renderer writes
the markers back exactly as Anki expects. Every search here is bounded or
indexed, so that text full of ``{{c`` costs linear time.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # markdown-it is imported only where cards are parsed
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

_OPENER = re.compile(r"\{\{c([1-9][0-9]{0,2})::")
_MALFORMED_WINDOW = 40
"""How far after ``{{c`` a malformed deletion's ``::`` or ``}}`` is looked for: a bound,
so that text full of ``{{c`` costs linear time."""


def malformed(text: str) -> str | None:
    """What is left of a deletion that did not parse (no closing ``}}``, no number, …),
    in text that markdown-it kept as text; None if there is none."""
    start = text.find("{{c")
    while start >= 0:
        body = text[start + 3 : start + 3 + _MALFORMED_WINDOW].split("}", 1)[0]
        end = start + 3 + len(body)
        if text.startswith("}}", end):
            return text[start : end + 2]
        if "::" in body:
            return text[start : start + 3 + body.rindex("::") + 2]
        if body[:1].isdigit():
            return text[start : start + 4]
        start = text.find("{{c", start + 3)
    return None


class _Index:
    """Positions of ``}}`` and ``{{c`` in one inline source, found once."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.closes = [m.start() for m in re.finditer(r"\}\}", src)]
        self.openers = [m.start() for m in re.finditer(r"\{\{c", src)]

    def close_after(self, start: int, limit: int) -> int:
        at = bisect.bisect_left(self.closes, start)
        if at < len(self.closes) and self.closes[at] < limit:
            return self.closes[at]
        return -1

    def opener_between(self, start: int, end: int) -> bool:
        at = bisect.bisect_left(self.openers, start)
        return at < len(self.openers) and self.openers[at] < end


def _index(state: StateInline) -> _Index:
    index: _Index | None = state.env.get("_cloze_index")
    if index is None or index.src is not state.src:
        index = state.env["_cloze_index"] = _Index(state.src)
    return index


def _cloze_rule(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("{{c", state.pos):
        return False
    opener = _OPENER.match(state.src, state.pos)
    if not opener:
        return False
    index = _index(state)
    content_start = opener.end()
    close = index.close_after(content_start, state.posMax)
    if close < 0 or close == content_start or index.opener_between(content_start, close):
        return False
    # The hint starts at the first "::", as in Anki: {{c1::a::b::c}} hides "a", hint "b::c".
    hint = state.src.find("::", content_start, close)
    content_end = hint if hint >= 0 else close
    if content_end == content_start:
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
    from markdown_it.common.utils import escapeHtml

    meta: dict[str, Any] = tokens[idx].meta
    hint = meta["hint"]
    return f"::{escapeHtml(hint)}}}}}" if hint else "}}"


def cloze_plugin(md: MarkdownIt) -> None:
    """Parse ``{{cN::…}}`` into ``cloze_open`` / ``cloze_close`` tokens."""
    md.inline.ruler.before("emphasis", "cloze", _cloze_rule)
    md.add_render_rule("cloze_open", _render_open)
    md.add_render_rule("cloze_close", _render_close)
