"""Card files → new cards and ids written into them (``deckgen new``, ``deckgen ids``).

Ids are made here so that nobody invents them by hand: the theme's name (the
file name without its number) and the next number no card in the deck, and no
card in the last build, has used. Files are edited as bytes, one line inserted
or changed per card, so line endings, a BOM and trailing spaces stay as they were.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deckgen import init, release
from deckgen.errors import DeckgenError, Location, Rule, Severity, fail
from deckgen.files import card_files, read_bytes, write_atomically
from deckgen.lock import LOCK_NAME, read_lock
from deckgen.model import Kind
from deckgen.quality import PLACEHOLDER

ERROR = Severity.ERROR
BAD_THEME_NAME = Rule("DG070", ERROR, "cannot make card ids from the file name")
NO_THEME = Rule("DG071", ERROR, "no such theme file, or --deck for a file that exists")
CHANGED_MEANWHILE = Rule("DG072", ERROR, "a card file changed while deckgen was writing ids")
RULES = (BAD_THEME_NAME, NO_THEME, CHANGED_MEANWHILE, *init.RULES, *release.RULES)
"""The rules of the commands that write a deck's files: new, ids, init and release."""

_BOM = b"\xef\xbb\xbf"
_THEME = re.compile(r"^(?:\d+-)?([a-z0-9]+(?:-[a-z0-9]+)*)$")
_ID_IN_ATTRS = re.compile(r"\{[^}\n]*#([A-Za-z0-9_-]+)")
_ATTRS_LINE = re.compile(rb"^[ \t]*\{[^}]*\}[ \t]*$")
_FILL = PLACEHOLDER + "：{}】"

_BODY = {
    Kind.BASIC: ("问题，如：作者认为……是什么？", "答案：一个短语或一句话"),
    # Both sides are prompts (DG112): a question, and an answer that stands on its own.
    Kind.REVERSED: (
        "两面都要能问的问题，如：作者说的“……”指什么？",
        "单独出现也能提示的答案：一句话，和问题有共同的词",
    ),
    Kind.CLOZE: ("上下文，显示在句子上方", None),
}


RICH = {
    "code": (
        _FILL.format("这段代码说明了什么（把 python 换成代码的语言）") + "\n\n"
        "```python\n# " + _FILL.format("代码") + "\n```"
    ),
    "math": _FILL.format("这个公式说明了什么") + "\n\n$$\n\\text{" + _FILL.format("公式") + "}\n$$",
    "table": (
        "| " + _FILL.format("列名") + " | " + _FILL.format("列名") + " |\n| --- | --- |\n"
        "| " + _FILL.format("内容") + " | " + _FILL.format("内容") + " |"
    ),
}
"""Blocks ``deckgen new --with`` adds after the answer, each with placeholders (code and
math are written as docs/card-format.md shows: a fence with its language, $$ … $$)."""


@dataclass(frozen=True)
class NewCard:
    """A card written by ``deckgen new``: where it is and its id."""

    id: str
    kind: Kind
    location: Location
    created_file: bool


@dataclass(frozen=True)
class MissingId:
    """A card heading without an id, and the id ``ids --fix`` gives it."""

    location: Location
    question: str
    new_id: str
    has_attrs: bool = False
    """Whether an attributes line (without an id) is already above the heading."""


def card_template(card_id: str, kind: Kind, rich: Sequence[str] = ()) -> str:
    """The Markdown of a new card, every part a 【TODO：…】 placeholder (flagged by DG100);
    ``rich`` names blocks of RICH to add after the answer."""
    question, answer = _BODY[kind]
    if answer is None:
        answer = "{}{{{{c1::{}}}}}。".format(_FILL.format("句子"), _FILL.format("要挖空的词"))
    else:
        answer = _FILL.format(answer)
    kind_class = "" if kind is Kind.BASIC else f" .{kind.value}"
    return (
        f"{{#{card_id}{kind_class}}}\n"
        f"## {_FILL.format(question)}\n\n"
        f"{answer}\n\n"
        + "".join(f"{RICH[block]}\n\n" for block in rich)
        + f"> {_FILL.format('原文，逐字摘录')}\n\n"
        f"::: note\n{_FILL.format('为什么重要、怎样用（用自己的话）')}\n:::\n"
    )


def theme_file(deck_dir: Path, theme: str) -> Path:
    """The card file for ``theme``: ``02-integration``, ``02-integration.md`` or ``integration``."""
    name = theme.removesuffix(".md")
    path = deck_dir / f"{name}.md"
    if path.is_file():
        return path
    matches = [p for p in card_files(deck_dir) if _id_prefix(p.stem) == name]
    return matches[0] if len(matches) == 1 else path


def new_card(
    *,
    deck_dir: Path,
    file: Path,
    kind: Kind = Kind.BASIC,
    subdeck: str | None = None,
    rich: Sequence[str] = (),
) -> NewCard:
    """Append a placeholder card to ``file``, creating it (with ``subdeck``) if asked."""
    prefix = _id_prefix(file.stem)
    if prefix is None:
        raise fail(
            BAD_THEME_NAME,
            file,
            0,
            f"cannot make card ids from the file name {file.name!r}",
            "name theme files like 07-new-topic.md (lowercase ASCII, digits, '-')",
        )
    card_id = _new_id(prefix, known_ids(deck_dir))
    card = card_template(card_id, kind, rich)
    if file.is_file():
        if subdeck is not None:
            raise fail(
                NO_THEME,
                file,
                0,
                f"--deck is only for a new theme file, and {file.name} exists",
                "its subdeck is the 'deck:' key of its front matter; leave out --deck",
            )
        raw = read_bytes(file, inside=deck_dir)
        newline = b"\r\n" if b"\r\n" in raw else b"\n"
        ending = b"" if not raw or raw.endswith((b"\n", b"\r")) else newline
        added = ending + newline + card.replace("\n", newline.decode()).encode()
        line = raw.count(b"\n") + (1 if ending else 0) + 3  # the heading
        write_atomically(file, raw + added)
        return NewCard(card_id, kind, Location(file, line), created_file=False)
    if subdeck is None:
        known = [p.stem for p in card_files(deck_dir)]
        close = difflib.get_close_matches(file.stem, known, n=1)
        raise fail(
            NO_THEME,
            file,
            0,
            f"no theme file {file.name} in {deck_dir}",
            f"did you mean --theme {close[0]}? To start a new theme, add --deck NAME"
            if close
            else "to start a new theme, add --deck NAME (its subdeck name)",
        )
    import yaml

    # yaml quotes a name only where it must ("a: b"), so that it stays one string.
    name = subdeck.split("::")[-1].strip()
    tag = "".join(c for c in name if not c.isspace() and c not in "<>&\"'")
    matter = {"deck": subdeck, "tags": [tag] if tag else []}
    front_matter = yaml.safe_dump(
        matter, allow_unicode=True, width=1000, default_flow_style=None, sort_keys=False
    )
    header = f"---\n{front_matter}---\n\n# {name}\n\n"
    write_atomically(file, (header + card).encode())
    return NewCard(card_id, kind, Location(file, header.count("\n") + 2), created_file=True)


def _id_prefix(stem: str) -> str | None:
    """``02-integration`` → ``integration``; None if the name cannot start an id."""
    match = _THEME.match(stem)
    return match[1] if match else None


def known_ids(deck_dir: Path) -> set[str]:
    """Every id in the deck's card files and in its last build (retired ids stay taken)."""
    ids: set[str] = set()
    for path in card_files(deck_dir):
        ids.update(_ID_IN_ATTRS.findall(_read(path, deck_dir).decode("utf-8", "replace")))
    previous = read_lock(deck_dir / LOCK_NAME)
    ids.update(previous.cards, previous.legacy, (key.split("/")[0] for key in previous.retired))
    return ids


def _read(path: Path, deck_dir: Path) -> bytes:
    """A card file's bytes; a file that build would refuse (a link out, a FIFO) is skipped
    here and reported by check, so that every command agrees on what belongs to the deck."""
    try:
        return read_bytes(path, inside=deck_dir)
    except DeckgenError:
        return b""


def _new_id(prefix: str, taken: set[str]) -> str:
    """``prefix-N``, numbered after the highest N ever taken; added to ``taken``."""
    numbered = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    number = max((int(m[1]) for i in taken if (m := numbered.match(i))), default=0) + 1
    card_id = f"{prefix}-{number}"
    taken.add(card_id)
    return card_id


def missing_ids(deck_dir: Path) -> list[MissingId]:
    """Every card heading in the deck's files without an id, with the id it would get.

    Cards are found as the build finds them (cardfile.read_card_file); a file the build
    would refuse is left alone here, and reported by check.
    """
    from deckgen.cardfile import read_card_file
    from deckgen.markdown import markdown_parser

    taken = known_ids(deck_dir)
    found: list[MissingId] = []
    for path in card_files(deck_dir):
        prefix = _id_prefix(path.stem) or "card"
        for card in read_card_file(path, deck_dir=deck_dir).cards:
            tokens = markdown_parser().parse(card.text)
            heading = next(i for i, t in enumerate(tokens) if t.type == "heading_open")
            token = tokens[heading]
            if "id" in token.attrs or token.map is None:
                continue
            found.append(
                MissingId(
                    Location(path, card.line + token.map[0]),
                    tokens[heading + 1].content,
                    _new_id(prefix, taken),
                    has_attrs=bool(token.attrs),
                )
            )
    return found


def write_ids(missing: list[MissingId], *, deck_dir: Path) -> None:
    """Write each missing id into its file; change nothing else, byte for byte.

    Each file is replaced at once; one that changed since its ids were found (an
    editor saving it meanwhile) is refused (DG072) and left as it is.
    """
    by_file: dict[Path, list[MissingId]] = {}
    for item in missing:
        by_file.setdefault(item.location.path, []).append(item)
    stamped = {
        path: _stamped(read_bytes(path, inside=deck_dir), items) for path, items in by_file.items()
    }
    for path, (before, after) in stamped.items():
        if read_bytes(path, inside=deck_dir) != before:
            raise fail(
                CHANGED_MEANWHILE,
                path,
                0,
                f"{path.name} changed while deckgen was writing ids into it",
                "run 'deckgen ids --fix' again",
            )
        write_atomically(path, after)


def _stamped(raw: bytes, items: list[MissingId]) -> tuple[bytes, bytes]:
    bom = raw.startswith(_BOM)
    lines = raw[len(_BOM) :].splitlines(keepends=True) if bom else raw.splitlines(keepends=True)
    for item in sorted(items, key=lambda i: i.location.line, reverse=True):
        index = item.location.line - 1
        above = index - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        if item.has_attrs and above >= 0 and _ATTRS_LINE.match(lines[above].rstrip(b"\r\n")):
            line = lines[above]
            brace = line.index(b"{") + 1
            lines[above] = line[:brace] + f"#{item.new_id} ".encode() + line[brace:]
        else:
            heading = lines[index]
            newline = heading[len(heading.rstrip(b"\r\n")) :] or b"\n"
            lines.insert(index, f"{{#{item.new_id}}}".encode() + newline)
    return raw, (_BOM if bom else b"") + b"".join(lines)
