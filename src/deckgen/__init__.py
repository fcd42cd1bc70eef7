"""deckgen: annotated Markdown flashcards → Anki packages in zh-Hans and zh-Hant."""

from __future__ import annotations

__version__ = "0.2.0"

__all__ = ["__version__"]
