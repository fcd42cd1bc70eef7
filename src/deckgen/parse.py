"""One card's Markdown (a ``CardText``, cut from its file by deckgen.cardfile) → a ``Card``
(plain data); every problem names file:line.

Each card is parsed on its own with markdown-it, which is what lets the build
cache and parallelise per card; the tokens do not leave parsing (this module, with
deckgen.guards for what a card may not hold and deckgen.tokens for reading tokens).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.cardfile import MAX_PROBLEMS_PER_FILE, CardText
from deckgen.errors import Location, Problem, Rule, Severity, shown
from deckgen.frontmatter import BAD_TAGS
from deckgen.guards import (
    BAD_LINK,
    LEFT_OPEN,
    MALFORMED_CLOZE,
    MISPLACED_CLOZE,
    RAW_HTML,
    UNBALANCED_MATH,
    UNDERLINED_HEADING,
    UNKNOWN_LANGUAGE,
    Guard,
)
from deckgen.images import BAD_IMAGE_PATH, NO_IMAGE, read_image
from deckgen.model import (
    BRACE,
    Card,
    Image,
    Kind,
    Part,
    TextLine,
    is_tag,
)
from deckgen.tokens import (
    MATH,
    bullet_lists,
    clozes,
    inline_blocks,
    plain_text,
    top_level_blocks,
)

if TYPE_CHECKING:
    from markdown_it.token import Token

ERROR = Severity.ERROR
NO_ID = Rule("DG005", ERROR, "card has no id")
BAD_ID = Rule("DG006", ERROR, "card id has forbidden characters")
UNKNOWN_ATTRIBUTE = Rule("DG007", ERROR, "unknown card or quote attribute")
UNKNOWN_KIND = Rule("DG008", ERROR, "unknown card kind")
EMPTY = Rule("DG009", ERROR, "empty question or answer")
TWO_NOTES = Rule("DG014", ERROR, "card has more than one note")
UNKNOWN_SOURCE = Rule("DG037", ERROR, "quote names a source deck.toml does not have")
NO_DELETION = Rule("DG042", ERROR, "cloze card has no deletion")
RULES = (
    NO_ID, BAD_ID, UNKNOWN_ATTRIBUTE, UNKNOWN_KIND, EMPTY, TWO_NOTES, RAW_HTML, BAD_LINK,
    BAD_IMAGE_PATH, NO_IMAGE, LEFT_OPEN, UNDERLINED_HEADING, UNKNOWN_SOURCE, MALFORMED_CLOZE,
    MISPLACED_CLOZE, NO_DELETION, UNBALANCED_MATH, UNKNOWN_LANGUAGE,
)  # fmt: skip

CARD_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CARD_ATTRS = ("id", "class", "tags", "allow")


class _CardParser:
    """Reads one card from its tokens, collecting problems instead of stopping at the first."""

    def __init__(self, source: CardText, deck_dir: Path, sources: frozenset[str]) -> None:
        self.source = source
        self.path = source.path
        self.deck_dir = deck_dir
        self.sources = sources
        self.lines = source.text.split("\n")
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        """Problems that do not stop the card (it is built); silenced by its ``allow``."""
        self.media: dict[str, str] = {}
        self.images: list[Image] = []
        self.guard = Guard(
            self.path, self.lines, source.line, self.problems, self.warnings, self.resolve_image
        )

    def problem(self, rule: Rule, line: int, message: str, hint: str = "") -> None:
        self.problems.append(rule.at_line(self.path, line, message, hint))

    def line(self, token: Token) -> int:
        """The file line of a block token."""
        return self.source.line + token.map[0] if token.map else self.source.line

    def location(self, line: int) -> Location:
        return Location(self.path, line)

    def parse(self) -> Card | None:
        from deckgen.markdown import markdown_parser

        env: dict[str, object] = {"media": self.media}
        tokens = markdown_parser().parse(self.source.text, env)
        start = next(i for i, t in enumerate(tokens) if t.type == "heading_open")
        if start:
            self.problem(
                UNKNOWN_ATTRIBUTE,
                self.source.line,
                "the line above the heading is not a valid attributes line: "
                + shown(self.lines[0]),
                'write {#card-id .kind tags="a b"} with closed quotes and braces',
            )
        heading = tokens[start]
        line = self.line(heading)
        attrs_line = self.source.line if heading.attrs else line
        self.guard.blocks(tokens)
        card_id = self.read_id(heading, line, attrs_line)
        kind = self.read_kind(heading, attrs_line)
        tags = self.source.tags + self.read_tags(str(heading.attrs.get("tags", "")), attrs_line)
        allow = frozenset(str(heading.attrs.get("allow", "")).split())
        self.warnings[:] = [w for w in self.warnings if w.code not in allow]
        inline = tokens[start + 1]
        children = list(inline.children or [])
        self.guard.inline([inline], line, None)
        body = tokens[start + 3 :]
        blocks = list(top_level_blocks(body))
        for first, last in blocks:
            in_answer = body[first].type not in ("blockquote_open", "container_note_open")
            self.guard.inline(body[first:last], line, kind if in_answer else None)
        if self.problems:
            return None
        question = self.part(children, inline.content, line)
        answer, quotes, note = self.read_body(body, blocks, line)
        if not question.text.strip():
            self.problem(
                EMPTY,
                line,
                "card has an empty question",
                "write the question as the heading text: '## 问题？'",
            )
        if not answer.markdown.strip():
            self.problem(
                EMPTY,
                line,
                "card has an empty answer",
                "write the answer below the heading, before any '>' quote",
            )
        if kind is Kind.CLOZE and not answer.clozes:
            self.problem(
                NO_DELETION,
                line,
                "cloze card has no deletion",
                "mark what to hide in the answer as {{c1::text}}",
            )
        if self.problems or kind is None:
            return None
        return Card(
            id=card_id,
            kind=kind,
            question=question,
            answer=answer,
            quotes=quotes,
            note=note,
            tags=tags,
            subdeck=self.source.subdeck,
            location=self.location(line),
            allow=allow,
            images=tuple(self.images),
        )

    def read_id(self, heading: Token, line: int, attrs_line: int) -> str:
        """The card's id from its attributes line; unknown attributes and bad ids reported."""
        card_id = str(heading.attrs.get("id", ""))
        for name in heading.attrs:
            if name not in _CARD_ATTRS:
                close = difflib.get_close_matches(name, _CARD_ATTRS, n=1)
                self.problem(
                    UNKNOWN_ATTRIBUTE,
                    attrs_line,
                    f"unknown card attribute {shown(name)}",
                    f"did you mean '{close[0]}'?"
                    if close
                    else 'allowed: {#id .kind tags="…" allow="…"}',
                )
        if not card_id:
            self.problem(
                NO_ID,
                line,
                "card has no id",
                "add a line '{#some-card-id}' right above the heading, or run 'deckgen ids --fix'",
            )
        elif not CARD_ID.match(card_id):
            self.problem(
                BAD_ID,
                attrs_line,
                f"card id {shown(card_id)} has forbidden characters",
                "use lowercase ASCII letters, digits and single '-', e.g. 'integration-core'",
            )
        return card_id

    def read_kind(self, heading: Token, line: int) -> Kind | None:
        classes = str(heading.attrs.get("class", "basic")).split()
        if len(classes) != 1 or classes[0] not in [k.value for k in Kind]:
            self.problem(
                UNKNOWN_KIND,
                line,
                f"unknown card kind {shown(' '.join(classes))}",
                "use one of .basic, .reversed, .cloze",
            )
            return None
        return Kind(classes[0])

    def read_tags(self, value: str, line: int) -> tuple[str, ...]:
        tags = value.split()
        if not all(is_tag(tag) for tag in tags):
            self.problem(
                BAD_TAGS,
                line,
                f"tags must be words without spaces, '<' or '>', got {shown(tags)}",
                'write tags: [结果导向, 整合] (front matter) or tags="a b" (card)',
            )
            return ()
        return tuple(tags)

    def read_body(
        self, body: list[Token], blocks: list[tuple[int, int]], line: int
    ) -> tuple[Part, tuple[Part, ...], Part | None]:
        answer: list[Token] = []
        quotes: list[Part] = []
        notes: list[Part] = []
        for first, last in blocks:
            block = body[first]
            if block.type == "blockquote_open":
                quotes.append(
                    self.block_part(body[first + 1 : last - 1], block, self.read_source(block))
                )
            elif block.type == "container_note_open":
                notes.append(self.block_part(body[first + 1 : last - 1], block))
            else:
                answer.extend(body[first:last])
        if len(notes) > 1:
            self.problem(
                TWO_NOTES,
                notes[1].location.line,
                "card has more than one note",
                "merge them into one '::: note' block",
            )
        maps = [t.map for t in answer if t.map and t.level == 0]
        markdown = "\n".join("\n".join(self.lines[m[0] : m[1]]) for m in maps)
        start = self.source.line + maps[0][0] if maps else line
        lines = [self.source.line + n for m in maps for n in range(m[0], m[1])]
        return (
            self.part(answer, markdown, start, markdown_lines=lines),
            tuple(quotes),
            (notes[0] if notes else None),
        )

    def read_source(self, block: Token) -> str:
        source = str(block.attrs.get("source", ""))
        for name in block.attrs:
            if name != "source":
                self.problem(
                    UNKNOWN_ATTRIBUTE,
                    self.line(block) - 1,
                    f"unknown quote attribute {shown(name)}",
                    "a quote takes only {source=NAME}",
                )
        if source and source not in self.sources:
            close = difflib.get_close_matches(source, sorted(self.sources), n=1)
            self.problem(
                UNKNOWN_SOURCE,
                self.line(block) - 1,
                f"quote names the source {shown(source)}, which deck.toml does not have",
                f"did you mean '{close[0]}'?" if close else f"add [sources.{source}] to deck.toml",
            )
        return source

    def block_part(self, tokens: list[Token], block: Token, source: str = "") -> Part:
        assert block.map is not None
        markdown = "\n".join(self.lines[block.map[0] : block.map[1]])
        return self.part(tokens, markdown, self.line(block), source)

    def part(
        self,
        tokens: list[Token],
        markdown: str,
        line: int,
        source: str = "",
        markdown_lines: Sequence[int] = (),
    ) -> Part:
        from deckgen.markdown import render_html

        inline = not tokens or not tokens[0].block
        return Part(
            markdown=markdown,
            location=self.location(line),
            html=render_html(tokens, {"media": self.media}).strip() if tokens else "",
            text="".join(plain_text(tokens)),
            lines=tuple(self.text_lines(tokens, line, inline)),
            blocks=tuple(inline_blocks(tokens)),
            bullet_lists=tuple(bullet_lists(tokens)),
            clozes=tuple(clozes(tokens)),
            source=source,
            markdown_lines=tuple(markdown_lines)
            or tuple(range(line, line + markdown.count("\n") + 1)),
        )

    def text_lines(self, tokens: list[Token], line: int, inline: bool) -> Iterator[TextLine]:
        runs = (
            [(line, tokens)]
            if inline
            else [(self.line(t), t.children or []) for t in tokens if t.map and t.children]
        )
        for start, children in runs:
            for child in children:
                if child.type == "text":
                    yield TextLine(start, child.content.replace(BRACE, "{"))
                elif child.type in ("softbreak", "hardbreak"):
                    start += 1
                elif child.type in MATH:
                    start += child.content.count("\n")

    def resolve_image(self, encoded: str, line: int) -> None:
        found = read_image(encoded, self.path, self.deck_dir, self.location(line))
        if isinstance(found, Problem):
            self.problems.append(found)
        else:
            self.media[encoded] = found.media
            self.images.append(found)


def parse_card(
    source: CardText, *, deck_dir: Path, sources: frozenset[str] = frozenset()
) -> tuple[Card | None, tuple[Problem, ...]]:
    """One card's Markdown → the Card, or None and what is wrong with it."""
    parser = _CardParser(source, deck_dir, sources)
    card = parser.parse()
    return card, tuple([*parser.problems, *parser.warnings][:MAX_PROBLEMS_PER_FILE])
