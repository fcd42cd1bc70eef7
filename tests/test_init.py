"""deckgen init: a new deck from an empty folder to packages in real Anki, in either script;
check's warning for a deck.toml copied from the shipped deck (DG320)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO, AnkiCollection, run

from deckgen.check import SHIPPED_DECK_ID, SHIPPED_TITLE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


SCRIPTS = [
    pytest.param("zh-Hans", "我的卡组", id="zh-Hans"),
    pytest.param("zh-Hant", "我的卡組", id="zh-Hant"),
]


def _init(folder: Path, script: str, title: str) -> dict[str, object]:
    result = run("init", folder, "--script", script, "--title", title)
    assert result.exit_code == 0, result.output
    return tomllib.loads((folder / "deck.toml").read_text("utf-8"))


@pytest.mark.parametrize(
    ("script", "title", "other", "opencc"),
    [("zh-Hans", "我的卡组", "zh-Hant", "s2tw"), ("zh-Hant", "我的卡組", "zh-Hans", "tw2s")],
    ids=["zh-Hans", "zh-Hant"],
)
def test_init_writes_a_deck_in_either_script(
    tmp_path: Path, script: str, title: str, other: str, opencc: str
) -> None:
    deck = tmp_path / "deck"
    config = _init(deck, script, title)
    assert sorted(p.name for p in deck.iterdir()) == [
        "01-sample.md",
        "README.md",
        "deck.toml",
        "phrases.txt",
    ]
    table = config["deck"]
    assert isinstance(table, dict)
    assert (table["title"], table["script"], table["phrases"]) == (title, script, "phrases.txt")
    assert config["variants"] == {script: {"opencc": "none"}, other: {"opencc": opencc}}
    assert 10**12 <= table["id"] < 2**53 and table["id"] != SHIPPED_DECK_ID
    phrases = (deck / "phrases.txt").read_text("utf-8").splitlines()
    assert all(line.startswith("#") for line in phrases)  # empty: comments only
    cards = (deck / "01-sample.md").read_text("utf-8")
    for kind in ("{#sample-basic}", "{#sample-reversed .reversed}", "{#sample-cloze .cloze}"):
        assert kind in cards


def test_every_new_deck_gets_its_own_id(tmp_path: Path) -> None:
    ids = {_init(tmp_path / f"deck{n}", "zh-Hans", "卡组")["deck"]["id"] for n in range(5)}  # type: ignore[index]
    assert len(ids) == 5


def test_sample_cards_pass_strict_check_with_their_quotes_verified(tmp_path: Path) -> None:
    deck = tmp_path / "deck"
    _init(deck, "zh-Hans", "我的卡组")
    result = run(
        "check", deck, "--strict", "--source", deck / "README.md", "--out", tmp_path / "dist"
    )
    assert result.exit_code == 0, result.output
    assert "3 cards checked: 0 errors, 0 warnings" in result.output
    assert "[DG301]" in result.output  # information: the next build records the cards


def test_traditional_sample_cards_pass_strict_check(tmp_path: Path) -> None:
    deck = tmp_path / "deck"
    _init(deck, "zh-Hant", "我的卡組")
    result = run(
        "check", deck, "--strict", "--source", deck / "README.md", "--out", tmp_path / "dist"
    )
    assert result.exit_code == 0, result.output
    assert "3 cards checked: 0 errors, 0 warnings" in result.output


def test_init_refuses_to_write_over_anything(tmp_path: Path) -> None:
    deck = tmp_path / "deck"
    deck.mkdir()
    (deck / "notes.md").write_text("x")
    result = run("init", deck, "--title", "卡组")
    assert result.exit_code == 1
    assert "error: the folder is not empty (it holds 'notes.md')" in result.output
    assert "[DG080]" in result.output and "Traceback" not in result.output
    assert [p.name for p in deck.iterdir()] == ["notes.md"]


def test_init_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "deck").write_text("x")
    result = run("init", tmp_path / "deck")
    assert result.exit_code == 2 and "is a file" in result.output
    assert (tmp_path / "deck").read_text() == "x"


def test_init_refuses_a_title_that_cannot_be_a_deck_name(tmp_path: Path) -> None:
    result = run("init", tmp_path / "deck", "--title", "卡组\u202e")
    assert result.exit_code == 1 and "[DG080]" in result.output
    assert "has control or invisible formatting characters" in result.output
    assert not (tmp_path / "deck").exists()


def test_copied_deck_id_is_a_warning(tmp_path: Path) -> None:
    deck = tmp_path / "deck"
    _init(deck, "zh-Hans", "我的卡组")
    toml = deck / "deck.toml"
    lines = toml.read_text("utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("id = "))
    lines[line - 1] = f"id = {SHIPPED_DECK_ID}"
    toml.write_text("\n".join(lines) + "\n", "utf-8")
    # Its own output folder: the shipped deck's build record in ./dist would be this deck's
    # too (same id), and would make its missing lock a lost one (DG308).
    out = tmp_path / "dist"
    result = run("check", deck, "--strict", "--out", out)
    assert result.exit_code == 1
    assert f"deck.toml:{line}: warning: deck id {SHIPPED_DECK_ID} is the id of the deck" in (
        result.output
    )
    assert "[DG320]" in result.output
    toml.write_text(toml.read_text("utf-8") + '\n[lint]\nallow = ["DG320"]\n', "utf-8")
    result = run("check", deck, "--strict", "--out", out)
    assert result.exit_code == 0, result.output


def test_the_shipped_deck_itself_is_not_a_copy(tmp_path: Path) -> None:
    from deckgen.config import load_config

    assert load_config(REPO / "cards").id == SHIPPED_DECK_ID
    assert load_config(REPO / "cards").title == SHIPPED_TITLE
    result = run("check", REPO / "cards", "--out", tmp_path, "--format", "json")
    assert "DG320" not in result.stdout


# --- From an empty folder to real Anki, next to the shipped deck ----------------------


@pytest.fixture(scope="module")
def shipped_packages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The shipped deck's packages, built from a copy of cards/ (the build writes its lock)."""
    folder = tmp_path_factory.mktemp("shipped")
    shutil.copytree(REPO / "cards", folder / "cards")
    result = run("build", folder / "cards", "--out", folder / "dist")
    assert result.exit_code == 0, result.output
    return sorted((folder / "dist").glob("*.apkg"))


def _snapshot(anki: AnkiCollection) -> dict[str, tuple[int, str, list[str]]]:
    """Every note by GUID: its time, its fields, and the decks of its cards."""
    col = anki.col
    notes = {}
    for note_id in col.find_notes(""):
        note = col.get_note(note_id)
        decks = sorted(col.decks.name(col.get_card(c).did) for c in note.card_ids())
        notes[note.guid] = (note.mod, "\x1f".join(note.fields), decks)
    return notes


@pytest.mark.parametrize(("script", "title"), SCRIPTS)
def test_new_deck_imports_next_to_the_shipped_deck_without_touching_it(
    tmp_path: Path, anki: AnkiCollection, shipped_packages: list[Path], script: str, title: str
) -> None:
    assert len(shipped_packages) == 2
    for package in shipped_packages:
        assert anki.import_package(package).new > 0
    shipped = _snapshot(anki)
    shipped_decks = {d.name for d in anki.col.decks.all_names_and_ids()}

    deck = tmp_path / "mydeck"
    _init(deck, script, title)
    result = run("build", deck, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    packages = sorted((tmp_path / "dist").glob("*.apkg"), key=lambda p: p.suffixes)
    assert [p.suffixes for p in packages] == [[".zh-Hans", ".apkg"], [".zh-Hant", ".apkg"]]
    for package in packages:
        log = anki.import_package(package)
        assert (log.new, log.updated, log.unchanged, log.conflicting) == (3, 0, 0, 0)

    after = _snapshot(anki)
    assert {guid: after[guid] for guid in shipped} == shipped  # untouched, note by note
    new = {guid: value for guid, value in after.items() if guid not in shipped}
    assert len(new) == 6  # three notes per script
    new_decks = {deck for _, _, decks in new.values() for deck in decks}
    assert not new_decks & shipped_decks
    assert {name.split("::")[0] for name in new_decks} == {"我的卡组", "我的卡組"}
    # Five cards per script: basic 1, reversed 2, cloze 2.
    assert sum(len(decks) for _, _, decks in new.values()) == 10
