"""Shared fixtures: deck folders in tmp_path, the CLI, and real Anki collections."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deckgen.cli import cli

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_DECK = FIXTURES / "decks" / "sample"
ARTICLE = REPO.parent / "shared" / "source" / "article.zh-Hans.txt"
ARTICLE_AS_RECEIVED = REPO.parent / "shared" / "source" / "article.zh-Hant.as-received.txt"


REQUIRE_ARTICLE = "DECKGEN_REQUIRE_ARTICLE"
"""Set (by .ci/run) where ../shared/source is part of the checkout: tests that need the
article then fail instead of skipping."""


def need_article(path: Path = ARTICLE) -> Path:
    """The article file, or skip the test (a public clone has no ../shared/source)."""
    if path.is_file():
        return path
    if os.environ.get(REQUIRE_ARTICLE):
        pytest.fail(f"{path} is missing, and {REQUIRE_ARTICLE} says this checkout has it")
    pytest.skip(f"needs the source article at {path} (not part of a public clone)")


@pytest.fixture
def article() -> Path:
    """The canonical Simplified article, for tests that check quotes against it."""
    return need_article()


def run(*args: str | Path) -> Result:
    """Run the deckgen CLI in-process; exceptions other than SystemExit propagate."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def sample_deck(tmp_path: Path) -> Path:
    """A writable copy of the sample deck (basic, reversed, cloze, image, code)."""
    deck = tmp_path / "deck"
    shutil.copytree(SAMPLE_DECK, deck)
    return deck


@pytest.fixture
def editable_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of templates/ that deckgen reads instead of the shipped one.

    After editing a file in it, call ``notetypes.note_type.cache_clear()``.
    """
    from deckgen import notetypes

    templates = tmp_path / "templates"
    shutil.copytree(notetypes.templates_dir(), templates)
    monkeypatch.setattr(notetypes, "templates_dir", lambda: templates)
    notetypes.note_type.cache_clear()
    yield templates
    notetypes.note_type.cache_clear()


@pytest.fixture
def fixed_epoch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    yield


@dataclass
class ImportLog:
    new: int
    updated: int
    unchanged: int
    conflicting: int


class AnkiCollection:
    """A fresh real Anki collection, with helpers for what the tests look at."""

    def __init__(self, path: Path) -> None:
        from anki.collection import Collection

        self.col = Collection(str(path))

    def import_package(self, package: Path, *, update_always: bool = False) -> ImportLog:
        """Import with Anki's default options (update notes only if newer) unless asked."""
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
        from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition

        options = ImportAnkiPackageOptions()
        if update_always:
            options.update_notes = (
                ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
            )
        log = self.col.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(package), options=options)
        ).log
        return ImportLog(len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting))

    def card_by_id_field(self, card_id: str, ord_: int = 0):  # type: ignore[no-untyped-def]
        ids = [
            c for c in self.col.find_cards(f'"Id:{card_id}"') if self.col.get_card(c).ord == ord_
        ]
        assert ids, f"no card with Id {card_id}"
        return self.col.get_card(ids[0])

    def review(self, card, ease: int = 4) -> None:  # type: ignore[no-untyped-def]
        card.start_timer()
        self.col.sched.answerCard(card, ease)
        card.load()


@pytest.fixture
def anki(tmp_path: Path) -> Iterator[AnkiCollection]:
    collection = AnkiCollection(tmp_path / "collection.anki2")
    yield collection
    collection.col.close()
