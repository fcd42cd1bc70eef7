"""Format 1 of deck.lock.json (deckgen 0.1): how it hashed a card, to take over its times.

Format 1 kept one hash per card, of the card's Markdown and of everything that
shaped its notes (deckgen's version, OpenCC's, deck.toml, the phrase
dictionaries). The first build with format 2 keeps a card's time where this
hash still matches (the card has not changed since its last release) and
moves it forward where it does not: upgrading deckgen never looks like an
update to learners, and an edit made since the last build still reaches them.
"""

from __future__ import annotations

import hashlib

from deckgen.convert import engine_version, read_phrases
from deckgen.model import Card, DeckConfig

_VERSION = "0.1.0"
"""The only deckgen release that wrote format 1."""
_BUILTIN_PHRASES = (("和面对", "和面對"), ("姓余", "姓余"), ("者回复", "者回覆"))
"""deckgen 0.1.0's built-in phrase dictionary, as it was then."""


def legacy_hashes(config: DeckConfig, cards: list[Card]) -> dict[str, str]:
    """Card id → the hash format 1 would give the card now."""
    phrases = list(_BUILTIN_PHRASES)
    if config.phrases is not None:
        phrases += [
            (p.simplified, p.traditional)
            for p in read_phrases(config.phrases, inside=config.folder)
        ]
    text = "\x1f".join([_VERSION, engine_version(), config.raw, *(f"{s}\t{t}" for s, t in phrases)])
    environment = hashlib.sha256(text.encode()).hexdigest()
    return {card.id: _card_hash(card, environment) for card in cards}


def _card_hash(card: Card, environment: str) -> str:
    parts = [
        environment,
        card.kind.value,
        card.subdeck,
        " ".join(card.tags),
        *(part.markdown for part in (card.question, card.answer, *card.quotes)),
        card.note.markdown if card.note else "",
    ]
    parts += [f"{image.src}={image.media}" for image in card.images]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
