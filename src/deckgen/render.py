"""Card → its note's HTML fields in the cards' script (``RenderedCard``).

Each part's HTML was made while the card was parsed; this stage lays the parts
out as the note type's fields: question and answer, the quotes with their
attribution, the note. Nothing here is sanitized yet: that is the last step,
after script conversion (sanitize.py).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from deckgen.model import BRACE, Card, DeckConfig, Kind, RenderedCard, Source

if TYPE_CHECKING:
    from deckgen.lock import Retired


def _escape(text: str) -> str:
    # As markdown-it escapes text: &, <, > and ".
    return html.escape(text, quote=False).replace('"', "&quot;")


def render_source(source: Source) -> str:
    """The attribution of a quote, linked to the source when it has a URL."""
    title = _escape(f"《{source.title}》")
    if source.url.startswith(("https://", "http://")):
        title = f'<a href="{_escape(source.url)}">{title}</a>'
    return f"{_escape(source.author)}{title}，{_escape(source.site)}"


def render_card(card: Card, config: DeckConfig) -> RenderedCard:
    """Lay out one card's parts as its note's fields.

    When every quote is from the deck's ``[source]``, the attribution is the
    ``Source`` field, shown once under the quotes; when a quote names another
    source, each quote carries its own attribution and ``Source`` is empty.
    """
    if all(not quote.source for quote in card.quotes):
        quotes = "".join(f"<blockquote>{quote.html}</blockquote>" for quote in card.quotes)
        source = render_source(config.source)
    else:
        quotes = "".join(
            f"<blockquote>{quote.html}</blockquote>"
            f'<p class="source">{render_source(config.sources.get(quote.source, config.source))}'
            "</p>"
            for quote in card.quotes
        )
        source = ""
    question, answer = card.question.html, card.answer.html
    if card.kind is Kind.CLOZE:
        fields = {"Text": answer, "Context": question}
    else:
        fields = {"Front": question, "Back": answer}
    fields.update(Quote=quotes, Note=card.note.html if card.note else "", Source=source)
    return RenderedCard(
        card_id=card.id,
        kind=card.kind,
        fields=fields,
        tags=tuple(dict.fromkeys(config.tags + card.tags)),
        subdeck=card.subdeck,
    )


RETIRED_TAG = "deckgen::retired"
_RETIRED_NOTICE = "这张卡已从卡组中删除（已退役）。"
_RETIRED_REASONS = {
    "deleted": "卡组的新版本删掉了这张卡。",
    "basic": "这张卡改成了问答卡，以新卡的形式加入了卡组。",
    "reversed": "这张卡改成了双向卡，以新卡的形式加入了卡组。",
    "cloze": "这张卡改成了填空卡，以新卡的形式加入了卡组。",
}
_RETIRED_HELP = (
    "它的复习记录还在你的收藏里。在浏览器里搜索 tag:deckgen::retired 可以找到所有已退役的卡，"
    "确认后删除即可。"
)


def render_retired(entry: Retired, card_id: str, config: DeckConfig) -> RenderedCard:
    """A retired card's note: its question, a notice saying it was retired and why, and
    where to find every retired note; in the main deck, tagged ``deckgen::retired``."""
    question = _escape(entry.question).replace("{", BRACE)
    notice = f"<p>{_RETIRED_NOTICE}{_RETIRED_REASONS.get(entry.reason, '')}</p>"
    note = f"<p>{_RETIRED_HELP}</p>"
    if entry.kind is Kind.CLOZE:
        # Each of the learner's cards (one per number) still finds its deletion.
        deletions = "；".join(
            f"{{{{c{number}::{_escape(text).replace('{', BRACE)}}}}}"
            for number, text in enumerate(entry.clozes, start=1)
            if text
        )
        fields = {"Text": notice + f"<p>{deletions}</p>", "Context": question}
    else:
        fields = {"Front": question, "Back": notice}
    fields.update(Quote="", Note=note, Source="")
    return RenderedCard(
        card_id=card_id,
        kind=entry.kind,
        fields=fields,
        tags=tuple(dict.fromkeys((*config.tags, RETIRED_TAG))),
        subdeck="",
    )


_DESCRIPTION_LINES = {
    "zh-Hans": (
        "版本",
        "已退役的卡（从卡组删掉的卡）：在浏览器里搜索 tag:deckgen::retired，确认后删除即可。",
    ),
    "zh-Hant": (
        "版本",
        "已退役的卡（從卡組刪掉的卡）：在瀏覽器裡搜尋 tag:deckgen::retired，確認後刪除即可。",
    ),
}


def render_description(config: DeckConfig, body: str) -> str:
    """A package's deck description in the cards' script: the deck's own text (``body``,
    its description rendered), its version, and how to find retired cards."""
    version, retired = _DESCRIPTION_LINES[config.script]
    lines = [body.strip()] if body.strip() else []
    if config.version:
        lines.append(f"<p>{version} {_escape(config.version)}</p>")
    lines.append(f"<p>{retired}</p>")
    return "\n".join(lines)
