"""The one markdown-it configuration, and the render rules that turn its tokens into card HTML.

Rendering happens while a card is parsed (tokens never leave parsing), with
these rules: text is escaped with literal braces replaced by BRACE (so that
card text can never form an Anki cloze), code is wrapped in PROTECT markers
(so that script conversion skips it), and images point at their media names.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from deckgen.cloze import cloze_plugin
from deckgen.model import BRACE, PROTECT_CLOSE, PROTECT_OPEN


@functools.lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """CommonMark with tables, strikethrough, attributes, ``::: note``, cloze, CJK-friendly."""
    from mdit_py_cjk_friendly import cjk_friendly
    from mdit_py_plugins.attrs import attrs_block_plugin
    from mdit_py_plugins.container import container_plugin

    # html=True so that raw HTML becomes html_* tokens we can reject by line.
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    md.use(attrs_block_plugin).use(container_plugin, name="note")
    md.use(cloze_plugin).use(cjk_friendly)
    md.core.ruler.before("text_join", "escaped_braces", _escaped_braces)
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # we report bad links
    for name, rule in (
        ("text", _text),
        ("code_inline", _code_inline),
        ("code_block", _code_block),
        ("fence", _code_block),
        ("image", _image),
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
