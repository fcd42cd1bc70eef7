"""The benchmark runs from a fresh clone: a smoke run at a small size so that it cannot rot."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_benchmark_prints_its_table() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "build.py"), "--cards", "40"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split(" | ")
    assert header[:3] == ["N", "cold s", "MiB"] and "no-op s" in header
    row = lines[2].split(" | ")
    assert row[0] == "40" and len(row) == len(header)
    assert all(float(cell.replace(",", "")) > 0 for cell in row[1:])
    assert "start-up: deckgen --help" in result.stdout
