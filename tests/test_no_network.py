"""Build and check use no network and read nothing outside what they are given.

Allowed: the deck folder, the files named on the command line (--source), the
output folder, deckgen's own templates and data, OpenCC's dictionaries,
deckgen's temporary folders, and Python's own modules. Everything else a build
opens is a bug, and so is any connection attempt.
"""

from __future__ import annotations

import socket
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import deckgen
from deckgen.cli import cli
from deckgen.notetypes import templates_dir

_opened: list[Path] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], (str, bytes, Path)):
        path = args[0].decode() if isinstance(args[0], bytes) else args[0]
        _opened.append(Path(path).absolute())


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one records only when asked


@pytest.fixture
def opened() -> Iterator[list[Path]]:
    """Every file Python opens while the test runs."""
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to resolve a name or connect fails the build loudly and is recorded."""
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
            raise OSError(f"network access during a build: {name}")

        return blocked

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("getaddrinfo", "create_connection", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse(name))
    return attempts


def _allowed_roots(*given: Path) -> list[Path]:
    import opencc

    paths = sysconfig.get_paths()
    return [
        *(p.resolve() for p in given),
        templates_dir().resolve(),
        Path(deckgen.__file__).parent.resolve(),
        Path(opencc.__file__).parent.resolve(),
        *(Path(paths[k]).resolve() for k in ("stdlib", "platstdlib", "purelib", "platlib")),
        Path(sys.base_prefix, "lib").resolve(),  # import probing (lib/python3XX.zip)
    ]


def _outside(opened: list[Path], roots: list[Path]) -> list[Path]:
    temp = Path(tempfile.gettempdir()).resolve()
    bad = []
    for path in {p.resolve() for p in opened}:
        if any(path.is_relative_to(root) for root in roots):
            continue
        if path.is_relative_to(temp) and path.relative_to(temp).parts[0].startswith("deckgen-"):
            continue  # deckgen's own temporary folders (OpenCC config, collection)
        bad.append(path)
    return bad


def test_build_and_check_without_network(
    sample_deck: Path, tmp_path: Path, no_network: list[str], opened: list[Path]
) -> None:
    source = tmp_path / "source.txt"
    source.write_text("毕竟不达目标不罢休也是运营人员必备的基础素质。\n", "utf-8")
    runner = CliRunner()
    opened.clear()
    built = runner.invoke(cli, ["build", str(sample_deck), "--out", str(tmp_path / "out")])
    checked = runner.invoke(
        cli, ["check", str(sample_deck), "--source", str(source), "--out", str(tmp_path / "out")]
    )

    assert built.exit_code == 0, built.output
    assert "zh-Hant" in built.stdout
    assert "4 cards checked" in checked.stderr
    assert no_network == []
    assert _outside(opened, _allowed_roots(sample_deck, tmp_path / "out", source)) == []
    assert sample_deck.resolve() / "01-basic.md" in {p.resolve() for p in opened}


def test_escaping_images_are_never_opened(
    sample_deck: Path, tmp_path: Path, opened: list[Path]
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG secret")
    (sample_deck / "images" / "link.png").symlink_to(secret)
    (sample_deck / "03-escape.md").write_text(
        "{#escape-parent}\n## 上级目录的图？\n\n![图](../secret.png)\n\n"
        "{#escape-link}\n## 链接的图？\n\n![图](images/link.png)\n\n"
        f"{{#escape-absolute}}\n## 绝对路径的图？\n\n![图]({secret})\n",
        "utf-8",
    )
    for command in (["check"], ["build", "--out", str(tmp_path / "out")]):
        opened.clear()  # what the test itself wrote
        result = CliRunner().invoke(cli, [command[0], str(sample_deck), *command[1:]])

        assert result.exit_code == 1
        assert result.stderr.count("[DG032]") == 3
        assert secret.resolve() not in {p.resolve() for p in opened}
