"""Markdown files → Cards, via markdown-it-py tokens; every problem names file:line."""

from __future__ import annotations

import difflib
import functools
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from deckgen.cloze import MALFORMED, cloze_plugin
from deckgen.config import load_config
from deckgen.convert import PROTECT_CLOSE, PROTECT_OPEN
from deckgen.errors import DeckgenError, Location, Problem
from deckgen.model import Card, Deck, Field, Image, Kind, is_tag

CARD_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CARD_ATTRS = ("id", "class", "tags", "allow")
_FRONT_MATTER_KEYS = ("deck", "tags")
_LINK_SCHEMES = ("http:", "https:", "mailto:")
NOT_CARD_FILES = frozenset({"README.md", "CONTRIBUTING.md"})


@functools.lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The one markdown-it configuration, shared by parsing and rendering."""
    from mdit_py_cjk_friendly import cjk_friendly
    from mdit_py_plugins.attrs import attrs_block_plugin
    from mdit_py_plugins.container import container_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    # html=True so that raw HTML becomes html_* tokens we can reject by line.
    md = MarkdownIt("commonmark", {"html": True})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin).use(attrs_block_plugin).use(container_plugin, name="note")
    md.use(cloze_plugin).use(cjk_friendly)
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # we report bad links
    return md


@dataclass
class _FileParser:
    """Parses one card file, collecting problems instead of stopping at the first."""

    path: Path
    deck_dir: Path
    problems: list[Problem] = field(default_factory=list)
    subdeck: str = ""
    tags: tuple[str, ...] = ()

    def problem(self, line: int, code: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(Location(self.path, line), code, message, hint))

    def parse(self, text: str) -> list[Card]:
        if PROTECT_OPEN in text or PROTECT_CLOSE in text:
            first = min(i for i in (text.find(PROTECT_OPEN), text.find(PROTECT_CLOSE)) if i >= 0)
            line = text[:first].count("\n") + 1
            self.problem(
                line,
                "DG003",
                "private-use character U+E000/U+E001 in the text",
                "delete it; deckgen uses these characters internally",
            )
            return []
        tokens = markdown_parser().parse(text)
        lines = text.split("\n")  # once per file: cards slice their source from it
        if tokens and tokens[0].type == "front_matter":
            self.read_front_matter(tokens[0])
        cards = [
            card
            for start, end in _card_spans(tokens)
            if (card := self.read_card(tokens, start, end, lines)) is not None
        ]
        if not cards and not self.problems:
            self.problem(
                1,
                "DG004",
                "no cards in this file",
                "a card is a '## question' heading with '{#card-id}' on the line "
                "above it; see docs/card-format.md",
            )
        return cards

    def read_front_matter(self, token: Token) -> None:
        import yaml

        try:
            data = yaml.safe_load(token.content)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = 2 + mark.line if mark is not None else 1
            reason = getattr(error, "problem", None) or str(error).splitlines()[0]
            self.problem(
                line,
                "DG012",
                f"front matter is not valid YAML: {reason}",
                "front matter holds 'deck: name' and 'tags: [a, b]' between '---' lines",
            )
            return
        if data is None:
            return
        if not isinstance(data, dict):
            self.problem(
                2,
                "DG012",
                "front matter must be 'key: value' lines",
                "e.g. 'deck: 核心能力' and 'tags: [整合]'",
            )
            return
        for key in data:
            if key not in _FRONT_MATTER_KEYS:
                close = difflib.get_close_matches(str(key), _FRONT_MATTER_KEYS, n=1)
                self.problem(
                    _key_line(token, str(key)),
                    "DG012",
                    f"unknown front matter key {key!r}",
                    f"did you mean '{close[0]}'?" if close else "allowed keys: deck, tags",
                )
        subdeck = data.get("deck", "")
        if not isinstance(subdeck, str) or any(
            not part.strip() for part in (subdeck.split("::") if subdeck else [])
        ):
            self.problem(
                _key_line(token, "deck"),
                "DG012",
                f"'deck' must be a subdeck name like 核心能力::整合, got {subdeck!r}",
                "write one name, '::' between levels: deck: 核心能力::整合",
            )
        else:
            self.subdeck = subdeck.strip()
        self.tags = self.read_tags(data.get("tags", []), _key_line(token, "tags"))

    def read_tags(self, value: Any, line: int) -> tuple[str, ...]:
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list) or not all(
            isinstance(tag, str) and is_tag(tag) for tag in value
        ):
            self.problem(
                line,
                "DG013",
                f"tags must be words without spaces, '<' or '>', got {value!r}",
                'write tags: [结果导向, 整合] (front matter) or tags="a b" (card)',
            )
            return ()
        return tuple(value)

    def read_id(self, heading: Token, line: int, attrs_line: int) -> str:
        """The card's id from its attributes line; unknown attributes and bad ids reported."""
        card_id = str(heading.attrs.get("id", ""))
        for name in heading.attrs:
            if name not in _CARD_ATTRS:
                close = difflib.get_close_matches(name, _CARD_ATTRS, n=1)
                self.problem(
                    attrs_line,
                    "DG007",
                    f"unknown card attribute {name!r}",
                    f"did you mean '{close[0]}'?"
                    if close
                    else 'allowed: {#id .kind tags="…" allow="…"}',
                )
        if not card_id:
            self.problem(
                line,
                "DG005",
                "card has no id",
                "add a line '{#some-card-id}' right above the heading, or run 'deckgen ids --fix'",
            )
        elif not CARD_ID.match(card_id):
            self.problem(
                attrs_line,
                "DG006",
                f"card id {card_id!r} has forbidden characters",
                "use lowercase ASCII letters, digits and single '-', e.g. 'integration-core'",
            )
        return card_id

    def read_card(self, tokens: list[Token], start: int, end: int, lines: list[str]) -> Card | None:
        """The card whose heading is tokens[start], or None (with problems) if it is broken."""
        heading = tokens[start]
        line = _line(heading)
        attrs_line = line - 1 if heading.attrs else line
        before = len(self.problems)
        card_id = self.read_id(heading, line, attrs_line)
        kind = self.read_kind(heading, attrs_line)
        inline = tokens[start + 1]
        question = Field(inline.content, Location(self.path, line), tuple(inline.children or ()))
        answer, quotes, note = self.read_body(tokens[start + 3 : end], line, lines)
        tags = self.tags + self.read_tags(str(heading.attrs.get("tags", "")).split(), attrs_line)
        allow = frozenset(str(heading.attrs.get("allow", "")).split())
        if not question.text.strip():
            self.problem(
                line,
                "DG009",
                "card has an empty question",
                "write the question as the heading text: '## 问题？'",
            )
        if not answer.tokens:
            self.problem(
                line,
                "DG009",
                "card has an empty answer",
                "write the answer below the heading, before any '>' quote",
            )
        all_tokens = [question.tokens, answer.tokens, *(q.tokens for q in quotes)]
        if note:
            all_tokens.append(note.tokens)
        images = [
            image
            for part in all_tokens
            # Deletions belong in a cloze card's answer; anywhere else Anki shows them raw.
            for image in self.check_inline(part, line, kind if part is answer.tokens else None)
        ]
        numbers = tuple(
            t.meta["number"] for t in _walk(list(answer.tokens)) if t.type == "cloze_open"
        )
        self.check_cloze(kind, numbers, line)
        if kind is None or len(self.problems) > before:
            return None
        return Card(
            id=card_id,
            kind=kind,
            question=question,
            answer=answer,
            quotes=quotes,
            note=note,
            tags=tags,
            subdeck=self.subdeck,
            location=Location(self.path, line),
            allow=allow,
            images=tuple(images),
            cloze_numbers=numbers,
        )

    def read_kind(self, heading: Token, line: int) -> Kind | None:
        classes = str(heading.attrs.get("class", "basic")).split()
        names = [k.value for k in Kind]
        if len(classes) != 1 or classes[0] not in names:
            self.problem(
                line,
                "DG008",
                f"unknown card kind {' '.join(classes)!r}",
                "use one of .basic, .reversed, .cloze",
            )
            return None
        return Kind(classes[0])

    def read_body(
        self, body: list[Token], line: int, lines: list[str]
    ) -> tuple[Field, tuple[Field, ...], Field | None]:
        answer: list[Token] = []
        quotes: list[Field] = []
        notes: list[Field] = []
        for block_start, block_end in _top_level_blocks(body):
            first = body[block_start]
            inner = tuple(body[block_start + 1 : block_end - 1])
            source = "\n".join(lines[first.map[0] : first.map[1]]) if first.map else ""
            where = Location(self.path, _line(first))
            if first.type == "blockquote_open":
                quotes.append(Field(source, where, inner))
            elif first.type == "container_note_open":
                notes.append(Field(source, where, inner))
            else:
                answer.extend(body[block_start:block_end])
        if len(notes) > 1:
            self.problem(
                notes[1].location.line,
                "DG014",
                "card has more than one note",
                "merge them into one '::: note' block",
            )
        answer_lines = [t.map for t in answer if t.map and t.level == 0]
        answer_source = "\n".join("\n".join(lines[m[0] : m[1]]) for m in answer_lines)
        where = Location(self.path, answer_lines[0][0] + 1 if answer_lines else line)
        return (
            Field(answer_source, where, tuple(answer)),
            tuple(quotes),
            (notes[0] if notes else None),
        )

    def check_inline(
        self, tokens: tuple[Token, ...], card_line: int, kind: Kind | None
    ) -> Iterator[Image]:
        block_line = card_line
        for token in _walk(list(tokens)):
            block_line = _line(token) if token.map else block_line
            if token.type in ("html_block", "html_inline"):
                self.problem(
                    block_line,
                    "DG030",
                    f"raw HTML is not allowed: {token.content.strip()[:40]!r}",
                    "write Markdown instead (**bold**, lists, tables); "
                    "deckgen renders and sanitizes it",
                )
            elif token.type == "link_open":
                href = str(token.attrs.get("href", ""))
                if ":" in href.split("/")[0] and not href.lower().startswith(_LINK_SCHEMES):
                    self.problem(
                        block_line,
                        "DG031",
                        f"link to {href[:40]!r} is not allowed",
                        "links may use http:, https: or mailto:",
                    )
            elif token.type == "image":
                image = self.resolve_image(str(token.attrs.get("src", "")), block_line)
                if image:
                    yield image
            elif token.type == "text" and MALFORMED.search(token.content):
                self.problem(
                    block_line,
                    "DG040",
                    f"malformed cloze near {MALFORMED.search(token.content)[0]!r}",  # type: ignore[index]
                    "write deletions as {{c1::text}} or {{c1::text::hint}}, numbered "
                    "from 1, not nested, closed with }}; write \\{{ for literal braces",
                )
            elif token.type == "cloze_open" and kind is not Kind.CLOZE:
                self.problem(
                    block_line,
                    "DG041",
                    "cloze deletion outside a .cloze card's answer",
                    "in a card's answer, add .cloze to its attributes; elsewhere remove the "
                    "{{c1::…}} (write \\{{ for literal braces)",
                )

    def resolve_image(self, src: str, line: int) -> Image | None:
        hint = "put the image in the deck folder (e.g. images/) and use a relative path"
        # markdown-it percent-encodes the path (图.png → %E5%9B%BE.png); the file has the name.
        src, encoded = urllib.parse.unquote(src), src
        if ":" in src.split("/")[0] or src.startswith(("/", "\\")):
            self.problem(line, "DG032", f"image {src!r} is not a relative path", hint)
            return None
        path = (self.path.parent / src).resolve()
        if not path.is_relative_to(self.deck_dir.resolve()):
            self.problem(line, "DG032", f"image {src!r} is outside the deck folder", hint)
            return None
        if not path.is_file():
            self.problem(line, "DG033", f"image {src!r} not found", hint)
            return None
        return Image(src=encoded, path=path, location=Location(self.path, line))

    def check_cloze(self, kind: Kind | None, numbers: tuple[int, ...], line: int) -> None:
        if kind is Kind.CLOZE and not numbers:
            self.problem(
                line,
                "DG042",
                "cloze card has no deletion",
                "mark what to hide in the answer as {{c1::text}}",
            )


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 0


def _key_line(token: Token, key: str) -> int:
    for offset, text in enumerate(token.content.splitlines()):
        if text.startswith(f"{key}:"):
            return _line(token) + 1 + offset
    return _line(token) + 1


def _card_spans(tokens: list[Token]) -> Iterator[tuple[int, int]]:
    """(start, end) token ranges of each card: a level-2 heading up to the next h1/h2."""
    starts = [
        i
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.level == 0 and t.tag in ("h1", "h2")
    ]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(tokens)
        if tokens[start].tag == "h2":
            yield start, end


def _top_level_blocks(tokens: list[Token]) -> Iterator[tuple[int, int]]:
    start = 0
    depth = 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            yield start, index + 1
            start = index + 1


def parse_file(path: Path, *, deck_dir: Path) -> list[Card]:
    """Parse one card file; raise DeckgenError with all of its problems."""
    parser = _FileParser(path, deck_dir)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DeckgenError(
            [
                Problem(
                    Location(path, line),
                    "DG002",
                    f"not valid UTF-8 ({error.reason} at byte {error.start})",
                    "save the file as UTF-8",
                )
            ]
        ) from None
    cards = parser.parse(text.replace("\r\n", "\n").replace("\r", "\n"))
    if parser.problems:
        raise DeckgenError(parser.problems)
    return cards


def card_files(deck_dir: Path) -> list[Path]:
    """The deck's card files, in build order."""
    return sorted(
        p for p in deck_dir.glob("*.md") if p.name not in NOT_CARD_FILES and not p.is_dir()
    )


def parse_deck(deck_dir: Path) -> Deck:
    """Read deck.toml and every card file; raise DeckgenError with every problem found."""
    config = load_config(deck_dir)
    problems: list[Problem] = []
    cards: list[Card] = []
    files = card_files(deck_dir)
    if not files:
        problems.append(
            Problem(
                Location(deck_dir),
                "DG004",
                "no card files (*.md) in the deck",
                "add one: deckgen new --theme NAME",
            )
        )
    for path in files:
        if not path.resolve().is_relative_to(deck_dir.resolve()):
            # A symlink out of the deck: never read (and echo in messages) what it points to.
            problems.append(
                Problem(
                    Location(path),
                    "DG001",
                    "card file is a link to a file outside the deck folder",
                    "replace the link with the card file itself",
                )
            )
            continue
        try:
            cards.extend(parse_file(path, deck_dir=deck_dir))
        except DeckgenError as error:
            problems.extend(error.problems)
    seen: dict[str, Card] = {}
    for card in cards:
        if card.id in seen:
            first = seen[card.id].location
            problems.append(
                Problem(
                    card.location,
                    "DG011",
                    f"duplicate card id {card.id!r}",
                    f"first used at {first}; every card needs its own id",
                )
            )
        else:
            seen[card.id] = card
    if problems:
        raise DeckgenError(problems)
    return Deck(config=config, cards=tuple(cards), files=tuple(files))
