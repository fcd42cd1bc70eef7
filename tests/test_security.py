"""What an attacker or an accident could do to a user through deckgen, and why it cannot.

Each test is one class of failure found by an adversarial run against deckgen 0.1
(issue 9): script injection through the phrase dictionary, deleting files outside
the output folder, reading outside the deck, false claims about what was
written, hangs, leftovers, overflow and full disks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import SAMPLE_DECK, AnkiCollection
from devtools import Chromium
from helpers import SAMPLE_HANS, SAMPLE_HANT

from deckgen import convert, files, stages
from deckgen.cli import cli

PAYLOAD = "<img/src/onerror=document.title='PWNED'>"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def built(deck: Path, out: Path) -> Result:
    result = run("build", deck, "--out", out)
    assert result.exit_code == 0, result.output
    return result


def packages(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.apkg"))}


# --- 1. Script injection: phrase targets are text, and sanitizing is the last step ------


@pytest.fixture
def hostile_dictionary(sample_deck: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A phrase entry whose target is markup, and the entry check switched off: what
    reaches learners if a dictionary ever got past read_phrases."""
    (sample_deck / "phrases.txt").write_text(f"红色\t{PAYLOAD}\n运营\t{PAYLOAD}\n", "utf-8")
    monkeypatch.setattr(convert, "_entry_problem", lambda *entry: "")
    return sample_deck


def test_a_markup_phrase_entry_is_refused_at_its_line(sample_deck: Path, tmp_path: Path) -> None:
    (sample_deck / "phrases.txt").write_text(f"# x\n红色\t{PAYLOAD}\n", "utf-8")
    for command in (("check",), ("build", "--out", str(tmp_path / "out"))):
        result = run(command[0], sample_deck, *command[1:])
        assert result.exit_code == 1
        assert f"{sample_deck / 'phrases.txt'}:2: error: phrase entry" in result.stderr
        assert "[DG020]" in result.stderr
    assert not (tmp_path / "out").exists()


def test_markup_that_slips_into_conversion_never_runs_in_anki_or_chromium(
    hostile_dictionary: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    deck = hostile_dictionary
    result = run("build", deck, "--out", tmp_path / "out")
    # Tags and deck names are checked as text after conversion: the build stops.
    assert result.exit_code == 1 and "[DG021]" in result.stderr
    # Without markup in names (a tag-free, title-safe entry), fields still pass nh3 last.
    (deck / "phrases.txt").write_text(f"红色\t{PAYLOAD}\n", "utf-8")
    built(deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / SAMPLE_HANT)
    card = anki.card_by_id_field("sample-image")
    pages = [card.question(), card.answer()]
    assert all("onerror" not in html for html in pages)
    chromium = Chromium(tmp_path / "profile")
    try:
        for html in pages:
            page = tmp_path / "card.html"
            page.write_text(f"<title>card</title>{html}", "utf-8")
            chromium.send("Page.navigate", url=page.as_uri())
            chromium.wait_for("Page.loadEventFired")
            chromium.events.clear()
            assert chromium.evaluate("document.title") == "card"
    finally:
        chromium.close()


def test_the_preview_runs_no_injected_script(hostile_dictionary: Path, tmp_path: Path) -> None:
    (hostile_dictionary / "phrases.txt").write_text(f"红色\t{PAYLOAD}\n", "utf-8")
    page = tmp_path / "preview.html"
    result = run("preview", hostile_dictionary, "--out", page, "--no-open")
    assert result.exit_code == 0, result.output
    assert "onerror" not in page.read_text("utf-8")
    chromium = Chromium(tmp_path / "profile")
    try:
        chromium.send("Page.navigate", url=page.as_uri())
        chromium.wait_for("Page.loadEventFired")
        assert "PWNED" not in chromium.evaluate("document.title")
    finally:
        chromium.close()


# --- 2. deckgen deletes only what it can prove it wrote, inside --out, for this deck ----


def _second_deck(tmp_path: Path) -> Path:
    other = tmp_path / "other"
    shutil.copytree(SAMPLE_DECK, other)
    toml = other / "deck.toml"
    text = toml.read_text("utf-8").replace("1700000000001", "1700000000999")
    toml.write_text(text.replace('"样例卡组"', '"第二个卡组"'), "utf-8")
    return other


def test_a_second_deck_in_the_same_folder_deletes_nothing_of_the_first(
    sample_deck: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    built(sample_deck, out)
    first = packages(out)
    other = _second_deck(tmp_path)
    built(other, out)
    toml = other / "deck.toml"
    toml.write_text(toml.read_text("utf-8").replace('"第二个卡组"', '"第三个卡组"'), "utf-8")
    result = built(other, out)  # renamed: its own old packages go, never the first deck's
    after = packages(out)
    assert {name: after[name] for name in first} == first
    assert "removed" in result.stdout and "第二个卡组" in result.stdout
    assert not any("第二个卡组" in name for name in after)


def test_a_copied_project_never_deletes_the_original_packages(
    sample_deck: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.move(sample_deck, project / "deck")
    built(project / "deck", project / "out")
    original = packages(project / "out")
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, symlinks=True)  # cp -a
    toml = copy / "deck" / "deck.toml"
    toml.write_text(toml.read_text("utf-8").replace('"样例卡组"', '"复制的卡组"'), "utf-8")
    built(copy / "deck", copy / "out")
    assert packages(project / "out") == original


def test_a_planted_record_deletes_nothing(sample_deck: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    built(sample_deck, out)
    victim = tmp_path / "victim.apkg"
    victim.write_bytes(b"a user's own file")
    inside = out / "mine.apkg"
    inside.write_bytes(b"a file in the output folder deckgen did not write")
    record = next(out.glob(".deckgen-*.json"))
    data = json.loads(record.read_text("utf-8"))
    fake = {"sha256": "0" * 64, "summary": "x", "size": 1, "mtime_ns": 1}
    data["outputs"] += [
        {"name": "../victim.apkg", **fake},
        {"name": str(victim), **fake},
        {"name": "mine.apkg", **fake},
    ]
    data["digest"] = "forged"
    record.write_text(json.dumps(data), "utf-8")
    built(sample_deck, out)
    assert victim.read_bytes() == b"a user's own file"
    assert inside.read_bytes() == b"a file in the output folder deckgen did not write"


# --- 6. Every message about what was written is true --------------------------------------


@pytest.mark.parametrize("failing", [0, 1, 2], ids=["lock", "first-package", "second-package"])
def test_what_was_written_is_said_truly(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    built(sample_deck, out)
    path = sample_deck / "01-basic.md"
    path.write_text(path.read_text("utf-8").replace("不罢休。", "决不罢休。"), "utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    calls: list[Path] = []
    real = files.Staged.publish

    def publish(self: files.Staged, rule: object = files.CANNOT_WRITE) -> None:
        if self.final.suffix not in (".apkg", ".json") or self.final.name.startswith("."):
            return real(self)  # the cache and the build record: not the release
        calls.append(self.final)
        if len(calls) == failing + 1:
            self.discard()
            raise files.DeckgenError([files.CANNOT_WRITE.at_line(self.final, 0, "disk on fire")])
        real(self)

    monkeypatch.setattr(files.Staged, "publish", publish)
    result = run("build", sample_deck, "--out", out)
    assert result.exit_code == 1
    written = calls[:failing]
    last = result.stderr.splitlines()[-1]
    if written:
        assert last.endswith("wrote " + ", ".join(str(p) for p in written) + " before stopping")
    else:
        assert last.endswith("nothing was written")
    assert not list(tmp_path.rglob("*.tmp"))


# --- 7. Every command agrees on which files belong to the deck ---------------------------


def test_ids_never_reads_through_a_link_out_of_the_deck(sample_deck: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("## 外面的问题，不该被读到？\n\n秘密\n", "utf-8")
    (sample_deck / "evil.md").symlink_to(outside)
    for command in (["ids"], ["ids", "--fix"]):
        result = run(*command, sample_deck)
        assert "外面的问题" not in result.output and "秘密" not in result.output
    assert (sample_deck / "evil.md").is_symlink()  # not replaced by a copy of the outside file
    assert outside.read_text("utf-8") == "## 外面的问题，不该被读到？\n\n秘密\n"
    check = run("check", sample_deck)
    assert "evil.md: error: card file is a link to a file outside the deck folder [DG001]" in (
        check.stderr
    )


# --- 8. Nothing waits without a bound ------------------------------------------------------


def test_a_fifo_never_hangs_a_real_process(sample_deck: Path, tmp_path: Path) -> None:
    os.mkfifo(sample_deck / "pipe.md")
    for command in (["check"], ["build", "--out", str(tmp_path / "out")], ["ids"]):
        result = subprocess.run(
            [sys.executable, "-m", "deckgen", command[0], str(sample_deck), *command[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "Traceback" not in result.stderr
        if command[0] != "ids":
            assert result.returncode == 1 and "pipe.md: error: cannot read" in result.stderr


def _die(text: object, job: object) -> object:
    os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return None


def test_a_killed_worker_ends_the_build_cleanly(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stages, "PARALLEL_FROM", 0)
    monkeypatch.setattr(stages, "process_card", _die)
    started = time.monotonic()
    result = run("build", sample_deck, "--out", tmp_path / "out")
    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    assert "a worker process stopped before it finished" in result.stderr
    assert "[DG051]" in result.stderr and "nothing was written" in result.stderr


# --- 11. No leftovers ----------------------------------------------------------------------


def test_leftovers_of_a_killed_build_are_swept(sample_deck: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    built(sample_deck, out)
    dead = _dead_pid()
    stale = [
        out / f".{SAMPLE_HANS}.deckgen-{dead}-0123abcd.tmp",
        sample_deck / f".deck.lock.json.deckgen-{dead}-0123abcd.tmp",
    ]
    alive = out / f".{SAMPLE_HANT}.deckgen-{os.getpid()}-89abcdef.tmp"  # a running build's
    for path in [*stale, alive]:
        path.write_bytes(b"half a file")
    built(sample_deck, out)
    assert not any(path.exists() for path in stale)
    assert alive.exists()


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_failed_lock_write_leaves_no_temporary_file(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.replace

    def replace(source: str | Path, target: str | Path) -> None:
        if str(target).endswith("deck.lock.json"):
            raise OSError(13, "Permission denied")
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    result = run("build", sample_deck, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "deck.lock.json: error: cannot write" in result.stderr
    assert not list(tmp_path.rglob("*.tmp"))


# --- 12. Overflow and full disks ------------------------------------------------------------


@pytest.mark.parametrize("epoch", ["99999999999999999999", "-5", "soon"])
def test_a_bad_source_date_epoch_is_an_error(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: str
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    result = run("build", sample_deck, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "SOURCE_DATE_EPOCH must be a Unix time in seconds" in result.stderr


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system with room for little: a 256 KiB tmpfs (needs root)."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> None:
    try:
        with (folder / "ballast").open("wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass  # full


def test_a_full_output_disk_is_a_clean_error(
    sample_deck: Path, full_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = full_disk / "out"
    built(sample_deck, out)
    before = packages(out)
    path = sample_deck / "01-basic.md"
    path.write_text(path.read_text("utf-8").replace("不罢休。", "决不罢休。"), "utf-8")
    _fill(full_disk)
    result = run("build", sample_deck, "--out", out)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no space left on the device" in result.stderr and "[DG050]" in result.stderr
    assert packages(out) == before
    assert not list(full_disk.rglob("*.tmp"))


def test_a_full_temporary_folder_is_a_clean_error(
    sample_deck: Path, tmp_path: Path, full_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(full_disk)
    monkeypatch.setenv("TMPDIR", str(full_disk))
    script = (
        "import tempfile; tempfile.tempdir = None; "
        "from deckgen.cli import main; import sys; "
        f"sys.argv = ['deckgen', 'build', {str(sample_deck)!r}, '--out', "
        f"{str(tmp_path / 'out')!r}]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)
    if result.returncode == 1:
        assert "no space left on the device" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["new", "--theme", "02-cloze"],
        ["new", "--theme", "07-new-topic", "--deck", "新主题"],
        ["ids", "--fix"],
        ["preview", "--no-open", "--out", "{full}/preview.html"],
    ],
    ids=["new", "new-theme-file", "ids-fix", "preview"],
)
def test_every_command_that_writes_fails_cleanly_on_a_full_disk(
    full_disk: Path, command: list[str]
) -> None:
    """new, ids --fix and preview write through the same atomic helper as build: a full
    disk is a coded error at the file, the deck is as it was, and no temporary file stays."""
    deck = full_disk / "deck"
    shutil.copytree(SAMPLE_DECK, deck)
    if command[0] == "ids":  # a card without an id, for --fix to stamp
        no_id = deck / "02-cloze.md"
        text = no_id.read_text("utf-8")
        no_id.write_text(text + "\n## 作者认为运营最核心的能力是什么？\n\n整合\n", "utf-8")
    before = {p: p.read_bytes() for p in deck.rglob("*") if p.is_file()}
    _fill(full_disk)
    args = [a.replace("{full}", str(full_disk)) for a in command]
    result = run(args[0], deck, *args[1:])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert "no space left on the device" in result.stderr, result.stderr
    assert {p: p.read_bytes() for p in deck.rglob("*") if p.is_file()} == before
    assert not [p for p in full_disk.rglob("*") if p.name.endswith(".tmp")]
