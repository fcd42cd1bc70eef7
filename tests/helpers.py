"""Helpers the test modules share: package names, building a deck, rendering Markdown."""

from __future__ import annotations

from pathlib import Path

from deckgen.cardfile import CardText
from deckgen.convert import Converter, load_phrases
from deckgen.markdown import markdown_parser, render_html
from deckgen.parse import parse_card
from deckgen.sanitize import sanitize_html

SAMPLE_HANS = "样例卡组.zh-Hans.apkg"
"""The sample deck's packages (tests/fixtures/decks/sample)."""
SAMPLE_HANT = "樣例卡組.zh-Hant.apkg"


def render_markdown(markdown: str, opencc: str = "none", *, checked: bool = True) -> str:
    """Markdown as a card's answer → the HTML a note field holds in one variant: parsed
    and rendered, converted, then sanitized, as the build does.

    With ``checked=False`` the parser's checks are skipped (raw HTML stays in the
    tokens), to test the sanitizer as a second line of defence.
    """
    if checked:
        for kind in ("", " .cloze"):  # a cloze card if the answer has deletions
            card, problems = parse_card(
                CardText(Path("case.md"), 1, f"{{#case{kind}}}\n## 问题\n\n" + markdown, "", ()),
                deck_dir=Path("."),
            )
            if card is not None:
                break
        assert card is not None, [p.format() for p in problems]
        html = card.answer.html
    else:
        html = render_html(markdown_parser().parse(markdown), {"media": {}})
    return sanitize_html(Converter(opencc, load_phrases(None)).html(html)).strip()
