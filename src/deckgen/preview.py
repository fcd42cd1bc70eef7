"""Deck folder → one self-contained HTML page: every card, front and back, in every variant.

The page shows the notes exactly as the packages hold them: it runs the same
stages as a build (and reuses its cache), then fills the decks' own templates
with anki_template.py. Images are inlined, so the page is one file.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import string
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from deckgen import __version__, notetypes
from deckgen.anki_template import TemplateError, render_template
from deckgen.errors import DeckgenError, Location, Problem, Rule, Severity, counted
from deckgen.files import read_bytes, write_atomically
from deckgen.latex import typeset
from deckgen.model import FIELDS, CardSummary, Kind, Note
from deckgen.notetypes import NoteType, Template, note_type

BAD_TEMPLATE = Rule("DG062", Severity.ERROR, "a template uses what the preview cannot render")
RULES = (BAD_TEMPLATE,)


@dataclass(frozen=True)
class Face:
    """One Anki card of one note in one variant: what it shows before and after answering."""

    card: CardSummary
    variant: str
    name: str
    """The card's name in the preview: the template name, or "Cloze N"."""
    ordinal: int
    """Anki's card ordinal (0-based): the template index, or the cloze number - 1."""
    front: str
    back: str


def preview_faces(
    cards: Sequence[tuple[CardSummary, Sequence[Note]]], variants: Sequence[str]
) -> list[Face]:
    """Every card of every note in every variant, in deck order, images inlined."""
    from deckgen.sanitize import sanitize_html

    images = {name: _data_uri(path) for card, _ in cards for name, path in card.media}
    faces = []
    for variant in variants:
        for card, notes in cards:
            note = next(n for n in notes if n.variant == variant)
            values = {
                name: sanitize_html(value, media=images)
                for name, value in zip(FIELDS[card.kind], note.fields, strict=True)
            }
            for ordinal, name, template in _cards(card, note_type(card.kind)):
                number = ordinal + 1
                front = render_template(template.front, values, tags=note.tags, ordinal=number)
                back = render_template(
                    template.back,
                    values,
                    tags=note.tags,
                    ordinal=number,
                    answer=True,
                    front_side=front,
                )
                faces.append(Face(card, variant, name, ordinal, front, back))
    return faces


def _cards(card: CardSummary, kind: NoteType) -> Iterator[tuple[int, str, Template]]:
    if card.kind is Kind.CLOZE:
        for number in sorted(set(card.cloze_numbers)):
            yield number - 1, f"Cloze {number}", kind.templates[0]
    else:
        for ordinal, template in enumerate(kind.templates):
            yield ordinal, template.name, template


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(read_bytes(path)).decode('ascii')}"


def render_page(
    title: str, script: str, cards: Sequence[CardSummary], faces: Sequence[Face]
) -> str:
    """The whole page: the note types' CSS, then one section per note, cards side by side."""
    variants = list(dict.fromkeys(face.variant for face in faces))
    # card id → card name (Card 1, Cloze 2, …) → that card's faces, in page order
    grouped: dict[str, dict[str, list[Face]]] = {}
    for face in faces:
        grouped.setdefault(face.card.id, {}).setdefault(face.name, []).append(face)
    sections = []
    for card in cards:
        rows = [_render_card(name, group) for name, group in grouped.get(card.id, {}).items()]
        sections.append(
            f'<section class="preview-note" id="{card.id}">\n'
            f'<h2><a href="#{card.id}">{card.id}</a> <span class="preview-kind">'
            f'{card.kind.value}</span> <span class="preview-where">'
            f"{html.escape(card.location.path.name)}:{card.location.line}</span></h2>\n"
            + "".join(rows)
            + "</section>\n"
        )
    notes, anki_cards = len(cards), sum(card.anki_cards for card in cards)
    page = string.Template((notetypes.templates_dir() / "preview.html").read_text("utf-8"))
    return page.substitute(
        title=html.escape(title),
        script=script,
        summary=html.escape(
            f"{counted(notes, 'note')}, {counted(anki_cards, 'card')} each, "
            f"in {', '.join(variants)}"
        ),
        version=__version__,
        columns=max(len(variants), 1),
        card_css=note_type(Kind.BASIC).css,
        page_css=(notetypes.templates_dir() / "preview.css").read_text("utf-8"),
        notes="".join(sections),
    )


def _render_card(name: str, faces: Sequence[Face]) -> str:
    sides = []
    for side in ("front", "back"):
        for face in faces:
            # Anki typesets math with MathJax; the page shows MathML, made here, offline.
            content = typeset(face.front if side == "front" else face.back)
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
        return (
            f"{self.path}: {counted(self.notes, 'note')}, {counted(self.cards, 'card')} each, "
            f"in {', '.join(self.variants)}"
        )


def write_preview(deck_dir: Path, *, out: Path, cache_dir: Path | None = None) -> PreviewSummary:
    """Check the deck and write its preview page to ``out``.

    Raises DeckgenError (nothing written) if check finds errors; warnings are returned.
    """
    from deckgen.build import check

    checked = check(deck_dir, cache_dir=cache_dir)
    errors = [p for p in checked.problems if p.severity is Severity.ERROR]
    if errors:
        raise DeckgenError(errors)
    config = checked.deck.config
    variants = tuple(variant.name for variant in config.variants)
    cards = [(r.summary, r.notes) for r in checked.results if r.summary is not None]
    try:
        faces = preview_faces(cards, variants)
    except TemplateError as error:
        raise DeckgenError(
            [
                BAD_TEMPLATE.at(
                    Location(notetypes.templates_dir()),
                    f"template: {error}",
                    "the preview renders {{Field}}, {{#Field}}…{{/Field}}, {{^Field}}, "
                    "{{cloze:Field}}, {{Tags}} and {{FrontSide}}; fix the template",
                )
            ]
        ) from None
    page = render_page(config.title, config.script, [c for c, _ in cards], faces)
    # Replace the page at once, so that a browser reloading it never sees half of it.
    write_atomically(out, page.encode("utf-8"))
    return PreviewSummary(
        out,
        len(cards),
        len(faces) // max(len(variants), 1),
        variants,
        tuple(p for p in checked.problems if p.severity is Severity.WARNING),
    )


@dataclass(frozen=True)
class Rebuild:
    """One rebuild in watch mode: the files that changed, then the page or what went wrong."""

    changed: tuple[Path, ...]
    summary: PreviewSummary | None
    failure: str
    """The problems (or the template error) that stopped this rebuild; "" if none."""


def rebuild_preview(
    deck_dir: Path, *, out: Path, changed: Sequence[Path] = (), cache_dir: Path | None = None
) -> Rebuild:
    """Re-read templates and deck and rewrite the page; report failures instead of raising."""
    note_type.cache_clear()  # the templates may be what changed
    try:
        summary = write_preview(deck_dir, out=out, cache_dir=cache_dir)
    except DeckgenError as error:
        return Rebuild(tuple(changed), None, "\n".join(p.format() for p in error.problems))
    return Rebuild(tuple(changed), summary, "")


def watch_preview(
    deck_dir: Path,
    *,
    out: Path,
    stop_event: threading.Event | None = None,
    cache_dir: Path | None = None,
) -> Iterator[Rebuild]:
    """Rebuild the page after every saved change in the deck folder or the templates.

    Runs until interrupted (Ctrl+C) or stop_event is set. Needs watchfiles.
    """
    import watchfiles

    default = watchfiles.DefaultFilter()

    def wanted(change: watchfiles.Change, path: str) -> bool:
        # deckgen's own temporary files (the page's, the cache's) start with a dot.
        return (
            not Path(path).name.startswith(".")
            and Path(path).resolve() != out.resolve()
            and default(change, path)
        )

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
        yield rebuild_preview(deck_dir, out=out, changed=changed, cache_dir=cache_dir)
