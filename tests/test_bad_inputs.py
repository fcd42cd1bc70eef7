"""The bad-input catalogue: every way a deck can be wrong fails cleanly, and writes nothing.

Each case is one folder under ``tests/fixtures/bad/`` whose files are laid over
a copy of the sample deck (usually one extra ``bad.md``; sometimes a replaced
``deck.toml`` or ``phrases.txt``), plus, for what git cannot hold (symlinks,
unwritable folders), a small setup function in the table below. Every case
asserts what a contributor sees:

- exit code 1 and no Python traceback;
- the exact ``path:line[:col]: error: message [CODE]`` line, then a hint line;
- the packages and the lock file of the previous good build byte-identical.

To add a case: add a folder, add a row to ``CASES``, run
``pytest tests/test_bad_inputs.py -k NAME`` and check the message reads well.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURES, SAMPLE_DECK
from helpers import SAMPLE_HANS, SAMPLE_HANT

from deckgen.cache import CACHE_DIR
from deckgen.cli import cli

BAD = FIXTURES / "bad"
HANS, HANT = SAMPLE_HANS, SAMPLE_HANT
_SOURCE_HINT = "copy the sentence exactly"
_HTML_HINT = "write Markdown instead"
_IMAGE_HINT = "put the image in the deck folder"
_PHRASE_HINT = "write the Simplified phrase, one tab, the Traditional phrase"
_PHRASE_FORM_HINT = "same characters in the other script's form"


def _link_image_outside(tmp: Path) -> None:
    (tmp / "deck" / "images" / "escape.png").symlink_to("/etc/passwd")


def _link_card_file_outside(tmp: Path) -> None:
    outside = tmp / "secret.md"
    outside.write_text("{#secret}\n## 不该读到的问题？\n\n<secret>\n", "utf-8")
    (tmp / "deck" / "evil.md").symlink_to(outside)


def _remove_deck_toml(tmp: Path) -> None:
    (tmp / "deck" / "deck.toml").unlink()


def _file_instead_of_out_dir(tmp: Path) -> None:
    (tmp / "blocker").write_text("not a folder\n", "utf-8")


def _folder_instead_of_package(tmp: Path) -> None:
    package = tmp / "out" / HANS
    package.unlink()
    package.mkdir()
    (package / "keep.txt").write_text("something a user put here\n", "utf-8")


def _unwritable_out_dir(tmp: Path) -> str:
    """An existing folder this process cannot create files in."""
    if os.geteuid() == 0:  # root ignores permission bits; sysfs refuses new files even to root
        return "/sys"
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return str(locked)


def _fifo(name: str) -> Callable[[Path], None]:
    def make(tmp: Path) -> None:
        path = tmp / "deck" / name
        path.unlink(missing_ok=True)
        os.mkfifo(path)  # reading it would block forever

    return make


def _link(name: str, target: str) -> Callable[[Path], None]:
    def make(tmp: Path) -> None:
        path = tmp / "deck" / name
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return make


def _folder_as_deck_toml(tmp: Path) -> None:
    (tmp / "deck" / "deck.toml").unlink()
    (tmp / "deck" / "deck.toml").mkdir()


def _image_card(tmp: Path) -> None:
    card = "{#bad-ok}\n## 图里是什么？\n\n![图](images/odd.png)\n"
    (tmp / "deck" / "bad.md").write_text(card, "utf-8")


def _image_link_loop(tmp: Path) -> None:
    _image_card(tmp)
    (tmp / "deck" / "images" / "odd.png").symlink_to("odd.png")


def _image_fifo(tmp: Path) -> None:
    _image_card(tmp)
    os.mkfifo(tmp / "deck" / "images" / "odd.png")


def _out_link_loop(tmp: Path) -> str:
    (tmp / "loop").symlink_to("loop")
    return "loop"


def _newline_name(tmp: Path) -> None:
    name = "evil\n.md: error: forged line [DG000]\n.md"
    (tmp / "deck" / name).write_text("{#forged}\n## 问题？\n\n答案。\n", "utf-8")


@dataclass(frozen=True)
class Case:
    name: str
    """The fixture folder under tests/fixtures/bad/ (may hold only a README)."""
    error: str
    """The exact error line on stderr, with the path as the user typed it."""
    hint: str
    """Part of the hint line that follows the error line."""
    command: tuple[str, ...] = ("build", "deck", "--out", "out")
    setup: Callable[[Path], None] | None = None
    out: Callable[[Path], str] | None = None
    """Replaces the --out argument (for unwritable output folders)."""


CASES = [
    Case("empty-file", "deck/bad.md:1: error: no cards in this file [DG004]", "a card is a"),
    Case(
        "only-front-matter",
        "deck/bad.md:1: error: no cards in this file [DG004]",
        "'{#card-id}' on the line above",
    ),
    Case(
        "front-matter-bad-yaml",
        "deck/bad.md:3: error: front matter is not valid YAML: expected ',' or ']', "
        "but got '<stream end>' [DG012]",
        "between '---' lines",
    ),
    Case(
        "front-matter-not-a-mapping",
        "deck/bad.md:2: error: front matter must be 'key: value' lines [DG012]",
        "deck: 核心能力",
    ),
    Case(
        "front-matter-deck-wrong-type",
        "deck/bad.md:2: error: 'deck' must be a subdeck name like 核心能力::整合, "
        "got ['基础', '整合'] [DG012]",
        "'::' between levels",
    ),
    Case(
        "front-matter-tags-wrong-type",
        "deck/bad.md:3: error: tags must be words without spaces, '<' or '>', "
        "got {'样例': 1} [DG013]",
        "tags: [结果导向, 整合]",
    ),
    Case(
        "front-matter-unknown-key",
        "deck/bad.md:3: error: unknown front matter key 'tag' [DG012]",
        "did you mean 'tags'?",
    ),
    Case(
        "tag-with-html",
        "deck/bad.md:2: error: tags must be words without spaces, '<' or '>', "
        "got ['<script>alert(1)</script>'] [DG013]",
        "tags: [结果导向, 整合]",
    ),
    Case("card-without-id", "deck/bad.md:3: error: card has no id [DG005]", "{#some-card-id}"),
    Case(
        "duplicate-id-in-file",
        "deck/bad.md:7: error: duplicate card id 'bad-ok' [DG011]",
        "first used at deck/bad.md:2",
    ),
    Case(
        "duplicate-id-across-files",
        "deck/bad.md:3: error: duplicate card id 'sample-result' [DG011]",
        "first used at deck/01-basic.md:9",
    ),
    Case(
        "id-forbidden-characters",
        "deck/bad.md:1: error: card id 'Bad_Card' has forbidden characters [DG006]",
        "lowercase ASCII letters, digits and single '-'",
    ),
    Case(
        "empty-question",
        "deck/bad.md:2: error: card has an empty question [DG009]",
        "'## 问题？'",
    ),
    Case(
        "empty-answer",
        "deck/bad.md:2: error: card has an empty answer [DG009]",
        "before any '>' quote",
    ),
    Case(
        "unknown-kind",
        "deck/bad.md:1: error: unknown card kind 'flashcard' [DG008]",
        ".basic, .reversed, .cloze",
    ),
    Case(
        "unknown-card-attribute",
        "deck/bad.md:1: error: unknown card attribute 'tag' [DG007]",
        "did you mean 'tags'?",
    ),
    Case(
        "cloze-unterminated",
        "deck/bad.md:4: error: malformed cloze near '{{c1::' [DG040]",
        "closed with }}",
    ),
    Case(
        "cloze-malformed",
        "deck/bad.md:4: error: malformed cloze near '{{c2:产品}}' [DG040]",
        "{{c1::text}} or {{c1::text::hint}}",
    ),
    Case(
        "cloze-number-gaps",
        "deck/bad.md:4: error: cloze numbers [1, 3] have gaps or do not start at 1 [DG043]",
        "c1, c2, c3 … without gaps",
    ),
    Case(
        "cloze-in-basic-card",
        "deck/bad.md:4: error: cloze deletion outside a .cloze card's answer [DG041]",
        "add .cloze",
    ),
    Case(
        "cloze-without-deletion",
        "deck/bad.md:2: error: cloze card has no deletion [DG042]",
        "{{c1::text}}",
    ),
    Case(
        "quote-not-found",
        "deck/bad.md:6: error: quote not found verbatim in source.txt… [DG110]",
        _SOURCE_HINT,
        command=("check", "deck", "--source", "deck/source.txt"),
    ),
    Case(
        "invalid-utf8",
        "deck/bad.md:5: error: not valid UTF-8 (invalid continuation byte at byte 52) [DG002]",
        "save the file as UTF-8",
    ),
    Case(
        "bom-crlf-error-line",  # BOM and CRLF must not shift line numbers
        "deck/bad.md:10: error: card id 'Bad_Id' has forbidden characters [DG006]",
        "lowercase ASCII letters",
    ),
    Case(
        "private-use-character",
        "deck/bad.md:4: error: private-use character U+E000 in the text [DG003]",
        "deckgen uses U+E000 to U+E003 internally",
    ),
    Case(
        "mixed-scripts",
        "deck/bad.md:4: error: '業' is Traditional, but the deck is written in zh-Hans [DG120]",
        "write '业'",
    ),
    Case("raw-html", "deck/bad.md:4: error: raw HTML is not allowed: '<b>' [DG030]", _HTML_HINT),
    Case(
        "script-tag",
        "deck/bad.md:6: error: raw HTML is not allowed: '<script>alert(1)</script>' [DG030]",
        _HTML_HINT,
    ),
    Case(
        "onerror-attribute",
        "deck/bad.md:4: error: raw HTML is not allowed: "
        '\'<img src="x" onerror="alert(1)">\' [DG030]',
        _HTML_HINT,
    ),
    Case(
        "javascript-link",
        "deck/bad.md:4: error: link to 'javascript:alert(1)' is not allowed [DG031]",
        "http:, https: or mailto:",
    ),
    Case(
        "javascript-link-entity",  # javascript&#58; is decoded before the check
        "deck/bad.md:4: error: link to 'javascript:alert(1)' is not allowed [DG031]",
        "http:, https: or mailto:",
    ),
    Case(
        "javascript-image",
        "deck/bad.md:4: error: image 'javascript:alert(1)' is not a relative path [DG032]",
        _IMAGE_HINT,
    ),
    Case(
        "image-parent-escape",
        "deck/bad.md:4: error: image '../../etc/passwd' is outside the deck folder [DG032]",
        _IMAGE_HINT,
    ),
    Case(
        "image-absolute-path",
        "deck/bad.md:4: error: image '/etc/passwd' is not a relative path [DG032]",
        _IMAGE_HINT,
    ),
    Case(
        "image-symlink-escape",
        "deck/bad.md:4: error: image 'images/escape.png' is outside the deck folder [DG032]",
        _IMAGE_HINT,
        setup=_link_image_outside,
    ),
    Case(
        "image-missing",
        "deck/bad.md:4: error: image 'images/missing.png' not found [DG033]",
        _IMAGE_HINT,
    ),
    Case(
        "card-file-symlink-escape",
        "deck/evil.md: error: card file is a link to a file outside the deck folder [DG001]",
        "replace the link",
        setup=_link_card_file_outside,
    ),
    Case(
        "phrases-malformed",
        "deck/phrases.txt:3: error: malformed phrase entry '然后 然後' [DG020]",
        _PHRASE_HINT,
    ),
    Case(
        "phrases-length-mismatch",
        "deck/phrases.txt:2: error: phrase entry '面对' → '面對面': the two phrases differ in "
        "length: an entry maps each character to one character [DG020]",
        _PHRASE_FORM_HINT,
    ),
    Case(
        "phrases-outside-deck",
        "deck/deck.toml:7: error: phrase dictionary '../../../../../../../../etc/passwd' "
        "is outside the deck folder [DG010]",
        'phrases = "phrases.txt"',
    ),
    Case(
        "phrases-absolute-path",
        "deck/deck.toml:7: error: phrase dictionary '/etc/passwd' is outside the deck folder "
        "[DG010]",
        'phrases = "phrases.txt"',
    ),
    Case(
        "opencc-unknown",
        "deck/deck.toml:18: error: unknown OpenCC config 's2tww' for variant zh-Hant [DG010]",
        "did you mean 's2tw'?",
    ),
    Case(
        "deck-toml-syntax",
        "deck/deck.toml:4:14: error: deck.toml is not valid TOML: Illegal character '\\n' [DG010]",
        "complete deck.toml",
    ),
    Case(
        "deck-toml-unknown-key",
        "deck/deck.toml:4: error: unknown key 'titel' in [deck] [DG010]",
        "did you mean 'title'?",
    ),
    Case(
        "deck-toml-wrong-type",
        "deck/deck.toml:3: error: 'id' must be an integer, got str '1700000000001' [DG010]",
        "write it as id = 1733000000001",
    ),
    Case(
        "deck-title-control-character",  # would reach file and deck names
        "deck/deck.toml:4: error: title '样例\\x00卡组' has control or invisible formatting "
        "characters [DG010]",
        "write a short plain title",
    ),
    Case(
        "deck-toml-missing",
        "deck/deck.toml: error: no deck.toml in the deck folder [DG010]",
        "start one with 'deckgen init FOLDER'",
        setup=_remove_deck_toml,
    ),
    Case(
        "out-dir-is-a-file",
        "blocker: error: cannot write to the output folder: a file is in the way [DG050]",
        "choose another folder with --out",
        setup=_file_instead_of_out_dir,
        out=lambda tmp: "blocker",
    ),
    Case(
        "package-path-is-a-folder",
        f"out/{HANS}: error: cannot write: a folder, not a file [DG050]",
        "remove what is in the way",
        setup=_folder_instead_of_package,
    ),
    Case(
        "out-dir-unwritable",
        "{out}: error: cannot write to the output folder: permission denied [DG050]",
        "fix the permissions",
        out=_unwritable_out_dir,
    ),
    Case(
        "phrases-markup",  # would put a live onerror into every zh-Hant field and tag
        "deck/phrases.txt:2: error: phrase entry '…' → "
        "'<img/src/onerror=document.title=\\'PWNED\\'>': has '<', which is not part of a "
        "Chinese phrase [DG020]",
        _PHRASE_FORM_HINT,
    ),
    Case(
        "phrases-space",  # OpenCC's reader split the entry at the space and dropped text
        "deck/phrases.txt:2: error: phrase entry '黑板报' → '黑 報': has a space: an entry is one "
        "phrase, a tab, one phrase [DG020]",
        _PHRASE_FORM_HINT,
    ),
    Case(
        "phrases-implausible",
        "deck/phrases.txt:2: error: phrase entry '运营' → '運作': the Traditional side is not a "
        "Traditional form of the Simplified side [DG020]",
        _PHRASE_FORM_HINT,
    ),
    Case(
        "note-unclosed",  # swallowed every later card in the file, silently
        "deck/bad.md:6: error: this note is never closed before the card ends [DG035]",
        "close it with a ':::' line before the next card",
    ),
    Case(
        "fence-unclosed",
        "deck/bad.md:6: error: this code fence is never closed before the card ends [DG035]",
        "close it with a '```' line before the next card",
    ),
    Case(
        "conflict-markers",  # shipped to learners as text
        "deck/bad.md:4: error: git conflict marker '<<<<<<<': a merge left this file "
        "unresolved [DG034]",
        "keep one side of the conflict",
    ),
    Case(
        "front-matter-alias-bomb",  # 10 s and 2.8 GB, then 312 MB of error output
        "deck/bad.md:2: error: front matter is not valid YAML: anchors and aliases (& and *) "
        "are not allowed [DG012]",
        "between '---' lines",
    ),
    Case(
        "front-matter-surrogate",  # a lone surrogate: a traceback when written out
        "deck/bad.md:2: error: 'deck' must be a subdeck name like 核心能力::整合, got "
        "'\\ud800' [DG012]",
        "'::' between levels",
    ),
    Case(
        "subdeck-bidi-control",  # reverses what a reader sees of the deck name
        "deck/bad.md:2: error: 'deck' must be a subdeck name like 核心能力::整合, got "
        "'基础\\u202e础基' [DG012]",
        "'::' between levels",
    ),
    Case(
        "title-too-long",  # was blamed on --out (the file name was too long)
        "deck/deck.toml:4: error: title '样例样例…' is longer than 80 characters [DG010]",
        "write a short plain title",
    ),
    Case(
        "lock-newer-format",  # was rewritten as format 1, dropping what it did not know
        "deck/deck.lock.json: error: lock file was written by a newer deckgen (format 3; this "
        "deckgen reads format 2 and older) [DG060]",
        "upgrade deckgen",
    ),
    Case(
        "lock-negative-time",
        "deck/deck.lock.json:6: error: lock file has a wrong value in 'cards.sample-result': "
        "Expected `int` >= 0 [DG060]",
        "git checkout -- deck.lock.json",
    ),
    Case(
        "lock-huge-time",  # overflowed SQLite's integers: a traceback
        "deck/deck.lock.json:4: error: lock file has a wrong value in 'note_types.basic': "
        "Expected `int` <= 4294967295 [DG060]",
        "git checkout -- deck.lock.json",
    ),
    Case(
        "image-nul-byte",
        "deck/bad.md:4: error: image path 'images/a\\x00b.png' has control characters [DG032]",
        _IMAGE_HINT,
    ),
    Case(
        "image-name-too-long",  # a traceback (the file name is over the OS limit)
        "deck/bad.md:4: error: image 'images/xxx…' not found [DG033]",
        _IMAGE_HINT,
    ),
    Case(
        "card-file-fifo",  # build and check hung
        "deck/fifo.md: error: cannot read: not a regular file [DG016]",
        "give a regular file",
        setup=_fifo("fifo.md"),
    ),
    Case(
        "deck-toml-fifo",
        "deck/deck.toml: error: cannot read: not a regular file [DG016]",
        "give a regular file",
        setup=_fifo("deck.toml"),
    ),
    Case(
        "card-file-link-loop",
        "deck/loop.md: error: cannot read: a symbolic link loop [DG016]",
        "replace the link",
        setup=_link("loop.md", "loop.md"),
    ),
    Case(
        "card-file-dangling-link",
        "deck/gone.md: error: cannot read: a link to a file that does not exist [DG016]",
        "fix or remove the link",
        setup=_link("gone.md", "nowhere.md"),
    ),
    Case(
        "deck-toml-folder",
        "deck/deck.toml: error: cannot read: a folder [DG016]",
        "give a regular file",
        setup=_folder_as_deck_toml,
    ),
    Case(
        "image-link-loop",
        "deck/bad.md:4: error: image 'images/odd.png': a symbolic link loop [DG032]",
        _IMAGE_HINT,
        setup=_image_link_loop,
    ),
    Case(
        "image-fifo",
        "deck/bad.md:4: error: image 'images/odd.png': not a regular file [DG032]",
        _IMAGE_HINT,
        setup=_image_fifo,
    ),
    Case(
        "out-dir-link-loop",
        "{out}: error: cannot write to the output folder: a symbolic link loop [DG050]",
        "replace the link",
        out=_out_link_loop,
    ),
    Case(
        "file-name-newline",  # the name forged a message line of its own
        "deck/evil\\n.md: error: forged line [DG000]\\n.md: error: the file name "
        "'evil\\n.md: error: forged line [DG000]\\n.md' has control characters [DG017]",
        "rename the file",
        setup=_newline_name,
    ),
]


@pytest.fixture(scope="module")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample deck built once: its packages and lock are the 'previous build'."""
    tmp = tmp_path_factory.mktemp("good")
    shutil.copytree(SAMPLE_DECK, tmp / "deck")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        result = CliRunner().invoke(cli, ["build", str(tmp / "deck"), "--out", str(tmp / "out")])
    assert result.exit_code == 0, result.output
    return tmp


def _snapshot(*roots: Path) -> dict[str, bytes | None]:
    """Every file under roots → its bytes (folders → None), to prove nothing was written.

    The build's cache (per-card results, safe to delete) may take in the failed
    build's work; packages, the lock and the build record may not change.
    """
    files: dict[str, bytes | None] = {}
    for root in roots:
        for path in sorted([root, *root.rglob("*")]) if root.exists() else []:
            if CACHE_DIR not in path.parts:
                files[str(path)] = path.read_bytes() if path.is_file() else None
    return files


def _prepare(case: Case, good: Path, tmp: Path) -> list[str]:
    shutil.copytree(SAMPLE_DECK, tmp / "deck")
    shutil.copy(good / "deck" / "deck.lock.json", tmp / "deck")
    shutil.copytree(good / "out", tmp / "out")
    shutil.copytree(BAD / case.name, tmp / "deck", dirs_exist_ok=True)
    if case.setup:
        case.setup(tmp)
    command = list(case.command)
    if case.out:
        command[command.index("--out") + 1] = case.out(tmp)
    return command


def _assert_clean_failure(result: Result, error: str, hint: str) -> None:
    assert not isinstance(result.exception, Exception), result.exception  # SystemExit is fine
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    # "…" in an expected line stands for any text (a detail another rule may add).
    head, dots, tail = error.partition("…")
    found = [
        i
        for i, line in enumerate(lines)
        if (line.startswith(head) and line.endswith(tail) if dots else line == error)
    ]
    assert found, result.stderr
    hint_line = lines[found[0] + 1]
    assert hint_line.startswith("  hint: ") and hint in hint_line, hint_line


def test_catalogue_has_a_fixture_per_case() -> None:
    assert {p.name for p in BAD.iterdir()} == {c.name for c in CASES}
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_fails_cleanly(
    case: Case, good_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    command = _prepare(case, good_build, tmp_path)
    before = _snapshot(tmp_path / "out", tmp_path / "deck" / "deck.lock.json")
    assert before[str(tmp_path / "out" / HANT)]  # there is a previous package to protect

    result = CliRunner().invoke(cli, command)

    error = case.error
    if case.out is not None:
        out = command[command.index("--out") + 1]
        error = error.format(out=out)
    _assert_clean_failure(result, error, case.hint)
    if case.command[0] == "build":
        assert "nothing was written" in result.stderr
    assert _snapshot(tmp_path / "out", tmp_path / "deck" / "deck.lock.json") == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_real_process_prints_no_traceback(good_build: Path, tmp_path: Path) -> None:
    """The same through `python -m deckgen`, the way a user runs it."""
    command = _prepare(CASES[[c.name for c in CASES].index("invalid-utf8")], good_build, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "deckgen", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("deck/bad.md:5: error: not valid UTF-8")


def _to_bom_crlf(deck: Path) -> None:
    for path in [*deck.glob("*.md"), deck / "deck.toml", deck / "phrases.txt"]:
        text = path.read_text("utf-8")
        path.write_bytes(("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8"))


def test_bom_and_crlf_build_the_same_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files saved by Windows editors (BOM, CRLF) are fine: same cards, same bytes."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    packages = {}
    for name, convert in (("lf", None), ("crlf", _to_bom_crlf)):
        deck = tmp_path / name / "deck"
        shutil.copytree(SAMPLE_DECK, deck)
        (deck / "deck.lock.json").unlink(missing_ok=True)
        if convert:
            convert(deck)
            assert (deck / "01-basic.md").read_bytes().startswith(b"\xef\xbb\xbf---\r\n")
        result = CliRunner().invoke(cli, ["build", str(deck), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "4 notes" in result.stdout
        packages[name] = [(tmp_path / name / p).read_bytes() for p in (HANS, HANT)]
    assert packages["crlf"] == packages["lf"]
