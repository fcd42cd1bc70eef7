"""The one markdown-it configuration, and the render rules that turn its tokens into card HTML.

Rendering happens while a card is parsed (tokens never leave parsing), with
these rules: text is escaped with literal braces replaced by BRACE (so that
card text can never form an Anki cloze), code and math are wrapped in PROTECT
markers (so that script conversion skips them), fenced code in a language
Pygments knows is highlighted, math is written with Anki's MathJax delimiters,
and images point at their media names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from deckgen.cloze import cloze_plugin
from deckgen.latex import CLOZE_OPENER, OPEN_DOLLARS
from deckgen.model import BRACE, PROTECT_CLOSE, PROTECT_OPEN

_OPENING_DOLLAR = re.compile(r"\$(?=[^\s\d])")


@functools.lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """CommonMark with tables, strikethrough, attributes, ``::: note``, cloze, ``$`` math,
    CJK-friendly."""
    from mdit_py_cjk_friendly import cjk_friendly
    from mdit_py_plugins.attrs import attrs_block_plugin
    from mdit_py_plugins.container import container_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    # html=True so that raw HTML becomes html_* tokens we can reject by line.
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    md.use(attrs_block_plugin).use(container_plugin, name="note")
    md.use(cloze_plugin).use(cjk_friendly)
    # Pandoc's reading of $: math starts right after an opening $ and ends right before a
    # closing one not followed by a digit, so that "$5 and $10" stays text.
    md.use(
        dollarmath_plugin,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        allow_blank_lines=False,
        double_inline=True,
    )
    md.core.ruler.before("text_join", "escaped_braces", _escaped_braces)
    md.core.ruler.before("text_join", "open_dollars", _open_dollars)
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # we report bad links
    for name, rule in (
        ("text", _text),
        ("code_inline", _code_inline),
        ("code_block", _code_block),
        ("fence", _fence),
        ("math_inline", _math_inline),
        ("math_inline_double", _math_display),
        ("math_block", _math_block),
        ("image", _image),
        ("softbreak", _softbreak),
    ):
        md.add_render_rule(name, rule)
    return md


def _escaped_braces(state: StateCore) -> None:
    """Mark ``\\{`` as a literal brace (BRACE), before text_join merges it into text, so
    that no later step, the malformed-cloze check included, takes it for syntax."""
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "text_special" and child.info == "escape" and child.content == "{":
                child.content = BRACE


_CJK_QUOTES = "“”‘’"
"""Quotation marks Chinese text uses, outside the CJK blocks (the plugin's test)."""


def _softbreak(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A source line break: nothing between CJK text or punctuation on both sides, quotation
    marks included (a space would show); a newline (a space) elsewhere."""
    from mdit_py_cjk_friendly import is_cjk

    joined = is_cjk(_next_letter(tokens, idx, -1)) and is_cjk(_next_letter(tokens, idx, 1))
    return "" if joined else "\n"


def _next_letter(tokens: Sequence[Token], idx: int, step: int) -> str:
    """The character of text beside ``tokens[idx]`` in direction ``step``, looking past
    markup (emphasis, links, cloze markers) and quotation marks; "" if math, an image
    or the end comes first."""
    idx += step
    while 0 <= idx < len(tokens) and (
        tokens[idx].nesting != 0 or tokens[idx].type in ("text", "code_inline")
    ):
        text = tokens[idx].content
        text = text.rstrip(_CJK_QUOTES) if step < 0 else text.lstrip(_CJK_QUOTES)
        if text:
            return text[-1] if step < 0 else text[0]
        idx += step
    return ""


def _open_dollars(state: StateCore) -> None:
    """Record each ``$`` left in text that opens math (``$x``, ``$$``: not ``$5``), before
    text_join merges an escaped ``\\$`` into the text, where it could no longer be told
    apart."""
    for token in state.tokens:
        lines = 0
        for child in token.children or ():
            if child.type in ("softbreak", "hardbreak"):
                lines += 1
            elif child.type == "text" and _OPENING_DOLLAR.search(child.content):
                token.meta.setdefault(OPEN_DOLLARS, []).append(lines)


def _text(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return escapeHtml(tokens[idx].content).replace("{", BRACE)


def _code_inline(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f"<code>{_protect(tokens[idx].content)}</code>"


def _code_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f"<pre><code>{_protect(tokens[idx].content)}</code></pre>\n"


def _protect(code: str) -> str:
    return PROTECT_OPEN + escapeHtml(code).replace("{", BRACE) + PROTECT_CLOSE


def _fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Fenced code: highlighted at build time when Pygments knows its language."""
    from deckgen.highlight import highlight

    token = tokens[idx]
    language = fence_language(token)
    code = highlight(token.content, language) if language else None
    if code is None:
        return _code_block(self, tokens, idx, options, env)
    return f"<pre><code>{PROTECT_OPEN}{code.replace('{', BRACE)}{PROTECT_CLOSE}</code></pre>\n"


def fence_language(token: Token) -> str:
    """A fence's language: the first word of its info string (```` ```python ````)."""
    words = unescapeAll(token.info).split()
    return words[0] if words else ""


def _math_inline(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _math(tokens[idx].content, "\\(", "\\)")


def _math_display(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _math(tokens[idx].content, "\\[", "\\]")


def _math_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return "<p>" + _math(tokens[idx].content, "\\[", "\\]") + "</p>\n"


def _math(tex: str, opener: str, closer: str) -> str:
    """Math as Anki's MathJax reads it, protected from conversion: escaped HTML, every
    brace a literal one (BRACE) except the markers of a deletion inside the math."""
    pieces = CLOZE_OPENER.split(escapeHtml(tex.strip()))
    # split() puts each opener's number between the pieces around it.
    body = "".join(
        piece.replace("{", BRACE) if index % 2 == 0 else f"{{{{c{piece}::"
        for index, piece in enumerate(pieces)
    )
    return f"{PROTECT_OPEN}{opener}{body}{closer}{PROTECT_CLOSE}"


def _image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    name = env["media"][str(token.attrs["src"])]
    alt = escapeHtml(self.renderInlineAsText(token.children or [], options, env))
    return f'<img src="{name}" alt="{alt.replace("{", BRACE)}">'


def render_html(tokens: Sequence[Token], env: EnvType) -> str:
    """Block tokens (or, if they are inline children, inline tokens) → HTML."""
    md = markdown_parser()
    renderer = md.renderer
    assert isinstance(renderer, RendererHTML)
    if tokens and tokens[0].block:
        return renderer.render(tokens, md.options, env)
    return renderer.renderInline(tokens, md.options, env)


def render_markdown(text: str) -> str:
    """A standalone Markdown text (a deck's description) → HTML, with the card rules."""
    return render_html(markdown_parser().parse(text, {"media": {}}), {"media": {}})
