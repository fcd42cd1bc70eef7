"""Note types: frozen schemas, fixed ids, templates shipped inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

from deckgen.model import Kind
from deckgen.notetypes import note_type

# What Anki compares on import. Changing any of this after release makes every
# learner's existing notes "conflicting": their updates stop, silently.
FROZEN = {
    Kind.BASIC: (
        1764086400101,
        ("Front", "Back", "Quote", "Note", "Source", "Lang", "Id"),
        ("Card 1",),
    ),
    Kind.REVERSED: (
        1764086400102,
        ("Front", "Back", "Quote", "Note", "Source", "Lang", "Id"),
        ("Card 1", "Card 2"),
    ),
    Kind.CLOZE: (
        1764086400103,
        ("Text", "Context", "Quote", "Note", "Source", "Lang", "Id"),
        ("Cloze",),
    ),
}


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_schema_is_frozen(kind: Kind) -> None:
    model_id, fields, templates = FROZEN[kind]
    current = note_type(kind)
    assert (current.id, *current.schema) == (model_id, fields, templates), (
        f"BREAKING CHANGE: the {kind.value} note type's id, fields or templates changed. "
        "Learners' existing notes would stop updating. Add a new note type instead."
    )


def test_every_template_sets_lang_from_the_field() -> None:
    for kind in Kind:
        for template in note_type(kind).templates:
            assert 'lang="{{Lang}}"' in template.front and 'lang="{{Lang}}"' in template.back
            assert "<script" not in template.front + template.back  # rendered at build time


def test_css_has_both_night_modes_and_both_font_stacks() -> None:
    css = note_type(Kind.BASIC).css
    for needle in (
        ".nightMode",
        ".night_mode",
        ":lang(zh-Hans)",
        ":lang(zh-Hant)",
        "Noto Sans SC",
        "Noto Sans TC",
        "PingFang SC",
        "PingFang TC",
        "Microsoft YaHei",
        "Microsoft JhengHei",
        "@media (max-width",
    ):
        assert needle in css


def test_wheel_ships_templates_and_data(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("deckgen-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (REPO / "templates").iterdir()}
    assert {f"deckgen/templates/{name}" for name in shipped} <= names
    assert {"deckgen/data/ambiguous.txt", "deckgen/data/builtin-phrases.txt"} <= names
