"""Rendering golden cases, in markdown-it's fixture format (title / . / input / . / output / .).

The expected HTML is what a learner's card holds. When a case changes, read the
diff and the rendered card before accepting it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import render_markdown

from deckgen.markdown import markdown_parser

FIXTURES = Path(__file__).parent / "fixtures" / "render"


def read_fixtures(path: Path) -> list[tuple[str, str, str]]:
    """(title, input, expected) triples from a markdown-it style fixture file."""
    cases = []
    lines = path.read_text("utf-8").split("\n")
    index = 0
    while index < len(lines):
        if lines[index + 1 : index + 2] == ["."] and lines[index].strip():
            title = lines[index]
            end_input = lines.index(".", index + 2)
            end_output = lines.index(".", end_input + 1)
            cases.append(
                (
                    title,
                    "\n".join(lines[index + 2 : end_input]),
                    "\n".join(lines[end_input + 1 : end_output]),
                )
            )
            index = end_output + 1
        else:
            index += 1
    return cases


CASES = [
    (config, *case)
    for config, name in (("none", "zh-Hans"), ("s2tw", "zh-Hant"))
    for case in read_fixtures(FIXTURES / f"{name}.md")
]


@pytest.mark.parametrize(
    ("config", "title", "markdown", "expected"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_golden(config: str, title: str, markdown: str, expected: str) -> None:
    assert render_markdown(markdown, config) == expected


def test_both_fixture_files_have_the_same_inputs() -> None:
    hans = [(t, i) for t, i, _ in read_fixtures(FIXTURES / "zh-Hans.md")]
    hant = [(t, i) for t, i, _ in read_fixtures(FIXTURES / "zh-Hant.md")]
    assert hans == hant and len(hans) >= 10


def test_cloze_hint_starts_at_the_first_separator_as_in_anki() -> None:
    [paragraph] = [t for t in markdown_parser().parse("{{c2::整合::三样::之一}}") if t.children]
    opener = next(t for t in paragraph.children or [] if t.type == "cloze_open")
    content = [t.content for t in paragraph.children or [] if t.type == "text"]
    assert opener.meta == {"number": 2, "hint": "三样::之一"} and content == ["整合"]
