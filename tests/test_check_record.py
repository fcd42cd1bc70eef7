"""check reuses what the last build recorded only while it would print the same.

After every kind of release (a card moved, deleted, changed kind, a deck renamed),
``deckgen check`` right after ``deckgen build`` prints what a check with nothing
recorded prints, word for word; after any change since the build it checks anew.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run

import deckgen.build


class _Spy:
    """Counts full checks (the stages run) behind the CLI."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = deckgen.build.check

        def counted(*args: object, **kwargs: object) -> deckgen.build.Checked:
            self.calls += 1
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(deckgen.build, "check", counted)


def _same_as_a_clean_check(deck: Path, out: Path, tmp_path: Path, spy: _Spy) -> int:
    """Check with ``out`` and with an empty output folder, in text and JSON: the same
    exit code and output. Returns how many of the two runs with ``out`` checked anew."""
    before = spy.calls
    empty = tmp_path / f"empty-{before}"
    for extra in ((), ("--format", "json")):
        recorded = run("check", deck, "--out", out, *extra)
        clean = run("check", deck, "--out", empty, *extra)
        assert (recorded.exit_code, recorded.output) == (clean.exit_code, clean.output)
    return spy.calls - before - 2  # the two clean checks always check


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_check_after_each_kind_of_release_prints_what_a_clean_check_prints(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(monkeypatch)
    out = tmp_path / "out"
    basic = sample_deck / "01-basic.md"
    _edit(basic, ' allow="DG112"', "")  # a warning a build leaves as it is
    assert run("build", sample_deck, "--out", out).exit_code == 0
    assert _same_as_a_clean_check(sample_deck, out, tmp_path, spy) == 0
    assert "DG112" in run("check", sample_deck, "--out", out).output

    kind = ("{#sample-perspective .reversed", "{#sample-perspective")
    releases = [
        ("moved", lambda: _edit(basic, "deck: 基础", "deck: 基础二"), "DG305"),
        ("deleted", lambda: _edit(basic, "{#sample-image}", "{#sample-picture}"), "DG302"),
        ("kind", lambda: _edit(basic, *kind), "DG304"),
        ("title", lambda: _edit(sample_deck / "deck.toml", "样例卡组", "样例卡组二"), "DG306"),
    ]
    for name, change, code in releases:
        change()
        before_build = run("check", sample_deck, "--out", out).output
        assert code in before_build, (name, before_build)
        assert "DG301" in before_build, name
        assert run("build", sample_deck, "--out", out).exit_code == 0, name
        assert _same_as_a_clean_check(sample_deck, out, tmp_path, spy) == 0, name
        after = run("check", sample_deck, "--out", out).output
        assert code not in after and "DG301" not in after, name


def test_check_checks_anew_after_any_change_since_the_build(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(monkeypatch)
    out = tmp_path / "out"
    assert run("build", sample_deck, "--out", out).exit_code == 0

    _edit(sample_deck / "01-basic.md", "不达目标不罢休。", "不达目标决不罢休。")
    assert _same_as_a_clean_check(sample_deck, out, tmp_path, spy) == 2
    assert "DG301" in run("check", sample_deck, "--out", out).output

    # A build of one variant leaves the other behind in the lock: nothing is recorded.
    assert run("build", sample_deck, "--out", out, "--variant", "zh-Hans").exit_code == 0
    assert _same_as_a_clean_check(sample_deck, out, tmp_path, spy) == 2
    assert run("build", sample_deck, "--out", out).exit_code == 0
    assert _same_as_a_clean_check(sample_deck, out, tmp_path, spy) == 0

    # The deck named another way: its problems would name other paths, so it checks anew.
    monkeypatch.chdir(sample_deck.parent)
    assert _same_as_a_clean_check(Path(sample_deck.name), out, tmp_path, spy) == 2

    # Quotes against a source are always checked.
    source = tmp_path / "source.txt"
    source.write_text("毕竟不达目标不罢休也是运营人员必备的基础素质。", "utf-8")
    calls = spy.calls
    result = run("check", sample_deck, "--out", out, "--source", source)
    assert spy.calls == calls + 1 and "DG110" in result.output
