"""A synthetic deckgen deck (bench/synth.py) → the same cards in ankdown's input format.

The benchmark runs ankdown, another Markdown→Anki tool (one script, misaka's C
Markdown renderer, no checks), on these files when it is installed
(pip install 'deckgen[bench]').

ankdown reads every .md file under a folder; in a file, cards are separated by
`---` lines and a card's fields (question, answer, tags) by `%` lines. A card's
deck is the name of the folder holding its .md file, so each deckgen file gets
its own folder named "<deck title>::<subdeck>". Images are referenced relative
to the .md file, so each folder gets a copy of the deck's images/.

    python bench/ankdown_input.py DECK_FOLDER OUT_FOLDER
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}")


def _cards(text: str) -> Iterator[list[Any]]:
    """(attributes, question, answer, quotes, notes) for each card of one file."""
    card: list[Any] | None = None
    in_note = False
    for line in text.splitlines():
        if line.startswith("{#") and line.rstrip().endswith("}"):
            if card:
                yield card
            card = [line.strip()[2:-1], "", [], [], []]
        elif card is None:
            continue
        elif line.startswith("## ") and not card[1]:
            card[1] = line[3:].strip()
        elif in_note or line.strip() == "::: note":
            in_note = line.strip() != ":::"
            if line.strip() not in ("::: note", ":::"):
                card[4].append(line)
        elif line.startswith(">"):
            card[3].append(line)
        else:
            card[2].append(line)
    if card:
        yield card


def write_ankdown_deck(deck_folder: Path, out_folder: Path) -> Path:
    """Write ankdown input for the deck into out_folder and return out_folder."""
    config = tomllib.loads((deck_folder / "deck.toml").read_text("utf-8"))
    title, deck_tags = config["deck"]["title"], config["deck"].get("tags", [])
    out_folder.mkdir(parents=True, exist_ok=True)
    for source in sorted(deck_folder.glob("*.md")):
        text = source.read_text("utf-8")
        meta, subdeck, file_tags = "", None, []
        if text.startswith("---\n"):
            meta, text = text[4:].split("\n---\n", 1)
        for line in meta.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "deck":
                subdeck = value.strip()
            elif key.strip() == "tags":
                file_tags = [t.strip() for t in value.strip(" []").split(",") if t.strip()]
        folder = out_folder / (f"{title}::{subdeck}" if subdeck else title)
        folder.mkdir(exist_ok=True)
        if (deck_folder / "images").is_dir():
            shutil.copytree(deck_folder / "images", folder / "images", dirs_exist_ok=True)
        cards = []
        for attributes, question, answer, quotes, notes in _cards(text):
            card_tags = re.search(r'tags="([^"]*)"', attributes)
            tags = deck_tags + file_tags + (card_tags.group(1).split() if card_tags else [])
            body = "\n".join(answer).strip()
            if ".cloze" in attributes.split():  # ankdown has no cloze: a basic card
                body = CLOZE.sub(r"\1", body)
            parts = [body, "\n".join(quotes).strip(), "\n".join(notes).strip()]
            back = "\n\n".join(p for p in parts if p)
            lines = (question + "\n" + back).splitlines()
            if any(line.strip() in ("---", "%") for line in lines):
                raise ValueError(f"{source}: a line that ankdown would read as a separator")
            cards.append(f"{question}\n\n%\n\n{back}\n\n%\n\n{' '.join(tags)}\n")
        (folder / f"{source.stem}.md").write_text("\n---\n\n".join(cards), "utf-8")
    return out_folder


if __name__ == "__main__":
    print(write_ankdown_deck(Path(sys.argv[1]), Path(sys.argv[2])))
