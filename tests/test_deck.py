"""The shipped deck in cards/: checked, built, imported and read in both scripts."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import ARTICLE_AS_RECEIVED, REPO, AnkiCollection, need_article, run

from deckgen.build import check
from deckgen.config import load_config
from deckgen.convert import Converter, load_phrases

CARDS = REPO / "cards"
NOTES, CARDS_IN_ANKI = 36, 47
RETIRED = 7
"""Notes of deleted cards that every package still carries (without cards, so a new
learner studies none of them), tagged deckgen::retired: learners who have them get the
notice."""
AUTHOR = {"zh-Hans": "@思无邪", "zh-Hant": "@思無邪"}
OTHER_SOURCES = {
    "zh-Hans": ("网站导语", "评论区提问", "评论区回复"),
    "zh-Hant": ("網站導語", "評論區提問", "評論區回覆"),
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import shutil

    deck = tmp_path_factory.mktemp("deck") / "cards"
    shutil.copytree(CARDS, deck)
    out = deck.parent / "dist"
    result = run("build", deck, "--out", out, "--strict")
    assert result.exit_code == 0, result.output
    # The committed lock file is current: building changed nothing in it.
    assert (deck / "deck.lock.json").read_bytes() == (CARDS / "deck.lock.json").read_bytes()
    return {p.name.split(".")[-2]: p for p in out.glob("*.apkg")}


def test_check_strict_against_the_article_passes(article: Path) -> None:
    result = run("check", CARDS, "--strict", "--source", article)
    assert result.exit_code == 0, result.output
    assert f"{NOTES} cards checked: 0 errors, 0 warnings" in result.output


def test_quotes_are_short_and_the_article_is_not_reprinted(article: Path) -> None:
    # Fair quotation: each quote a sentence or less, no long stretch rebuilt from
    # adjacent quotes, and much of the (short) article left out.
    cards = check(CARDS).cards
    text = "".join(article.read_text("utf-8").split())
    covered = [False] * len(text)
    for card, quote in ((c, q) for c in cards for q in c.quotes):
        quoted = "".join(quote.text.split())
        assert len(quoted) <= 45, card.at(quote)
        start = text.find(quoted)
        covered[start : start + len(quoted)] = [True] * len(quoted)
    runs = "".join("x" if c else " " for c in covered).split()
    assert max(len(run) for run in runs) <= 45
    assert sum(covered) / len(text) < 0.6


@pytest.mark.parametrize("variant", ["zh-Hans", "zh-Hant"])
def test_every_card_renders_with_quote_and_note(
    packages: dict[str, Path], tmp_path: Path, variant: str
) -> None:
    anki = AnkiCollection(tmp_path / "c.anki2")
    assert anki.import_package(packages[variant]).new == NOTES + RETIRED
    assert anki.col.card_count() == CARDS_IN_ANKI
    assert len(anki.col.find_notes("-tag:deckgen::retired")) == NOTES
    assert len(anki.col.find_notes("tag:deckgen::retired")) == RETIRED
    for card_id in anki.col.find_cards(""):
        card = anki.col.get_card(card_id)
        front, back = card.question(), card.answer()
        assert f'lang="{variant}"' in front
        assert 'class="quote"' in back and "<blockquote>" in back
        assert 'class="note"' in back
        # Every quote is attributed: to the author, or to the lead or the comments.
        assert back.count('class="source"') >= 1
        assert any(name in back for name in (AUTHOR[variant], *OTHER_SOURCES[variant]))
    anki.col.close()


@pytest.mark.parametrize("variant", ["zh-Hans", "zh-Hant"])
def test_each_quote_shows_its_own_source(
    packages: dict[str, Path], tmp_path: Path, variant: str
) -> None:
    """The lead is the site's, the comments are the commenters': their quotes say so,
    and do not carry the author's name; the author's quotes keep it (once per card)."""
    lead, question, reply = OTHER_SOURCES[variant]
    anki = AnkiCollection(tmp_path / "c.anki2")
    anki.import_package(packages[variant])
    expected = {
        "basics-overview": [lead],
        "comment-tip-problem": [question],
        "comment-tip-theory-core": [reply, reply],
        "integration-core": [AUTHOR[variant]],
    }
    for card_id, sources in expected.items():
        back = anki.card_by_id_field(card_id).answer()
        shown = re.findall(r'<p class="source">(.*?)</p>', back)
        assert [s.split("《")[0] for s in shown] == sources, card_id
    anki.col.close()


@pytest.mark.parametrize("variant", ["zh-Hans", "zh-Hant"])
def test_each_package_describes_the_deck(packages: dict[str, Path], variant: str) -> None:
    descriptions = [d for d in _descriptions(packages[variant]) if d]
    assert len(descriptions) == 1
    text = descriptions[0]
    assert AUTHOR[variant] in text and "2.0.0" in text and "tag:deckgen::retired" in text
    assert ("禁止转载" if variant == "zh-Hans" else "禁止轉載") in text
    if variant == "zh-Hant":  # the deck's own text in Taiwan wording, as the cards' notes
        assert "搜尋" in text and "原創發佈於" in text and "這條聲明" in text


def test_both_scripts_coexist_in_one_collection(
    packages: dict[str, Path], anki: AnkiCollection
) -> None:
    for package in packages.values():
        assert anki.import_package(package).new == NOTES + RETIRED
    assert len(anki.col.find_notes("-tag:deckgen::retired")) == 2 * NOTES
    assert anki.col.card_count() == 2 * CARDS_IN_ANKI


def _descriptions(package: Path) -> list[str]:
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(package).extract("collection.anki2", tmp)
        connection = sqlite3.connect(Path(tmp) / "collection.anki2")
        decks = connection.execute("SELECT decks FROM col").fetchone()[0]
        connection.close()
    return [deck.get("desc", "") for deck in json.loads(decks).values()]


def _texts(package: Path) -> list[str]:
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(package).extract("collection.anki2", tmp)
        connection = sqlite3.connect(Path(tmp) / "collection.anki2")
        rows = connection.execute("SELECT flds, tags FROM notes").fetchall()
        decks = connection.execute("SELECT decks FROM col").fetchone()[0]
        connection.close()
    texts = [re.sub(r"<[^>]+>|\{\{c\d+::|\}\}", " ", f"{flds} {tags}") for flds, tags in rows]
    return [*texts, *(deck["name"] for deck in json.loads(decks).values())]


def test_traditional_deck_has_no_simplified_characters(packages: dict[str, Path]) -> None:
    # With the deck's phrases: they decide 平台 and 了解, which OpenCC alone would
    # "convert" again to 平臺 and 瞭解 (Traditional forms too, but not this deck's choice).
    to_traditional = Converter("s2tw", load_phrases(load_config(CARDS)))
    for text in _texts(packages["zh-Hant"]):
        assert to_traditional.text(text) == text


def test_traditional_deck_uses_corner_quotation_marks(packages: dict[str, Path]) -> None:
    hant = " ".join(_texts(packages["zh-Hant"]))
    assert "「" in hant and "“" not in hant and "”" not in hant


def test_traditional_deck_uses_one_form_of_each_word_as_decided(
    packages: dict[str, Path],
) -> None:
    """cards/phrases.txt decides 了解 (not 瞭解), 平台 (not 平臺), 彙報 (not 匯報)."""
    hant = " ".join(_texts(packages["zh-Hant"]))
    assert "了解" in hant and "瞭解" not in hant
    assert "平台" in hant and "平臺" not in hant
    assert "彙報" in hant and "匯報" not in hant


def test_simplified_deck_has_no_traditional_characters(packages: dict[str, Path]) -> None:
    to_simplified = Converter("t2s", [])
    for text in _texts(packages["zh-Hans"]):
        assert to_simplified.text(text) == text


def test_the_received_traditional_text_fails_the_same_check() -> None:
    # The naive conversion we received keeps 于, 后, 么, 里: the check above must see that.
    received = need_article(ARTICLE_AS_RECEIVED).read_text("utf-8")
    converted = Converter("s2tw", []).text(received)
    wrong = {a for a, b in zip(received, converted, strict=True) if a != b}
    assert {"于", "后", "么", "里"} <= wrong


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("評論區回覆", "评论区回复"),
        ("這裡", "这里"),
        ("彙報工作", "汇报工作"),
        ("然後", "然后"),
        ("至於", "至于"),
        ("什麼", "什么"),
        ("意味著", "意味着"),
    ],
)
def test_known_traps_are_converted_right(
    packages: dict[str, Path], traditional: str, simplified: str
) -> None:
    hant = " ".join(_texts(packages["zh-Hant"]))
    hans = " ".join(_texts(packages["zh-Hans"]))
    assert simplified in hans and traditional in hant
