"""Deck folder → one self-contained HTML page: every card, front and back, in every variant.

The page uses the decks' own templates and CSS, rendered by a small renderer
for the part of Anki's template language that our templates use, so that no
Anki is needed at preview time (tests compare it with Anki's own rendering).
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
import string
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen import __version__, notetypes
from deckgen.errors import DeckgenError, Location, Problem, Severity
from deckgen.model import Card, Deck, Kind
from deckgen.notetypes import NoteType, Template, note_type

if TYPE_CHECKING:
    from deckgen.convert import Phrase

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
    """Anki's cloze filter: the card's deletions blank (or revealed), the others shown."""

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


@dataclass(frozen=True)
class Face:
    """One Anki card of one note in one variant: what it shows before and after answering."""

    card: Card
    variant: str
    name: str
    """The card's name in the preview: the template name, or "Cloze N"."""
    ordinal: int
    """Anki's card ordinal (0-based): the template index, or the cloze number - 1."""
    front: str
    back: str


def preview_faces(deck: Deck, phrases: Sequence[Phrase]) -> list[Face]:
    """Every card of every note in every variant, in deck order, images inlined."""
    from deckgen.build import note_fields
    from deckgen.convert import Converter
    from deckgen.render import render_card

    rendered = [render_card(card) for card in deck.cards]
    images = {m.name: _data_uri(m.path) for item in rendered for m in item.media}
    faces = []
    for variant in deck.config.variants:
        convert = Converter(variant.opencc, list(phrases))
        for item in rendered:
            values, tags = note_fields(item, deck.config, variant, convert)
            values = {name: _inline_images(text, images) for name, text in values.items()}
            for ordinal, name, template in _cards(item.card, note_type(item.card.kind)):
                number = ordinal + 1
                front = render_template(template.front, values, tags=tags, ordinal=number)
                back = render_template(
                    template.back, values, tags=tags, ordinal=number, answer=True, front_side=front
                )
                faces.append(Face(item.card, variant.name, name, ordinal, front, back))
    return faces


def _cards(card: Card, kind: NoteType) -> Iterator[tuple[int, str, Template]]:
    if card.kind is Kind.CLOZE:
        for number in sorted(set(card.cloze_numbers)):
            yield number - 1, f"Cloze {number}", kind.templates[0]
    else:
        for ordinal, template in enumerate(kind.templates):
            yield ordinal, template.name, template


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_images(text: str, images: Mapping[str, str]) -> str:
    # Our image render rule writes exactly src="<media name>"; names are content hashes.
    for name, uri in images.items():
        text = text.replace(f'src="{name}"', f'src="{uri}"')
    return text


def render_page(deck: Deck, faces: Sequence[Face]) -> str:
    """The whole page: the note types' CSS, then one section per note, cards side by side."""
    variants = [variant.name for variant in deck.config.variants]
    # card id → card name (Card 1, Cloze 2, …) → that card's faces, in page order
    cards: dict[str, dict[str, list[Face]]] = {}
    for face in faces:
        cards.setdefault(face.card.id, {}).setdefault(face.name, []).append(face)
    sections = []
    for card in deck.cards:
        rows = [_render_card(name, group) for name, group in cards.get(card.id, {}).items()]
        sections.append(
            f'<section class="preview-note" id="{card.id}">\n'
            f'<h2><a href="#{card.id}">{card.id}</a> <span class="preview-kind">'
            f'{card.kind.value}</span> <span class="preview-where">'
            f"{html.escape(card.location.path.name)}:{card.location.line}</span></h2>\n"
            + "".join(rows)
            + "</section>\n"
        )
    page = string.Template((notetypes.templates_dir() / "preview.html").read_text("utf-8"))
    return page.substitute(
        title=html.escape(deck.config.title),
        script=deck.config.script,
        summary=html.escape(
            f"{len(deck.cards)} notes, {len(cards)} cards, in {', '.join(variants)}"
        ),
        version=__version__,
        columns=len(variants),
        card_css=note_type(Kind.BASIC).css,
        page_css=(notetypes.templates_dir() / "preview.css").read_text("utf-8"),
        notes="".join(sections),
    )


def _render_card(name: str, faces: Sequence[Face]) -> str:
    sides = []
    for side in ("front", "back"):
        for face in faces:
            content = face.front if side == "front" else face.back
            card_class = f"card card{face.ordinal + 1}"
            sides.append(
                f'<div class="preview-side" data-variant="{face.variant}" data-side="{side}">'
                f'<p class="preview-label">{face.variant} · {side}</p>\n'
                # Anki marks night mode with classes; a copy per mode keeps the toggle pure CSS.
                f'<div class="{card_class}">{content}</div>\n'
                f'<div class="{card_class} nightMode night_mode">{content}</div>\n'
                "</div>\n"
            )
    return (
        f'<div class="preview-card" data-name="{html.escape(name)}">\n'
        f'<h3>{html.escape(name)}</h3>\n<div class="preview-sides">\n{"".join(sides)}</div>\n'
        "</div>\n"
    )


@dataclass(frozen=True)
class PreviewSummary:
    """What a written preview page shows, for the one-line summary."""

    path: Path
    notes: int
    cards: int
    """Cards per variant."""
    variants: tuple[str, ...]
    warnings: tuple[Problem, ...]

    def __str__(self) -> str:
        return f"{self.path}: {self.notes} notes, {self.cards} cards, in {', '.join(self.variants)}"


def write_preview(deck_dir: Path, *, out: Path) -> PreviewSummary:
    """Check the deck and write its preview page to out.

    Raises DeckgenError (nothing written) if check finds errors; warnings are returned.
    """
    from deckgen.build import check

    checked = check(deck_dir)
    errors = [p for p in checked.problems if p.severity is Severity.ERROR]
    if errors:
        raise DeckgenError(errors)
    try:
        faces = preview_faces(checked.deck, checked.phrases)
    except TemplateError as error:
        raise DeckgenError(
            [
                Problem(
                    Location(notetypes.templates_dir()),
                    "DG062",
                    f"template: {error}",
                    "the preview renders {{Field}}, {{#Field}}…{{/Field}}, {{^Field}}, "
                    "{{cloze:Field}}, {{Tags}} and {{FrontSide}}; fix the template",
                )
            ]
        ) from None
    page = render_page(checked.deck, faces)
    # Replace the page at once, so that a browser reloading it never sees half of it.
    partial = out.with_name(out.name + ".partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(page, "utf-8")
        partial.replace(out)
    except OSError as error:
        raise DeckgenError(
            [
                Problem(
                    Location(out),
                    "DG050",
                    f"cannot write the preview: {error.strerror}",
                    "choose another file with --out",
                )
            ]
        ) from None
    variants = tuple(variant.name for variant in checked.deck.config.variants)
    return PreviewSummary(
        out,
        len(checked.deck.cards),
        len(faces) // len(variants),
        variants,
        tuple(p for p in checked.problems if p.code != "DG301"),
    )


@dataclass(frozen=True)
class Rebuild:
    """One rebuild in watch mode: the files that changed, then the page or what went wrong."""

    changed: tuple[Path, ...]
    summary: PreviewSummary | None
    failure: str
    """The problems (or the template error) that stopped this rebuild; "" if none."""


def rebuild_preview(deck_dir: Path, *, out: Path, changed: Sequence[Path] = ()) -> Rebuild:
    """Re-read templates and deck and rewrite the page; report failures instead of raising."""
    note_type.cache_clear()  # the templates may be what changed
    try:
        summary = write_preview(deck_dir, out=out)
    except DeckgenError as error:
        return Rebuild(tuple(changed), None, "\n".join(p.format() for p in error.problems))
    return Rebuild(tuple(changed), summary, "")


def watch_preview(
    deck_dir: Path, *, out: Path, stop_event: threading.Event | None = None
) -> Iterator[Rebuild]:
    """Rebuild the page after every saved change in the deck folder or the templates.

    Runs until interrupted (Ctrl+C) or stop_event is set. Needs watchfiles.
    """
    import watchfiles

    ignored = {out.resolve(), out.resolve().with_name(out.name + ".partial")}
    default = watchfiles.DefaultFilter()

    def wanted(change: watchfiles.Change, path: str) -> bool:
        return Path(path).resolve() not in ignored and default(change, path)

    for changes in watchfiles.watch(
        deck_dir,
        notetypes.templates_dir(),
        watch_filter=wanted,
        stop_event=stop_event,
        raise_interrupt=False,
    ):
        # Editors save through temporary files that come and go within one batch.
        added = {path for change, path in changes if change is watchfiles.Change.added}
        deleted = {path for change, path in changes if change is watchfiles.Change.deleted}
        changed = sorted(Path(path) for path in {p for _, p in changes} - (added & deleted))
        yield rebuild_preview(deck_dir, out=out, changed=changed)
