"""Anki's card template language, the part deckgen's templates use: fields, sections, cloze.

The preview renders cards with it, so that no Anki is needed at preview time;
tests compare its output with Anki's own rendering of the same notes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Anki: the content ends at the first "::"; everything after it up to "}}" is the hint.
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
# Anki counts a field holding only whitespace, <br> or <div> tags as empty.
_EMPTY = re.compile(r"(?:[ \t\n\r\f\v]|</?(?:br|div) ?/?>)*", re.IGNORECASE)


class TemplateError(ValueError):
    """A card template uses syntax this renderer (and so the preview) does not know."""


def render_template(
    template: str,
    fields: Mapping[str, str],
    *,
    tags: Sequence[str] = (),
    ordinal: int = 1,
    answer: bool = False,
    front_side: str = "",
) -> str:
    """Render an Anki card template: {{Field}}, {{#F}}/{{^F}}…{{/F}}, {{cloze:F}}, {{Tags}}.

    ordinal is the cloze number of the card (1 for the first card); answer
    reveals the active deletions; front_side is what {{FrontSide}} shows.
    """
    special = {"Tags": " ".join(sorted(tags, key=str.casefold)), "FrontSide": front_side}

    def value(name: str) -> str:
        if name in fields:
            return fields[name]
        if name in special:
            return special[name]
        raise TemplateError(f"unknown field {{{{{name}}}}}")

    out: list[str] = []
    sections: list[tuple[str, bool]] = []
    position = 0
    for match in _TAG.finditer(template):
        shown = all(on for _, on in sections)
        if shown:
            out.append(template[position : match.start()])
        position = match.end()
        tag = match[1].strip()
        if tag[:1] in ("#", "^"):
            name = tag[1:].strip()
            filled = not _EMPTY.fullmatch(value(name))
            sections.append((name, filled == (tag[0] == "#")))
        elif tag[:1] == "/":
            if not sections or sections[-1][0] != tag[1:].strip():
                raise TemplateError(f"{{{{{tag}}}}} closes no open section")
            sections.pop()
        elif shown:
            filter_name, _, name = tag.rpartition(":")
            if filter_name == "cloze":
                out.append(_cloze(value(name.strip()), ordinal, answer))
            elif filter_name:
                raise TemplateError(f"filter {filter_name!r} is not supported by the preview")
            else:
                out.append(value(name))
    if sections:
        raise TemplateError(f"{{{{#{sections[-1][0]}}}}} is never closed")
    out.append(template[position:])
    return "".join(out)


def _cloze(text: str, ordinal: int, answer: bool) -> str:
    """Anki's cloze filter: the card's deletions blank (or revealed), the others shown; inside
    MathJax delimiters, the spans it made are stripped again, as Anki does."""
    from deckgen.latex import strip_html_inside_math

    return strip_html_inside_math(_reveal(text, ordinal, answer))


def _reveal(text: str, ordinal: int, answer: bool) -> str:

    def replace(match: re.Match[str]) -> str:
        number, content, hint = int(match[1]), match[2], match[3]
        if number != ordinal:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{content}</span>'
        if answer:
            return f'<span class="cloze" data-ordinal="{number}">{content}</span>'
        return (
            f'<span class="cloze" data-cloze="{_attribute(content)}" '
            f'data-ordinal="{number}">[{hint or "..."}]</span>'
        )

    return _CLOZE.sub(replace, text)


_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _attribute(text: str) -> str:
    """Escape like Anki does for data-cloze: every non-alphanumeric Latin-1 character."""
    return "".join(
        _NAMED.get(c, c if ord(c) > 255 or (c.isascii() and c.isalnum()) else f"&#x{ord(c):X};")
        for c in text
    )
