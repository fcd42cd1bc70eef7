"""The note types: one per card kind, shared by every variant, read from templates/.

Their schema (field and template names, in order) is frozen once shipped:
Anki matches an incoming note type by id and schema, and any change makes every
learner's existing notes conflict, so updates stop silently.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from deckgen.model import FIELDS, Kind

_INCLUDE = "{{> annotations}}"


@dataclass(frozen=True)
class Template:
    name: str
    front: str
    back: str


@dataclass(frozen=True)
class NoteType:
    """A note type as Anki sees it; ids are fixed forever."""

    kind: Kind
    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[Template, ...]
    css: str

    @property
    def schema(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What Anki compares on import: field names and template names, in order."""
        return self.fields, tuple(t.name for t in self.templates)

    @property
    def content_hash(self) -> str:
        """Changes whenever anything a learner would see of the note type changes."""
        parts = [self.name, *self.fields, self.css]
        for template in self.templates:
            parts += [template.name, template.front, template.back]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def stable_id(*parts: str) -> int:
    """A positive id below 2**53 derived from names, so it never changes between builds."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % (2**53 - 2**40) + 2**40


def templates_dir() -> Path:
    """templates/ inside the installed package, or the repository's top-level one."""
    installed = Path(str(resources.files("deckgen") / "templates"))
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "templates"


def _read(name: str) -> str:
    text = (templates_dir() / name).read_text("utf-8")
    if _INCLUDE in text:
        text = text.replace(_INCLUDE, _read("annotations.html").strip())
    return text.strip()


# Names are script-neutral: one note type serves every variant, and a Simplified name
# would show in the Traditional package (0.x shipped "deckgen 问答 Basic", ...). A name
# is not part of what Anki matches on import (id and schema are): renaming updates a
# learner's note type in place, with their notes and review history.
_SPECS = {
    Kind.BASIC: (1764086400101, "deckgen Basic", (("Card 1", "basic"),)),
    Kind.REVERSED: (
        1764086400102,
        "deckgen Basic+Reversed",
        (("Card 1", "basic"), ("Card 2", "reversed")),
    ),
    Kind.CLOZE: (1764086400103, "deckgen Cloze", (("Cloze", "cloze"),)),
}


@functools.cache
def note_type(kind: Kind) -> NoteType:
    """The note type for one card kind, with templates and CSS read from templates/."""
    model_id, name, templates = _SPECS[kind]
    return NoteType(
        kind=kind,
        id=model_id,
        name=name,
        fields=FIELDS[kind],
        templates=tuple(
            Template(label, _read(f"{stem}.front.html"), _read(f"{stem}.back.html"))
            for label, stem in templates
        ),
        css=_read("style.css"),
    )
