"""Sanitization: whatever HTML reaches a note field passes the allowlist; templates add none.

``deckgen check`` rejects raw HTML and unsafe links at file:line (see
test_bad_inputs.py). These tests are the second line of defence: if a vector
got past the parser, the renderer's nh3 allowlist would still remove it, and
the fields that templates insert unescaped ({{Source}}, {{Tags}}, cloze hints)
carry no markup into a real Anki card.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import AnkiCollection
from helpers import SAMPLE_HANT, render_markdown

from deckgen.cardfile import read_card_file
from deckgen.cli import cli
from deckgen.parse import parse_card
from deckgen.sanitize import ATTRIBUTES as _ATTRIBUTES
from deckgen.sanitize import TAGS as _TAGS
from deckgen.sanitize import sanitize_html as sanitize

_SAFE_SCHEMES = ("http:", "https:", "mailto:")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def unsafe(html: str, *, strict: bool = True) -> list[str]:
    """What in ``html`` breaks the allowlist (strict) or could run script (any HTML)."""
    found = []
    for tag, attrs in elements(html):
        if tag in ("script", "iframe", "object", "embed", "svg", "math", "form", "base"):
            found.append(f"<{tag}>")
        if strict and tag not in _TAGS:
            found.append(f"tag <{tag}>")
        for name, value in attrs.items():
            allowed = _ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
            if name.startswith("on") or (strict and name not in allowed):
                found.append(f"{tag}[{name}]")
            url = "".join(value.split()).lower()
            scheme = ":" in url.split("/")[0]
            if name in ("href", "src") and scheme and not url.startswith(_SAFE_SCHEMES):
                found.append(f"{tag}[{name}={value}]")
    return found


VECTORS = {
    "raw-html": ("<b>粗体</b><div class=x>块</div>", "粗体"),
    "script": ("<script>alert(1)</script>答案", "答案"),
    "onerror": ('<img src="x" onerror="alert(1)">答案', "答案"),
    "javascript-url": ('<a href="javascript:alert(1)">点我</a>', "点我"),
    "javascript-url-obfuscated": ('<a href="  JaVa&#x53;cript:alert(1)">点我</a>', "点我"),
    "data-url": ('<img src="data:text/html;base64,PHNjcmlwdD4=">答案', "答案"),
    "iframe": ('<iframe src="https://evil.example"></iframe>答案', "答案"),
    "style-attribute": ('<td style="background:url(javascript:alert(1))">格</td>', "格"),
    "svg-onload": ("<svg onload=alert(1)><circle/></svg>答案", "答案"),
}


@pytest.mark.parametrize("vector", VECTORS, ids=list(VECTORS))
def test_sanitize_removes_vector(vector: str) -> None:
    html, kept_text = VECTORS[vector]
    clean = sanitize(html)
    assert unsafe(clean) == [], clean
    assert "alert" not in clean and "javascript" not in clean.lower()
    assert kept_text in clean  # the text around the vector survives


@pytest.mark.parametrize("vector", VECTORS, ids=list(VECTORS))
def test_renderer_sanitizes_html_that_slipped_past_the_parser(vector: str) -> None:
    """Render Markdown containing the vector directly, as if check had missed it."""
    html, kept_text = VECTORS[vector]
    for markdown in (f"答案：{html}", f"{html}\n\n段落"):
        rendered = render_markdown(markdown, checked=False)
        assert unsafe(rendered) == [], rendered
        assert "alert" not in rendered
        assert kept_text in rendered


def test_link_targets_outside_allowlist_are_dropped() -> None:
    clean = sanitize('<a href="vbscript:x">a</a><a href="https://ok.example/">b</a>')
    hrefs = [attrs.get("href") for tag, attrs in elements(clean) if tag == "a"]
    assert hrefs == [None, "https://ok.example/"]


def test_markdown_that_looks_dangerous_stays_text(sample_deck: Path) -> None:
    """Code, link titles, image alt text and cloze hints cannot open a tag or attribute."""
    markdown = (
        '`<script>alert(1)</script>` [链接](https://ok.example/ "t\\" onmouseover=\\"alert(1)") '
        '![图"onerror="alert(1)](images/dot.png)'
    )
    (sample_deck / "x.md").write_text(f"{{#x}}\n## 问题\n\n{markdown}\n", "utf-8")
    [text] = read_card_file(sample_deck / "x.md", deck_dir=sample_deck).cards
    card, problems = parse_card(text, deck_dir=sample_deck)
    assert card is not None, problems
    rendered = sanitize(card.answer.html)
    assert unsafe(rendered) == [], rendered
    assert "&lt;script&gt;" in rendered


HOSTILE_CARDS = """\
{#hostile-basic}
## 代码里的 `<img src=x onerror=alert(1)>` 是什么？

代码 `<script>alert(1)</script>` 和[链接](https://ok.example/ "x\\" onclick=\\"alert(1)")。

{#hostile-cloze .cloze}
## 提示里有标签

产品运营要整合{{c1::业务::<img src=x onerror=alert(1)>}}。
"""


def test_anki_cards_carry_no_markup_from_deck_text(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    """What templates insert as-is ({{Source}}, {{Tags}}, cloze hints) is escaped text."""
    toml = sample_deck / "deck.toml"
    toml.write_text(
        toml.read_text("utf-8").replace(
            'author = "@思无邪"', 'author = "<img src=x onerror=alert(1)>"'
        ),
        "utf-8",
    )
    (sample_deck / "03-hostile.md").write_text(HOSTILE_CARDS, "utf-8")
    result = CliRunner().invoke(cli, ["build", str(sample_deck), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    anki.import_package(tmp_path / "out" / SAMPLE_HANT)

    for card_id in ("sample-result", "hostile-basic", "hostile-cloze"):
        card = anki.card_by_id_field(card_id)
        for html in (card.question(), card.answer()):
            assert unsafe(html, strict=False) == [], html
    back = anki.card_by_id_field("sample-result").answer()
    assert "&lt;img src=x onerror=alert(1)&gt;" in back  # the author, shown as text
