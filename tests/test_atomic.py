"""Atomic output: a failure or Ctrl-C in the middle of writing a package leaves no trace.

Packages are written to a temporary file in the target folder and renamed over
the old one. These tests break the real writer at different points (while
zipping, while renaming) and check what a user would find afterwards.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import SAMPLE_HANS, SAMPLE_HANT

from deckgen import package, publish
from deckgen.cli import cli
from deckgen.files import Staged

HANS, HANT = SAMPLE_HANS, SAMPLE_HANT


def _build(deck: Path, out: Path) -> Result:
    return CliRunner().invoke(cli, ["build", str(deck), "--out", str(out)])


def _files(folder: Path) -> dict[str, bytes]:
    """The packages in folder; fails on any temporary file left behind."""
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.apkg"))}


@pytest.fixture(params=["one process", "a process per package"])
def writers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Packages written one after the other, or in parallel (forked processes: the
    failures injected here are inherited by them)."""
    if request.param != "one process":
        monkeypatch.setattr(publish, "PARALLEL_FROM", 0)
    return str(request.param)


@pytest.fixture
def previous(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writers: str
) -> dict[str, bytes]:
    """A good build in tmp_path/out, then an edit so that the next build differs."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert _build(sample_deck, tmp_path / "out").exit_code == 0
    card_file = sample_deck / "01-basic.md"
    card_file.write_text(card_file.read_text("utf-8").replace("不罢休。", "决不罢休。"), "utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    return {**_files(tmp_path / "out"), "lock": (sample_deck / "deck.lock.json").read_bytes()}


def _fail_on_media(error: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    """Raise while the archive is half written: after collection.anki2, at the media list."""
    real_add = package._add

    def add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
        if name == "media":
            raise error
        real_add(archive, name, data)

    monkeypatch.setattr(package, "_add", add)


@pytest.mark.parametrize(
    ("error", "message"),
    [(KeyboardInterrupt(), "Aborted!"), (RuntimeError("disk on fire"), "disk on fire")],
    ids=["ctrl-c", "exception"],
)
def test_failure_while_zipping_leaves_previous_packages(
    sample_deck: Path,
    tmp_path: Path,
    previous: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    message: str,
) -> None:
    _fail_on_media(error, monkeypatch)
    result = _build(sample_deck, tmp_path / "out")

    assert result.exit_code != 0
    assert message in result.output + repr(result.exception)
    # No partial or temporary file, the packages as they were, the lock not moved on.
    assert _files(tmp_path / "out") == {k: v for k, v in previous.items() if k != "lock"}
    assert (sample_deck / "deck.lock.json").read_bytes() == previous["lock"]


def test_ctrl_c_at_rename_leaves_no_temporary_file(
    sample_deck: Path, tmp_path: Path, previous: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file sits beside the target (same file system) and goes on failure."""
    seen: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if not str(target).endswith(".apkg"):  # the lock file is written before the packages
            return real_replace(source, target)
        seen.append((Path(source), Path(target)))
        raise KeyboardInterrupt

    monkeypatch.setattr(package.os, "replace", replace)
    result = _build(sample_deck, tmp_path / "out")

    assert result.exit_code == 1 and "Aborted!" in result.output
    (source, target), *_ = seen
    assert source.parent == target.parent == tmp_path / "out"
    assert source.name.startswith(f".{target.name}.") and source.name.endswith(".tmp")
    assert not source.exists()
    assert _files(tmp_path / "out") == {k: v for k, v in previous.items() if k != "lock"}


def test_failure_in_second_variant_keeps_every_package_whole(
    sample_deck: Path, tmp_path: Path, previous: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """zh-Hans is written, zh-Hant fails: neither package is replaced, no lock update."""
    real_write = package.stage_package

    def write(path: Path, **kwargs: object) -> Staged:
        if path.name == HANT:
            _fail_on_media(KeyboardInterrupt(), monkeypatch)
        return real_write(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "stage_package", write)
    result = _build(sample_deck, tmp_path / "out")

    assert result.exit_code == 1
    after = _files(tmp_path / "out")
    assert sorted(after) == sorted([HANS, HANT])
    assert after[HANT] == previous[HANT]
    assert after[HANS] == previous[HANS]  # written in full, but only staged: discarded
    for name in after:
        with zipfile.ZipFile(tmp_path / "out" / name) as archive:
            assert archive.testzip() is None
            assert {"collection.anki2", "media"} <= set(archive.namelist())
    assert (sample_deck / "deck.lock.json").read_bytes() == previous["lock"]


def test_a_package_writer_that_dies_is_reported_and_nothing_is_replaced(
    sample_deck: Path, tmp_path: Path, previous: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed while it writes (out of memory): a clean error, no trace."""
    real_write = package.stage_package

    def write(path: Path, **kwargs: object) -> Staged:
        if path.name == HANT and os.getpid() != parent:
            os._exit(9)  # as the kernel's out-of-memory killer would stop it
        return real_write(path, **kwargs)  # type: ignore[arg-type]

    parent = os.getpid()
    monkeypatch.setattr(publish, "stage_package", write)
    monkeypatch.setattr(publish, "PARALLEL_FROM", 0)
    result = _build(sample_deck, tmp_path / "out")

    assert result.exit_code == 1, result.output
    assert "a worker process stopped before it finished" in result.output
    assert "[DG051]" in result.output and "Traceback" not in result.output
    assert _files(tmp_path / "out") == {k: v for k, v in previous.items() if k != "lock"}
    assert (sample_deck / "deck.lock.json").read_bytes() == previous["lock"]


def test_packages_written_in_parallel_are_the_same_bytes(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    lock = sample_deck / "deck.lock.json"
    assert not lock.exists()
    assert _build(sample_deck, tmp_path / "serial").exit_code == 0
    lock.unlink()  # the second build starts where the first did
    monkeypatch.setattr(publish, "PARALLEL_FROM", 0)
    assert _build(sample_deck, tmp_path / "parallel").exit_code == 0
    assert _files(tmp_path / "parallel") == _files(tmp_path / "serial")


def test_successful_rebuild_replaces_packages(
    sample_deck: Path, tmp_path: Path, previous: dict[str, bytes]
) -> None:
    """The control: without a failure the same build does replace both packages."""
    assert _build(sample_deck, tmp_path / "out").exit_code == 0
    after = _files(tmp_path / "out")
    assert sorted(after) == sorted([HANS, HANT])
    assert all(after[name] != previous[name] for name in (HANS, HANT))
