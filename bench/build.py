"""Benchmark deckgen against the floors, on synthetic decks of N cards.

    python bench/build.py                    # N = 1,000, 10,000 and 30,000
    python bench/build.py --cards 10000      # one size

Every figure is the wall time (and peak RSS) of a whole process, measured in
this run on this machine:

- cold: ``deckgen build`` of both variants with no stamp and no lock file;
- floors for the same notes: (a) genanki writing the already-rendered notes of
  both variants, (b) the same notes inserted into an Anki-schema SQLite file with
  one executemany in one transaction, zipped, (c) markdown-it-py rendering each
  card's fields once;
- no-op rebuild (best of 3), rebuild after editing one card, ``deckgen check`` of the
  deck as built (what the build recorded), ``deckgen check`` after editing one more
  card (the cards read from the cache, the edited one parsed);
- start-up: ``deckgen --help`` and ``deckgen check`` of the shipped cards/ (best of 3).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))


def measure(*args: str | Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process and its children; it must succeed.

    Its output goes to a file (a pipe nobody reads would block a chatty process).
    """
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen([str(a) for a in args], stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        peak = usage.ru_maxrss  # the largest of the process and its waited-for children
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            text = errors.read().decode(errors="replace")[-4000:]
            raise SystemExit(f"failed: {' '.join(map(str, args))}\n{text}")
    return wall, peak / 1024


def deckgen(*args: str | Path) -> tuple[float, float]:
    return measure(sys.executable, "-m", "deckgen", *args)


def best_of(runs: int, *args: str | Path) -> float:
    """The fastest of a few runs of a short command: start-up times are noisy."""
    return min(deckgen(*args)[0] for _ in range(runs))


def helper(*args: str | Path) -> tuple[float, float]:
    return measure(sys.executable, __file__, *args)


def run_size(cards: int, work: Path) -> dict[str, float]:
    from synth import make_deck

    deck = make_deck(work / f"deck-{cards}", cards)
    out = work / f"out-{cards}"
    figures: dict[str, float] = {"cards": cards}
    figures["cold"], figures["peak_mib"] = deckgen("build", deck, "--out", out)
    figures["noop"] = best_of(3, "build", deck, "--out", out)
    card_file = deck / "000.md"
    card_file.write_text(card_file.read_text("utf-8").replace("\n- ", "\n- 改", 1), "utf-8")
    figures["one_edit"], _ = deckgen("build", deck, "--out", out)
    figures["check"], figures["check_mib"] = deckgen("check", deck, "--out", out)
    card_file.write_text(card_file.read_text("utf-8").replace("\n- ", "\n- 再", 1), "utf-8")
    figures["edit_check"], _ = deckgen("check", deck, "--out", out)

    notes = work / f"notes-{cards}.json"
    helper("_dump", deck, notes)
    figures["floor_genanki"], _ = helper("_floor-genanki", notes, work / f"floor-g-{cards}")
    figures["floor_sqlite"], _ = helper("_floor-sqlite", notes, work / f"floor-s-{cards}")
    figures["floor_render"], _ = helper("_floor-render", notes)
    if ankdown := shutil.which("ankdown"):
        from ankdown_input import write_ankdown_deck

        source = write_ankdown_deck(deck, work / f"ankdown-{cards}")
        package = work / f"ankdown-{cards}.apkg"
        figures["ankdown"], figures["ankdown_mib"] = measure(ankdown, "-r", source, "-p", package)
    return figures


def print_peer(rows: list[dict[str, float]]) -> None:
    """deckgen against ankdown on the same cards (ankdown: one script, no checks)."""
    if not all("ankdown" in row for row in rows):
        print("\nankdown: not installed (pip install 'deckgen[bench]' to compare)")
        return
    print("\nN | ankdown s | ankdown MiB | cold / ankdown | 1-edit / ankdown | check / ankdown")
    print("--- | --- | --- | --- | --- | ---")
    for r in rows:
        print(
            f"{int(r['cards']):,} | {r['ankdown']:.2f} | {r['ankdown_mib']:.0f} | "
            f"{r['cold'] / r['ankdown']:.2f} | {r['one_edit'] / r['ankdown']:.2f} | "
            f"{r['check'] / r['ankdown']:.2f}"
        )


def print_table(rows: list[dict[str, float]]) -> None:
    header = (
        "N",
        "cold s",
        "MiB",
        "cards/s",
        "genanki s",
        "sqlite s",
        "render s",
        "cold/(r+g)",
        "cold/render",
        "no-op s",
        "1-edit s",
        "check s",
        "edit+check s",
    )
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in rows:
        floor = r["floor_render"] + r["floor_genanki"]
        print(
            " | ".join(
                [
                    f"{int(r['cards']):,}",
                    f"{r['cold']:.2f}",
                    f"{r['peak_mib']:.0f}",
                    f"{r['cards'] / r['cold']:,.0f}",
                    f"{r['floor_genanki']:.2f}",
                    f"{r['floor_sqlite']:.2f}",
                    f"{r['floor_render']:.2f}",
                    f"{r['cold'] / floor:.2f}",
                    f"{r['cold'] / r['floor_render']:.2f}",
                    f"{r['noop']:.2f}",
                    f"{r['one_edit']:.2f}",
                    f"{r['check']:.2f}",
                    f"{r['edit_check']:.2f}",
                ]
            )
        )


def print_startup(work: Path) -> None:
    cards = work / "shipped"
    shutil.copytree(REPO / "cards", cards)
    help_s = best_of(3, "--help")
    check_s = best_of(3, "check", cards)
    print(f"\nstart-up: deckgen --help {help_s:.2f} s; deckgen check of cards/ {check_s:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cards",
        type=int,
        action="append",
        help="deck size (repeatable; default 1000, 10000, 30000)",
    )
    args = parser.parse_args()
    sizes = args.cards or [1000, 10000, 30000]
    with tempfile.TemporaryDirectory(prefix="deckgen-bench-") as tmp:
        rows = [run_size(n, Path(tmp)) for n in sizes]
        print_table(rows)
        print_peer(rows)
        print_startup(Path(tmp))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        import floors

        floors.run(sys.argv[1], sys.argv[2:])
    else:
        main()
