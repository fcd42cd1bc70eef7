"""No-op and incremental rebuilds: skipped when no input changed, never stale when one did.

The output folder holds the build's record (the no-op guard) and its per-card
cache; whatever they hold, the packages equal a clean build's byte for byte.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run

from deckgen import notetypes, outputs, stages
from deckgen.cache import CACHE_DIR


def packages(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.apkg"))}


def build(deck: Path, out: Path) -> str:
    result = run("build", deck, "--out", out)
    assert result.exit_code == 0, result.output
    return result.output


def test_unchanged_inputs_are_not_rebuilt(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None
) -> None:
    out = tmp_path / "out"
    first = build(sample_deck, out)
    assert "up to date" not in first
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.apkg")}
    second = build(sample_deck, out)
    assert second.count("(up to date)") == 2
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.apkg")} == before


def test_a_damaged_package_is_rebuilt(sample_deck: Path, tmp_path: Path, fixed_epoch: None) -> None:
    out = tmp_path / "out"
    build(sample_deck, out)
    good = packages(out)
    victim = next(out.glob("*.zh-Hant.apkg"))
    victim.write_bytes(b"not a zip")
    assert "up to date" not in build(sample_deck, out).split("zh-Hant")[1]
    assert packages(out) == good
    victim.unlink()
    build(sample_deck, out)
    assert packages(out) == good


def _edit_card(deck: Path) -> None:
    path = deck / "01-basic.md"
    path.write_text(
        path.read_text("utf-8").replace("不达目标不罢休。", "目标不达不罢休。"), "utf-8"
    )


def _edit_phrases(deck: Path) -> None:
    # Changes one word of one zh-Hant note (頭髮 → 頭發): a real change to ship.
    with (deck / "phrases.txt").open("a", encoding="utf-8") as phrases:
        phrases.write("头发\t頭發\n")


def _edit_config(deck: Path) -> None:
    path = deck / "deck.toml"
    path.write_text(path.read_text("utf-8").replace('"样例卡组"', '"样例卡组二"'), "utf-8")


def _edit_image(deck: Path) -> None:
    path = deck / "images" / "dot.png"
    path.write_bytes(path.read_bytes() + b"\x00")


CHANGES: dict[str, Callable[[Path], None]] = {
    "card": _edit_card,
    "phrases": _edit_phrases,
    "config": _edit_config,
    "image": _edit_image,
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_after_an_input_change_output_equals_a_clean_build(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None, change: str
) -> None:
    out = tmp_path / "out"
    build(sample_deck, out)
    before = packages(out)
    CHANGES[change](sample_deck)
    clean_deck = tmp_path / "clean"
    shutil.copytree(sample_deck, clean_deck)

    assert "up to date" not in build(sample_deck, out)
    build(clean_deck, tmp_path / "clean-out")

    after = packages(out)
    assert after != before
    assert after == packages(tmp_path / "clean-out")


def test_template_change_is_not_served_stale(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None, editable_templates: Path
) -> None:
    templates = editable_templates
    out = tmp_path / "out"
    build(sample_deck, out)
    before = packages(out)

    css = templates / "style.css"
    css.write_text(css.read_text("utf-8") + "\n.note { color: teal; }\n", "utf-8")
    notetypes.note_type.cache_clear()
    clean_deck = tmp_path / "clean"
    shutil.copytree(sample_deck, clean_deck)
    assert "up to date" not in build(sample_deck, out)
    build(clean_deck, tmp_path / "clean-out")

    assert packages(out) != before
    assert packages(out) == packages(tmp_path / "clean-out")


def _new_deckgen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "__version__", "99.0")


def _new(library: str) -> Callable[[pytest.MonkeyPatch], None]:
    """An upgrade of one library that shapes the notes, as importlib.metadata reports it."""

    def upgrade(monkeypatch: pytest.MonkeyPatch) -> None:
        from importlib import metadata

        real = metadata.version
        monkeypatch.setattr(
            metadata, "version", lambda name: "99.0" if name == library else real(name)
        )

    return upgrade


@pytest.mark.parametrize(
    "upgrade",
    [_new_deckgen, *(_new(library) for library in outputs.LIBRARIES)],
    ids=["deckgen", *outputs.LIBRARIES],
)
def test_a_new_version_rebuilds_and_changes_no_note(
    sample_deck: Path,
    tmp_path: Path,
    fixed_epoch: None,
    monkeypatch: pytest.MonkeyPatch,
    upgrade: Callable[[pytest.MonkeyPatch], None],
) -> None:
    out = tmp_path / "out"
    build(sample_deck, out)
    before = packages(out)
    lock = (sample_deck / "deck.lock.json").read_bytes()
    upgrade(monkeypatch)
    clean_deck = tmp_path / "clean"
    shutil.copytree(sample_deck, clean_deck)

    assert "up to date" not in build(sample_deck, out)  # nothing cached is trusted
    build(clean_deck, tmp_path / "clean-out")
    # What learners receive did not change, so no note's time moves: no update ships.
    assert packages(out) == before == packages(tmp_path / "clean-out")
    assert (sample_deck / "deck.lock.json").read_bytes() == lock
    assert build(sample_deck, out).count("(up to date)") == 2


def test_a_one_card_edit_parses_one_card(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(sample_deck, out)
    log = tmp_path / "parsed.log"  # a file: the card may be parsed in a worker process
    real = stages.parse_card

    def counting(text: object, **kwargs: object) -> object:
        with log.open("a", encoding="utf-8") as parsed:
            parsed.write(f"{text.path}\n")  # type: ignore[attr-defined]
        return real(text, **kwargs)  # type: ignore[arg-type]

    def parsed() -> list[str]:
        return log.read_text("utf-8").splitlines() if log.exists() else []

    monkeypatch.setattr(stages, "parse_card", counting)
    _edit_card(sample_deck)
    build(sample_deck, out)
    assert parsed() == [str(sample_deck / "01-basic.md")]
    log.unlink()
    assert run("check", sample_deck, "--out", out).exit_code == 0
    assert parsed() == []  # check of an unchanged deck reads the cache


@pytest.mark.parametrize(
    "damage",
    [b"", b"not msgpack at all", b"\x83\xa6format\x01"],
    ids=["empty", "garbage", "truncated"],
)
def test_a_damaged_cache_is_ignored(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None, damage: bytes
) -> None:
    out = tmp_path / "out"
    build(sample_deck, out)
    good = packages(out)
    for cache in [p for p in (out / CACHE_DIR).rglob("*") if p.is_file()]:
        cache.write_bytes(damage)
    result = run("build", sample_deck, "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert packages(out) == good


@pytest.mark.parametrize("damage", [b"", b"not msgpack at all"], ids=["empty", "garbage"])
def test_a_damaged_card_file_entry_is_rebuilt_when_the_index_trusts_it(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None, damage: bytes
) -> None:
    """The index says a card file is unchanged, but its entry cannot be read: its cards
    are parsed again, and the packages are those of a clean build."""
    out = tmp_path / "out"
    build(sample_deck, out)
    entries = [p for p in (out / CACHE_DIR).rglob("*.msgpack") if len(p.stem) == 24]
    assert len(entries) == 2  # one per card file, beside the index and the deck's texts
    for entry in entries:
        entry.write_bytes(damage)
    build(sample_deck, tmp_path / "clean-out")
    result = run("build", sample_deck, "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert packages(out) == packages(tmp_path / "clean-out")


def test_a_foreign_cache_is_ignored(sample_deck: Path, tmp_path: Path, fixed_epoch: None) -> None:
    """Another copy of the deck with other phrases shares the output folder's cache file."""
    out = tmp_path / "out"
    other = tmp_path / "other"
    shutil.copytree(sample_deck, other)
    _edit_phrases(other)
    build(other, out)
    build(sample_deck, tmp_path / "clean-out")
    assert "up to date" not in build(sample_deck, out)
    assert packages(out) == packages(tmp_path / "clean-out")


def _read_terminal(primary: int) -> str:
    try:
        return os.read(primary, 65536).decode()
    except OSError:  # nothing was written to the terminal
        return ""
    finally:
        os.close(primary)


def test_progress_bar_on_a_terminal_only(sample_deck: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "deckgen", "build", str(sample_deck)]
    primary, secondary = pty.openpty()
    subprocess.run(
        [*command, "--out", str(tmp_path / "a")],
        stderr=secondary,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    os.close(secondary)
    on_terminal = _read_terminal(primary)
    assert "reading cards" in on_terminal and "100%" in on_terminal

    piped = subprocess.run(
        [*command, "--out", str(tmp_path / "b")], capture_output=True, text=True, check=True
    )
    assert "reading cards" not in piped.stderr + piped.stdout

    primary, secondary = pty.openpty()
    subprocess.run(
        [*command, "--out", str(tmp_path / "c"), "--quiet"],
        stderr=secondary,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    os.close(secondary)
    assert "reading cards" not in _read_terminal(primary)


def test_building_one_variant_keeps_the_others(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None
) -> None:
    out = tmp_path / "out"
    build(sample_deck, out)
    everything = packages(out)
    result = run("build", sample_deck, "--out", out, "--variant", "zh-Hant")
    assert result.exit_code == 0, result.output
    assert packages(out) == everything


def test_a_no_op_build_repeats_the_warnings(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None
) -> None:
    path = sample_deck / "01-basic.md"
    path.write_text(
        path.read_text("utf-8").replace("::: note\n做事先定目标，再倒推路径。\n:::\n", ""), "utf-8"
    )
    first = build(sample_deck, tmp_path / "out")
    second = build(sample_deck, tmp_path / "out")
    assert "(up to date)" in second
    warning = next(line for line in first.splitlines() if "[DG106]" in line)
    assert warning in second.splitlines()


def test_no_op_from_another_working_directory(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    build(Path("deck"), Path("out"))
    monkeypatch.chdir(tmp_path / "deck")
    assert build(Path("."), Path("../out")).count("(up to date)") == 2
