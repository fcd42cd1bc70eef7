"""A card's image: its path checked (relative, inside the deck, no link loop), the file
read (bounded), and its media name in the package, made from its content."""

from __future__ import annotations

import hashlib
import urllib.parse
from pathlib import Path

from deckgen.errors import DeckgenError, Location, Problem, Rule, Severity, shown
from deckgen.files import exists, is_inside, read_bytes, resolved
from deckgen.model import Image

BAD_IMAGE_PATH = Rule(
    "DG032", Severity.ERROR, "image path is absolute, outside the deck, or unreadable"
)
NO_IMAGE = Rule("DG033", Severity.ERROR, "image not found")
IMAGE_BYTES = 16 * 2**20
_HINT = "put the image in the deck folder (e.g. images/) and use a relative path"


def media_name(data: bytes, path: Path) -> str:
    """Content-hashed media name: the same image always gets the same name."""
    return f"deckgen-{hashlib.sha256(data).hexdigest()[:16]}{path.suffix.lower()}"


def read_image(encoded: str, card_file: Path, deck_dir: Path, at: Location) -> Image | Problem:
    """The image a card's ``![](encoded)`` shows, or what is wrong with its path or file."""

    def problem(rule: Rule, message: str) -> Problem:
        return rule.at(at, message, _HINT)

    # markdown-it percent-encodes the path (图.png → %E5%9B%BE.png); the file has the name.
    src = urllib.parse.unquote(encoded)
    if any(not c.isprintable() for c in src):
        return problem(BAD_IMAGE_PATH, f"image path {shown(src)} has control characters")
    if ":" in src.split("/")[0] or src.startswith(("/", "\\")):
        return problem(BAD_IMAGE_PATH, f"image {shown(src)} is not a relative path")
    path = card_file.parent / src
    if resolved(path) is None:
        return problem(BAD_IMAGE_PATH, f"image {shown(src)}: a symbolic link loop")
    if not is_inside(path, deck_dir):
        return problem(BAD_IMAGE_PATH, f"image {shown(src)} is outside the deck folder")
    if not exists(path):
        return problem(NO_IMAGE, f"image {shown(src)} not found")
    try:
        data = read_bytes(path, inside=deck_dir, limit=IMAGE_BYTES)
    except DeckgenError as error:
        reason = error.problems[0].message.removeprefix("is ").removeprefix("cannot read: ")
        outside = error.problems[0].code == "DG001"
        return problem(
            BAD_IMAGE_PATH,
            f"image {shown(src)} is outside the deck folder"
            if outside
            else f"image {shown(src)}: {reason}",
        )
    return Image(src=encoded, path=path, media=media_name(data, path), location=at)
