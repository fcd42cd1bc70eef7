"""One card's Markdown (a ``CardText``, cut from its file by deckgen.cardfile) → a ``Card``
(plain data); every problem names file:line.

Each card is parsed on its own with markdown-it, which is what lets the build
cache and parallelise per card; the tokens do not outlive this module.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.cardfile import MAX_PROBLEMS_PER_FILE, CardText
from deckgen.cloze import malformed
from deckgen.errors import Location, Problem, Rule, Severity, brief, shown
from deckgen.frontmatter import BAD_TAGS
from deckgen.images import BAD_IMAGE_PATH, NO_IMAGE, read_image
from deckgen.latex import (
    CLOZE_OPENER,
    OPEN_DOLLARS,
    MathCloze,
    split_clozes,
    unbalanced,
    without_clozes,
)
from deckgen.model import (
    BRACE,
    Card,
    Cloze,
    Image,
    Kind,
    Part,
    TextLine,
    is_tag,
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
RAW_HTML = Rule("DG030", ERROR, "raw HTML in a card")
BAD_LINK = Rule("DG031", ERROR, "link with a scheme other than http, https, mailto")
LEFT_OPEN = Rule("DG035", ERROR, "code fence or note left open past the card's end")
UNDERLINED_HEADING = Rule("DG036", ERROR, "heading underlined with --- or === inside a card")
UNKNOWN_SOURCE = Rule("DG037", ERROR, "quote names a source deck.toml does not have")
MALFORMED_CLOZE = Rule("DG040", ERROR, "malformed cloze")
MISPLACED_CLOZE = Rule("DG041", ERROR, "cloze deletion outside a .cloze card's answer")
NO_DELETION = Rule("DG042", ERROR, "cloze card has no deletion")
UNBALANCED_MATH = Rule("DG038", ERROR, "math left open, or its braces or environments unbalanced")
UNKNOWN_LANGUAGE = Rule(
    "DG130", Severity.WARNING, "fenced code in a language the highlighter does not know"
)
RULES = (
    NO_ID, BAD_ID, UNKNOWN_ATTRIBUTE, UNKNOWN_KIND, EMPTY, TWO_NOTES, RAW_HTML, BAD_LINK,
    BAD_IMAGE_PATH, NO_IMAGE, LEFT_OPEN, UNDERLINED_HEADING, UNKNOWN_SOURCE, MALFORMED_CLOZE,
    MISPLACED_CLOZE, NO_DELETION, UNBALANCED_MATH, UNKNOWN_LANGUAGE,
)  # fmt: skip
_MATH = ("math_inline", "math_inline_double", "math_block")

CARD_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CARD_ATTRS = ("id", "class", "tags", "allow")
_LINK_SCHEMES = ("http:", "https:", "mailto:")


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
        self.check_blocks(tokens)
        card_id = self.read_id(heading, line, attrs_line)
        kind = self.read_kind(heading, attrs_line)
        tags = self.source.tags + self.read_tags(str(heading.attrs.get("tags", "")), attrs_line)
        allow = frozenset(str(heading.attrs.get("allow", "")).split())
        self.warnings = [w for w in self.warnings if w.code not in allow]
        inline = tokens[start + 1]
        children = list(inline.children or [])
        self.check_inline([inline], line, None)
        body = tokens[start + 3 :]
        blocks = list(_top_level_blocks(body))
        for first, last in blocks:
            in_answer = body[first].type not in ("blockquote_open", "container_note_open")
            self.check_inline(body[first:last], line, kind if in_answer else None)
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

    def check_blocks(self, tokens: list[Token]) -> None:
        """Fences and notes left open, and headings that markdown-it found inside the card."""
        headings = 0
        for token in tokens:
            if token.type == "heading_open" and token.level == 0 and token.tag in ("h1", "h2"):
                headings += 1
                if headings > 1:
                    self.problem(
                        UNDERLINED_HEADING,
                        self.line(token),
                        "a heading underlined with --- or === inside a card",
                        "a card's question is its '## ' line; for a rule line write *** "
                        "with a blank line above it",
                    )
            elif token.type == "fence" and token.map and not self.closed_fence(token):
                self.left_open(token, "code fence", token.markup)
            elif token.type == "container_note_open" and token.map and not self.closed_note(token):
                self.left_open(token, "note", ":::")
            if token.type == "fence" and token.map:
                self.check_language(token)

    def check_language(self, token: Token) -> None:
        """DG130: a fence whose language Pygments does not know shows as plain code."""
        from deckgen.highlight import closest_language, known_language
        from deckgen.markdown import fence_language

        language = fence_language(token)
        if language and not known_language(language):
            close = closest_language(language)
            self.warnings.append(
                UNKNOWN_LANGUAGE.at_line(
                    self.path,
                    self.line(token),
                    f"code block in {shown(language)}, a language the highlighter does not "
                    "know: it shows as plain text",
                    f"did you mean '{close}'?"
                    if close
                    else "use a Pygments name (python, sql, js, bash, text) or no language",
                )
            )

    def closed_fence(self, token: Token) -> bool:
        assert token.map is not None
        last = self.lines[token.map[1] - 1].strip()
        return (
            token.map[1] - 1 > token.map[0]
            and len(last) >= len(token.markup)
            and not last.strip(token.markup[0])
        )

    def closed_note(self, token: Token) -> bool:
        assert token.map is not None
        return token.map[1] < len(self.lines) and self.lines[token.map[1]].strip().startswith(":::")

    def left_open(self, token: Token, what: str, closer: str) -> None:
        self.problem(
            LEFT_OPEN,
            self.line(token),
            f"this {what} is never closed before the card ends",
            f"close it with a '{closer}' line before the next card (a '## ' line under a "
            "'{#id}' line always starts a card, also inside code)",
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
            text="".join(_plain_text(tokens)),
            lines=tuple(self.text_lines(tokens, line, inline)),
            blocks=tuple(_blocks(tokens)),
            bullet_lists=tuple(_bullet_lists(tokens)),
            clozes=tuple(_clozes(tokens)),
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
                elif child.type in _MATH:
                    start += child.content.count("\n")

    def check_inline(self, tokens: list[Token], card_line: int, kind: Kind | None) -> None:
        """Raw HTML, links, images, cloze syntax and math in one part; ``kind`` only for the
        answer."""
        block_line, breaks = card_line, 0
        for token in _walk(tokens):
            if token.map:
                block_line, breaks = self.line(token), 0
            elif token.type in ("softbreak", "hardbreak"):
                breaks += 1
            for offset in token.meta.get(OPEN_DOLLARS, ()) if token.type == "inline" else ():
                self.problem(
                    UNBALANCED_MATH,
                    block_line + offset,
                    "a '$' opens math that is never closed",
                    "close the math with '$' right after it (no space before), or write \\$ "
                    "for a dollar sign",
                )
            if token.type in _MATH:
                self.check_math(token.content, block_line + breaks, kind)
                breaks += token.content.count("\n") if not token.map else 0
            elif token.type in ("html_block", "html_inline"):
                self.problem(
                    RAW_HTML,
                    block_line,
                    f"raw HTML is not allowed: {shown(token.content.strip(), 40)}",
                    "write Markdown instead (**bold**, lists, tables); deckgen renders and "
                    "sanitizes it",
                )
            elif token.type == "link_open":
                href = str(token.attrs.get("href", ""))
                if ":" in href.split("/")[0] and not href.lower().startswith(_LINK_SCHEMES):
                    self.problem(
                        BAD_LINK,
                        block_line,
                        f"link to {shown(href, 40)} is not allowed",
                        "links may use http:, https: or mailto:",
                    )
            elif token.type == "image":
                self.resolve_image(str(token.attrs.get("src", "")), block_line)
            elif token.type == "text" and (found := malformed(token.content)):
                self.problem(
                    MALFORMED_CLOZE,
                    block_line,
                    f"malformed cloze near {shown(found)}",
                    "write deletions as {{c1::text}} or {{c1::text::hint}}, numbered "
                    "from 1, not nested, closed with }}; write \\{{ for literal braces",
                )
            elif token.type == "cloze_open" and kind is not Kind.CLOZE:
                self.problem(
                    MISPLACED_CLOZE,
                    block_line,
                    "cloze deletion outside a .cloze card's answer",
                    "in a card's answer, add .cloze to its attributes; elsewhere remove the "
                    "{{c1::…}} (write \\{{ for literal braces)",
                )

    def check_math(self, tex: str, line: int, kind: Kind | None) -> None:
        """DG038 for math that does not balance; DG040/DG041 for a deletion inside math that
        Anki would misread, or that is outside a cloze card's answer."""
        _, why = split_clozes(tex)
        if CLOZE_OPENER.search(tex) and kind is not Kind.CLOZE:
            self.problem(
                MISPLACED_CLOZE,
                line,
                "cloze deletion outside a .cloze card's answer",
                "in a card's answer, add .cloze to its attributes; elsewhere remove the {{c1::…}}",
            )
        elif why:
            self.problem(
                MALFORMED_CLOZE,
                line,
                f"malformed cloze in math: {brief(why, 80)}",
                "Anki ends a deletion at the first }}: write a space before it when the "
                "math ends in a brace, e.g. {{c1::\\frac{1}{2} }}",
            )
        elif why := unbalanced(without_clozes(tex)):
            self.problem(
                UNBALANCED_MATH,
                line,
                f"math {shown(tex.strip(), 40)} does not balance: {why}",
                "pair every '{' with '}', \\left with \\right and \\begin{…} with \\end{…}; "
                "write \\{ and \\} for literal braces",
            )

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


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _plain_text(tokens: list[Token]) -> Iterator[str]:
    for token in tokens:
        if token.children:
            yield from _plain_text(token.children)
        elif token.type in ("text", "code_inline"):
            yield token.content.replace(BRACE, "{")
        elif token.type in _MATH:
            yield without_clozes(token.content)
        elif token.type == "hardbreak":
            yield "\n"


def _blocks(tokens: list[Token]) -> Iterator[str]:
    """The plain text of each inline block (paragraph, heading, table cell)."""
    for token in tokens:
        if token.children:
            yield "".join(
                "\n"
                if child.type in ("softbreak", "hardbreak")
                else child.content.replace(BRACE, "{")
                for child in token.children
                if child.type in ("text", "code_inline", "softbreak", "hardbreak")
            )


def _bullet_lists(tokens: list[Token]) -> Iterator[int]:
    """The number of items of each unordered list; ordered steps are not counted."""
    counts: list[int] = []
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            counts.append(0 if token.type == "bullet_list_open" else -1)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            count = counts.pop()
            if count >= 0:
                yield count
        elif token.type == "list_item_open" and counts and counts[-1] >= 0:
            counts[-1] += 1


def _clozes(tokens: list[Token]) -> Iterator[Cloze]:
    """Every deletion in order, with its plain text (deletions do not nest)."""
    opened: list[tuple[int, str, list[str]]] = []
    for token in _walk(tokens):
        if token.type == "cloze_open":
            opened.append((token.meta["number"], token.meta["hint"], []))
        elif token.type == "cloze_close" and opened:
            number, hint, texts = opened.pop()
            yield Cloze(number, "".join(texts), hint)
        elif opened and token.type in ("text", "code_inline", *_MATH):
            opened[-1][2].append(token.content.replace(BRACE, "{"))
        elif token.type in _MATH:
            parts, _ = split_clozes(token.content)
            yield from (Cloze(p.number, p.text, p.hint) for p in parts if isinstance(p, MathCloze))


def _top_level_blocks(tokens: list[Token]) -> Iterator[tuple[int, int]]:
    start = 0
    depth = 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            yield start, index + 1
            start = index + 1
