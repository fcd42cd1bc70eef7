"""Card fields → sanitized HTML, rendered once in the cards' script.

Code is wrapped in PROTECT_OPEN/PROTECT_CLOSE so that script conversion skips
it; literal braces become a private-use placeholder that is turned into
``&#123;`` after sanitizing, so that text can never form an Anki cloze.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from deckgen.convert import PROTECT_CLOSE, PROTECT_OPEN
from deckgen.model import Card, Field, Kind, Source
from deckgen.parse import markdown_parser

BRACE = "\ue002"
"""Stands for a literal ``{`` between rendering and sanitizing."""

_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "img",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}


@dataclass(frozen=True)
class Media:
    """An image packaged under a content-hashed name."""

    name: str
    path: Path


@dataclass(frozen=True)
class RenderedCard:
    """A card's note fields as HTML in the cards' script, before conversion."""

    card: Card
    fields: dict[str, str]
    """Front/Back (or Text/Context for cloze), Quote, Note."""
    media: tuple[Media, ...]


def media_name(path: Path) -> str:
    """Content-hashed media name: the same image always gets the same name."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"deckgen-{digest}{path.suffix.lower()}"


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


@functools.lru_cache(maxsize=1)
def _renderer() -> RendererHTML:
    renderer = RendererHTML(markdown_parser())
    base = markdown_parser().renderer
    assert isinstance(base, RendererHTML)
    renderer.rules.update(base.rules)
    for name, rule in (
        ("text", _text),
        ("code_inline", _code_inline),
        ("image", _image),
        ("code_block", _code_block),
        ("fence", _code_block),
    ):
        renderer.rules[name] = rule.__get__(renderer)
    return renderer


def render_tokens(tokens: Sequence[Token], env: EnvType) -> str:
    """Render block tokens (or, if they are inline children, inline tokens) to HTML."""
    renderer = _renderer()
    options = markdown_parser().options
    if tokens and tokens[0].block:
        return renderer.render(tokens, options, env)
    return renderer.renderInline(tokens, options, env)


def sanitize(html: str) -> str:
    """Keep only allowlisted tags and attributes, then restore literal braces."""
    import nh3

    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
    )
    return clean.replace(BRACE, "&#123;")


def render_field(part: Field, env: EnvType) -> str:
    """One card part → sanitized HTML (markers for code kept for conversion)."""
    return sanitize(render_tokens(part.tokens, env)).strip()


def render_source(source: Source) -> str:
    """The attribution shown under every quote, linked to the source when it has a URL."""
    title = escapeHtml(f"《{source.title}》")
    if source.url.startswith(("https://", "http://")):
        title = f'<a href="{escapeHtml(source.url)}">{title}</a>'
    return f"{escapeHtml(source.author)}{title}，{escapeHtml(source.site)}"


def render_card(card: Card) -> RenderedCard:
    """Render one card's parts to HTML fields."""
    media = tuple(Media(media_name(image.path), image.path) for image in card.images)
    env: EnvType = {
        "media": {image.src: m.name for image, m in zip(card.images, media, strict=True)}
    }
    question = render_field(card.question, env)
    answer = render_field(card.answer, env)
    quotes = "".join(f"<blockquote>{render_field(q, env)}</blockquote>" for q in card.quotes)
    note = render_field(card.note, env) if card.note else ""
    if card.kind is Kind.CLOZE:
        fields = {"Text": answer, "Context": question}
    else:
        fields = {"Front": question, "Back": answer}
    fields.update(Quote=quotes, Note=note)
    return RenderedCard(card=card, fields=fields, media=media)
