"""Each variant's note, as it will be packaged → the same note made safe: the last step.

Whatever touches HTML after a sanitizer (script conversion, phrase entries,
template filling) would be a way around it, so nothing does: every field of
every variant passes nh3's allowlist here, and tags and deck names, which Anki
shows outside the fields' HTML, are checked as plain text.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

from deckgen.errors import DeckgenError, Location, Rule, Severity, shown
from deckgen.model import BRACE, Note, is_tag, name_problem

UNSAFE_NAME = Rule("DG021", Severity.ERROR, "script conversion made an unsafe tag or deck name")
RULES = (UNSAFE_NAME,)
TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "ul", "ol", "li", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "a", "img", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "span",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "p": {"class"},
    "span": {"class"},
    "th": {"style"},
    "td": {"style"},
}


def _classes(element: str) -> frozenset[str]:
    """Classes our own markup uses; any other class is removed. A span is only ever made by
    the highlighter, with one of Pygments' short names (``k``, ``s2``)."""
    if element == "span":
        from deckgen.highlight import span_classes

        return span_classes()
    return frozenset({"source"}) if element == "p" else frozenset()


def sanitize_html(html: str, *, media: Mapping[str, str] | None = None) -> str:
    """Keep only allowlisted tags and attributes, then restore literal braces.

    ``media`` maps image names to other sources (the preview's data: URIs).
    """
    cleaner = _cleaner() if media is None else _make_cleaner(media)
    clean: str = cleaner.clean(html)
    return clean.replace(BRACE, "&#123;")


@functools.cache
def _cleaner() -> Any:
    """The packages' sanitizer, made once: nh3.clean would convert the allowlists to
    ammonia's on every call (half of its time, for a field)."""
    return _make_cleaner(None)


def _make_cleaner(media: Mapping[str, str] | None) -> Any:
    import nh3

    def keep(element: str, attribute: str, value: str) -> str | None:
        if attribute == "class":
            kept = [name for name in value.split() if name in _classes(element)]
            return " ".join(kept) or None
        if media is not None and element == "img" and attribute == "src":
            return media.get(value, value)
        return value

    return nh3.Cleaner(
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        attribute_filter=keep,
    )


def sanitize_note(note: Note, location: Location) -> Note:
    """The note with every field sanitized; a DeckgenError if conversion made a tag or deck
    name that Anki would show as markup or misread (never, with a valid phrase dictionary)."""
    for tag in note.tags:
        if not is_tag(tag):
            raise DeckgenError(
                [
                    UNSAFE_NAME.at(
                        location, f"tag {shown(tag)} in {note.variant} is not a plain word"
                    )
                ]
            )
    for level in note.deck.split("::"):
        if name_problem(level) or any(c in level for c in "<>"):
            raise DeckgenError(
                [
                    UNSAFE_NAME.at(
                        location, f"deck name {shown(level)} in {note.variant} is not plain text"
                    )
                ]
            )
    return dataclasses.replace(note, fields=tuple(sanitize_html(field) for field in note.fields))
