"""Fenced code → highlighted HTML at build time: Pygments' tokens as spans with its short
class names (``<span class="k">def</span>``), coloured by the note type's CSS.

No JavaScript runs on a card: the colours are in the HTML and the stylesheet, so every
Anki client shows them offline. Only the short names of Pygments' standard token types
are written (a custom subtype is given its standard parent's name), so that the
sanitizer can allow exactly those classes and nothing else.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any

from markdown_it.common.utils import escapeHtml

_PLAIN = frozenset({"", "w", "n", "p", "err"})
"""Classes written as plain text: text, whitespace, plain names and punctuation, which no
palette colours (fewer spans, smaller notes), and what the lexer could not read (a Chinese
identifier in SQL is no error to a reader)."""


@functools.cache
def span_classes() -> frozenset[str]:
    """Every class a highlighted block can carry: the sanitizer's allowlist for spans."""
    from pygments.token import STANDARD_TYPES

    return frozenset(STANDARD_TYPES.values()) - _PLAIN


@functools.cache
def _lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        # Keep the code as written: no newlines stripped or added.
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def known_language(language: str) -> bool:
    """Whether Pygments has a lexer for this fence language (``python``, ``sql``, ``text``)."""
    return _lexer(language) is not None


def closest_language(language: str) -> str | None:
    """The Pygments language name most like a misspelt one, if any is close."""
    close = difflib.get_close_matches(language.lower(), _aliases(), n=1, cutoff=0.75)
    return close[0] if close else None


@functools.cache
def _aliases() -> list[str]:
    from pygments.lexers import get_all_lexers

    return sorted({alias for _, aliases, _, _ in get_all_lexers() for alias in aliases})


def highlight(code: str, language: str) -> str | None:
    """``code`` as escaped HTML with class-named spans, or None if Pygments does not know
    ``language`` (or would change the code's text, which it then must not)."""
    lexer = _lexer(language)
    if lexer is None:
        return None
    runs: list[tuple[str, str]] = []  # (class, text), neighbours of one class merged
    for token_type, value in lexer.get_tokens(code):
        name = _css_class(token_type)
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + value)
        elif value:
            runs.append((name, value))
    if "".join(text for _, text in runs) != code:
        return None
    return "".join(
        escapeHtml(text) if name in _PLAIN else f'<span class="{name}">{escapeHtml(text)}</span>'
        for name, text in runs
    )


@functools.cache
def _css_class(token_type: Any) -> str:
    from pygments.token import STANDARD_TYPES

    while token_type not in STANDARD_TYPES:
        token_type = token_type.parent
    name: str = STANDARD_TYPES[token_type]
    return name
