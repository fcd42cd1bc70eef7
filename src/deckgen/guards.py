"""What a card's Markdown may not hold, found on its markdown-it tokens while the card is
parsed (deckgen.parse): raw HTML, links other than http, https and mailto, cloze syntax
that is malformed or outside a cloze card's answer, math that does not balance, code
fences and notes left open, headings underlined inside a card; and a warning for a code
language the highlighter does not know."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen.cloze import malformed
from deckgen.errors import Problem, Rule, Severity, brief, shown
from deckgen.latex import CLOZE_OPENER, OPEN_DOLLARS, split_clozes, unbalanced, without_clozes
from deckgen.model import Kind
from deckgen.tokens import MATH, walk

if TYPE_CHECKING:
    from markdown_it.token import Token

ERROR = Severity.ERROR
RAW_HTML = Rule("DG030", ERROR, "raw HTML in a card")
BAD_LINK = Rule("DG031", ERROR, "link with a scheme other than http, https, mailto")
LEFT_OPEN = Rule("DG035", ERROR, "code fence or note left open past the card's end")
UNDERLINED_HEADING = Rule("DG036", ERROR, "heading underlined with --- or === inside a card")
MALFORMED_CLOZE = Rule("DG040", ERROR, "malformed cloze")
MISPLACED_CLOZE = Rule("DG041", ERROR, "cloze deletion outside a .cloze card's answer")
UNBALANCED_MATH = Rule("DG038", ERROR, "math left open, or its braces or environments unbalanced")
UNKNOWN_LANGUAGE = Rule(
    "DG130", Severity.WARNING, "fenced code in a language the highlighter does not know"
)
RULES = (
    RAW_HTML, BAD_LINK, LEFT_OPEN, UNDERLINED_HEADING, MALFORMED_CLOZE, MISPLACED_CLOZE,
    UNBALANCED_MATH, UNKNOWN_LANGUAGE,
)  # fmt: skip
_LINK_SCHEMES = ("http:", "https:", "mailto:")


class Guard:
    """The checks of one card, adding to its parser's problems (which stop the card) and
    warnings (which do not); images met on the way are handed to ``on_image``."""

    def __init__(
        self,
        path: Path,
        lines: list[str],
        first_line: int,
        problems: list[Problem],
        warnings: list[Problem],
        on_image: Callable[[str, int], None],
    ) -> None:
        self.path, self.lines, self.first_line = path, lines, first_line
        self.problems, self.warnings, self.on_image = problems, warnings, on_image

    def problem(self, rule: Rule, line: int, message: str, hint: str = "") -> None:
        self.problems.append(rule.at_line(self.path, line, message, hint))

    def line(self, token: Token) -> int:
        """The file line of a block token."""
        return self.first_line + token.map[0] if token.map else self.first_line

    def blocks(self, tokens: list[Token]) -> None:
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

    def inline(self, tokens: list[Token], card_line: int, kind: Kind | None) -> None:
        """Raw HTML, links, images, cloze syntax and math in one part; ``kind`` only for the
        answer."""
        block_line, breaks = card_line, 0
        for token in walk(tokens):
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
            if token.type in MATH:
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
                self.on_image(str(token.attrs.get("src", "")), block_line)
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
