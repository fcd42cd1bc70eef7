"""LaTeX math in cards: what Anki's MathJax is given, what it would reject, and MathML for
the preview.

Cards write ``$…$`` and ``$$…$$``; notes hold Anki's own delimiters ``\\(…\\)`` and
``\\[…\\]``, which every Anki client typesets offline with its bundled MathJax. A cloze
inside math is read as Anki reads it: it ends at the first ``}}``. The preview has no
MathJax: it shows MathML made here (Chromium draws MathML natively), sanitized, since
latex2mathml copies ``\\text{…}`` into its output as it is.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

OPEN_DOLLARS = "open_dollars"
"""An inline token's meta key (set by deckgen.markdown): the line offsets (soft breaks
before) of each ``$`` that opens math never closed."""

CLOZE_OPENER = re.compile(r"\{\{c([1-9][0-9]{0,2})::")
"""A deletion's opening marker, as the cloze plugin reads it (numbers 1 to 999)."""
_PAIRED = re.compile(r"\\(?:begin|end)\{([^{}]*)\}|\\(left|right)(?![A-Za-z])|\\.|[{}]", re.DOTALL)
"""What must pair up in TeX: environments, \\left/\\right, braces (an escaped character,
``\\{`` included, is read and skipped)."""


@dataclass(frozen=True)
class MathCloze:
    """A deletion inside math: ``{{cN::text::hint}}`` up to the first ``}}``, as in Anki."""

    number: int
    text: str
    hint: str


def split_clozes(tex: str) -> tuple[list[str | MathCloze], str]:
    """The math as text runs and deletions, and why a deletion is malformed ("" if none).

    Anki ends a deletion at the first ``}}``, so ``{{c1::\\frac{1}{2}}}`` would end inside
    the fraction: a deletion whose braces do not balance is malformed (write a space
    before the ``}}``, which TeX ignores).
    """
    parts: list[str | MathCloze] = []
    position = 0
    for opener in CLOZE_OPENER.finditer(tex):
        if opener.start() < position:
            continue
        end = tex.find("}}", opener.end())
        if end < 0:
            return parts, f"{tex[opener.start() : opener.end()]}… is never closed with }}}}"
        content = tex[opener.end() : end]
        text, _, hint = content.partition("::")
        if not text.strip():
            return parts, f"{tex[opener.start() : end + 2]} deletes nothing"
        if "{{c" in text:
            return parts, "deletions inside math cannot be nested"
        if why := unbalanced(text):
            return parts, (
                f"{tex[opener.start() : end + 2]} ends at the first }}}}, inside the math ({why})"
            )
        parts += [tex[position : opener.start()], MathCloze(int(opener[1]), text, hint)]
        position = end + 2
    parts.append(tex[position:])
    return parts, ""


def without_clozes(tex: str) -> str:
    """The math as the back of the card shows it: each deletion replaced by its text."""
    parts, _ = split_clozes(tex)
    return "".join(part if isinstance(part, str) else part.text for part in parts)


def unbalanced(tex: str) -> str:
    """What does not pair up in the math: braces, ``\\left``/``\\right``, environments;
    "" if everything does. ``\\{`` and ``\\}`` are literal braces."""
    braces = 0
    stack: list[str] = []
    for match in _PAIRED.finditer(tex):
        token, environment = match[0], match[1]
        if token in "{}":
            braces += 1 if token == "{" else -1
            if braces < 0:
                return "a '}' closes no '{'"
        elif environment is not None:
            opener = f"\\begin{{{environment}}}"
            if token.startswith("\\begin"):
                stack.append(opener)
            elif not stack:
                return f"{token} has no {opener} before it"
            elif (open_ := stack.pop()) != opener:
                return f"{token} does not close {open_}"
        elif match[2] == "left":
            stack.append("\\left")
        elif match[2] == "right" and (not stack or stack.pop() != "\\left"):
            return "a \\right has no \\left before it"
    if braces:
        return "a '{' is never closed"
    return f"{stack[-1]} is never closed" if stack else ""


# Anki's reading of MathJax in a card (rslib cloze.rs): "\(" or "\[", then the shortest run
# to "\)" or "\]". In HTML it is text, so it never contains a tag here.
_MATHJAX = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>|\\([(\[])([^<]*?)\\([)\]])", re.DOTALL)
_TAGS = re.compile(r"<!--.*?-->|<.*?>", re.DOTALL)


def strip_html_inside_math(html_text: str) -> str:
    """Tags removed between MathJax delimiters, as Anki's cloze filter does (a deletion
    inside math shows as plain text in the math, never as a coloured span)."""

    def strip(match: re.Match[str]) -> str:
        return match[1] + _TAGS.sub("", match[2]) + match[3]

    return re.sub(r"(\\[(\[])(.*?)(\\[)\]])", strip, html_text, flags=re.DOTALL)


def typeset(html_text: str) -> str:
    """Every ``\\(…\\)`` and ``\\[…\\]`` in the text of some HTML (never in a tag) replaced
    by MathML: the preview's stand-in for MathJax."""

    def replace(match: re.Match[str]) -> str:
        if match[1] is None:
            return match[0]  # a tag: attributes are never math
        display = "block" if match[1] == "[" else "inline"
        return _mathml(html.unescape(match[2]).strip(), display)

    return _MATHJAX.sub(replace, html_text)


_MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "mfrac", "msqrt", "mroot",
    "msup", "msub", "msubsup", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "merror", "semantics", "annotation",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "math": {"display"},
    "mi": {"mathvariant"},
    "mo": {"stretchy", "fence", "separator", "lspace", "rspace", "form", "movablelimits"},
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "mspace": {"width"},
    "mfrac": {"linethickness"},
    "mtable": {"columnalign", "rowspacing", "columnspacing"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "menclose": {"notation"},
}


@functools.lru_cache(maxsize=1024)
def _mathml(tex: str, display: str) -> str:
    import latex2mathml.converter
    import nh3

    try:
        mathml = latex2mathml.converter.convert(tex, display=display)
    except Exception:  # latex2mathml raises many types; the preview shows the TeX instead
        return f'<span class="math-error">{html.escape(tex)}</span>'
    # latex2mathml copies \text{…} into its output as it is: sanitize like any field.
    return str(nh3.clean(mathml, tags=_MATHML_TAGS, attributes=_MATHML_ATTRIBUTES))
