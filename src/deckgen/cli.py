"""The deckgen command line: parse options, call a stage, print. Nothing else."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from deckgen import __version__
from deckgen.errors import DeckgenError, Problem, Severity, counted

DECK_DIR = click.argument(
    "deck_dir", default="cards", type=click.Path(file_okay=False, path_type=Path)
)


class _Group(click.Group):
    """The one place that turns a user's mistake into a clean message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DeckgenError as error:
            _print_problems(error.problems)
            errors = sum(p.severity is Severity.ERROR for p in error.problems)
            warnings = len(error.problems) - errors
            written = (
                "wrote " + ", ".join(str(path) for path in error.written) + " before stopping"
                if error.written
                else "nothing was written"
            )
            counts = f"{counted(errors, 'error')}, {counted(warnings, 'warning')}"
            click.echo(f"deckgen: stopped: {counts}; {written}", err=True)
            ctx.exit(1)


def _progress_bar(items: Sequence[Any], label: str) -> Iterator[Any]:
    """A progress bar on stderr, for terminals only (the caller decides)."""
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        click.echo(problem.format(), err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def cli() -> None:
    """Annotated Markdown flashcards → Anki decks in Simplified and Traditional Chinese.

    \b
    Examples:
      deckgen check --source ../shared/source/article.zh-Hans.txt
      deckgen build                  # cards/ → dist/*.apkg, one per variant
      deckgen new --theme 02-integration
      deckgen preview --no-open
      deckgen release                # release/VERSION/: packages, CHANGES.md, SHA256SUMS
      deckgen init mydeck --title 我的卡组
    """


@cli.command()
@DECK_DIR
@click.option(
    "--out",
    "out_dir",
    default="dist",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for the .apkg files.",
)
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="NAME",
    help="Build only this variant (repeatable), e.g. --variant zh-Hant.",
)
@click.option(
    "--shared-guids",
    is_flag=True,
    help="One GUID per card for every variant, so that importing the other script "
    "switches existing notes (see docs/card-format.md).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--force", is_flag=True, help="Rebuild even if no input changed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def build(
    deck_dir: Path,
    out_dir: Path,
    variants: tuple[str, ...],
    shared_guids: bool,
    strict: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Build one .apkg per variant from DECK_DIR (default: cards/).

    Output is written atomically: if anything fails, earlier packages stay as
    they were. The deck's deck.lock.json is updated; commit it. When no input
    changed since the last build into the same folder (cards, deck.toml,
    phrases, images, templates, deckgen's version), nothing is rebuilt.

    \b
    Examples:
      deckgen build
      deckgen build cards --out dist --variant zh-Hant
    """
    from deckgen.rebuild import build_if_changed

    result = build_if_changed(
        deck_dir,
        out_dir=out_dir,
        variants=variants,
        shared_guids=shared_guids,
        strict=strict,
        force=force,
        track=None if quiet or not sys.stderr.isatty() else _progress_bar,
    )
    _print_problems(result.warnings)
    for summary in result.summaries:
        click.echo(summary if result.built else f"{summary} (up to date)")
    for name in result.removed:
        click.echo(
            f"removed {out_dir / name}: this deck's earlier build wrote it, this one does not"
        )


@cli.command()
@DECK_DIR
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify every quote verbatim against this file (repeatable).",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--out",
    "out_dir",
    default="dist",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The build's output folder: check reuses what the last build recorded and the "
    "results its cache holds (read only).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: for editors and CI annotations.",
)
def check(
    deck_dir: Path, sources: tuple[Path, ...], strict: bool, out_dir: Path, output_format: str
) -> None:
    """Check DECK_DIR (default: cards/) without writing anything.

    Reports syntax errors and card-quality warnings (rules in docs/rules.md)
    as FILE:LINE: severity: message [CODE]. Exit 0 when clean, 1 on errors
    (or on warnings with --strict).

    \b
    Examples:
      deckgen check
      deckgen check --strict --source ../shared/source/article.zh-Hans.txt
      deckgen check --format json
    """
    from deckgen.rebuild import check_if_changed

    try:
        problems, cards = check_if_changed(deck_dir, out_dir=out_dir, sources=sources)
    except DeckgenError as error:
        if output_format == "text":
            raise
        problems, cards = error.problems, 0
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = sum(p.severity is Severity.WARNING for p in problems)
    if output_format == "json":
        click.echo(json.dumps([_problem_json(p) for p in problems], ensure_ascii=False, indent=2))
    else:
        _print_problems(problems)
        click.echo(
            f"{counted(cards, 'card')} checked: {counted(errors, 'error')}, "
            f"{counted(warnings, 'warning')}",
            err=True,
        )
    if errors or (strict and warnings):
        raise SystemExit(1)


@cli.command()
@DECK_DIR
@click.option(
    "--out",
    "out_file",
    default="dist/preview.html",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML page to write.",
)
@click.option("--no-open", is_flag=True, help="Do not open the page in the browser.")
@click.option(
    "--watch",
    is_flag=True,
    help="Rewrite the page whenever a card, deck.toml, the phrases or a template is "
    "saved (needs watchfiles: pip install 'deckgen[watch]').",
)
def preview(deck_dir: Path, out_file: Path, no_open: bool, watch: bool) -> None:
    """Write an HTML page of every card in DECK_DIR (default: cards/).

    Every card's front and back, in every variant of deck.toml side by side,
    with the decks' own templates and CSS; cloze notes show one card per
    deletion number. The page is self-contained (images inlined) and has a
    night mode switch. Nothing else is written.

    \b
    Examples:
      deckgen preview
      deckgen preview cards --out /tmp/cards.html --no-open
      deckgen preview --watch        # then reload the page after each save
    """
    from deckgen.preview import watch_preview, write_preview

    if watch:
        try:
            import watchfiles  # noqa: F401  (fail before writing anything)
        except ImportError:
            raise click.ClickException(
                "--watch needs watchfiles: pip install 'deckgen[watch]'"
            ) from None
    summary = write_preview(deck_dir, out=out_file)
    _print_problems(summary.warnings)
    click.echo(str(summary))
    if not no_open and not _open_in_browser(out_file):
        click.echo(f"open {out_file.resolve()} in a browser to see it", err=True)
    if not watch:
        return
    click.echo(f"watching {deck_dir} and the templates; press Ctrl+C to stop", err=True)
    for rebuild in watch_preview(deck_dir, out=out_file):
        click.echo(", ".join(str(path) for path in rebuild.changed) + " changed", err=True)
        if rebuild.summary is None:
            click.echo(rebuild.failure, err=True)
            click.echo("deckgen: the page was not rewritten; fix and save again", err=True)
        else:
            _print_problems(rebuild.summary.warnings)
            click.echo(str(rebuild.summary))


def _open_in_browser(page: Path) -> bool:
    """Open the page if this machine can show one; False (and no noise) where it cannot."""
    import os
    import webbrowser

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        return webbrowser.open(page.resolve().as_uri())
    except webbrowser.Error:
        return False


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "path": str(problem.location.path),
        "line": problem.location.line,
        "column": problem.location.column,
        "severity": problem.severity.value,
        "code": problem.code,
        "message": problem.message,
        "hint": problem.hint,
    }


@cli.command()
@DECK_DIR
@click.option(
    "--theme",
    metavar="NAME",
    help="Theme file to add the card to: 02-integration means DECK_DIR/02-integration.md.",
)
@click.option(
    "--file",
    "card_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Card file to add the card to, instead of --theme (its folder is the deck).",
)
@click.option(
    "--kind",
    type=click.Choice(["basic", "reversed", "cloze"]),
    default="basic",
    show_default=True,
    help="The card kind (see docs/card-format.md).",
)
@click.option(
    "--deck",
    "subdeck",
    metavar="NAME",
    help="Start a new theme file with this subdeck name (e.g. 新主题, or 核心能力::整合).",
)
@click.option(
    "--with",
    "rich",
    type=click.Choice(["code", "math", "table"]),
    multiple=True,
    help="Add a block to fill in after the answer: fenced code, display math or a table "
    "(repeatable).",
)
def new(
    deck_dir: Path,
    theme: str | None,
    card_file: Path | None,
    kind: str,
    subdeck: str | None,
    rich: tuple[str, ...],
) -> None:
    """Add a card with a fresh id to a theme file.

    The card gets an id unique in the deck (theme name + number, never one
    used before) and is written in the documented format, every part a
    【TODO：…】 placeholder that 'deckgen check' reports (DG100) until it is
    replaced. With --deck, the theme file is created with front matter.

    \b
    Examples:
      deckgen new --theme 02-integration
      deckgen new --theme 02-integration --kind cloze
      deckgen new --file cards/03-learning.md --kind reversed
      deckgen new --theme 07-new-topic --deck 新主题
      deckgen new --theme 02-integration --with code --with table
    """
    from deckgen.model import Kind
    from deckgen.scaffold import new_card, theme_file

    if (theme is None) == (card_file is None):
        raise click.UsageError("give either --theme NAME or --file PATH")
    if card_file is not None:
        deck_dir, path = card_file.parent, card_file
    else:
        assert theme is not None
        path = theme_file(deck_dir, theme)
    card = new_card(deck_dir=deck_dir, file=path, kind=Kind(kind), subdeck=subdeck, rich=rich)
    created = " (new theme file)" if card.created_file else ""
    click.echo(f"{card.location}: new {card.kind.value} card #{card.id}{created}")
    click.echo("Replace every 【TODO：…】 with real text, then run: deckgen check", err=True)


@cli.command()
@DECK_DIR
@click.option("--fix", is_flag=True, help="Write a fresh id above every card that has none.")
def ids(deck_dir: Path, fix: bool) -> None:
    """List cards without an id; --fix writes them.

    Looks at every card file in DECK_DIR (default: cards/).
    A card's id is its identity in every learner's collection, so ids are
    written once and never changed. --fix adds '{#theme-N}' above each heading
    without one (or '#theme-N' into its attributes line) and changes nothing
    else in the file, byte for byte, so it is safe on a file you are still
    editing. Exit 1 when cards lack ids and --fix is not given.

    \b
    Examples:
      deckgen ids
      deckgen ids --fix
      deckgen ids --fix cards
    """
    from deckgen.scaffold import missing_ids, write_ids

    if not deck_dir.is_dir():
        raise click.BadParameter(f"no folder {deck_dir}", param_hint="DECK_DIR")
    missing = missing_ids(deck_dir)
    if not missing:
        click.echo("every card has an id")
        return
    if fix:
        write_ids(missing, deck_dir=deck_dir)
    for item in missing:
        done = "wrote id" if fix else "no id; --fix would write"
        click.echo(f"{item.location}: {done} #{item.new_id}: {item.question}")
    if not fix:
        click.echo(
            f"{counted(len(missing), 'card')} without an id: run 'deckgen ids --fix'", err=True
        )
        raise SystemExit(1)


@cli.command()
@click.argument("deck_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--title",
    metavar="TITLE",
    help="The deck's name in Anki, in the cards' script (default: the folder's name).",
)
@click.option(
    "--script",
    type=click.Choice(["zh-Hans", "zh-Hant"]),
    default="zh-Hans",
    show_default=True,
    help="The script the cards are written in; the other one is made with OpenCC.",
)
def init(deck_dir: Path, title: str | None, script: str) -> None:
    """Start a new deck in DECK_DIR (a new or empty folder).

    Writes deck.toml with a fresh random deck id (a deck's identity in every
    learner's collection: never copy another deck's), a variant per script, an
    empty phrase dictionary, one sample card per kind (basic, reversed, cloze)
    and a README for learners, which the sample cards quote.

    \b
    Examples:
      deckgen init mydeck --title 我的卡组
      deckgen init mydeck --script zh-Hant --title 我的卡組
    """
    from deckgen.init import init_deck

    deck = init_deck(deck_dir, title=title, script=script)
    click.echo(
        f"new deck in {deck_dir}: deck id {deck.id}, cards in {deck.script}, "
        f"variants {', '.join(deck.variants)}"
    )
    for path in deck.files:
        click.echo(f"wrote {path}")
    click.echo(
        f"Next: deckgen check --source {deck_dir / 'README.md'} {deck_dir}, then "
        f"deckgen build {deck_dir}",
        err=True,
    )


@cli.command()
@DECK_DIR
@click.option(
    "--out",
    "out_dir",
    default="release",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the releases: each version gets its own folder in it.",
)
@click.option(
    "--since",
    metavar="REV|FILE",
    help="The previous release: a git tag or revision, a release folder, its "
    "deck.lock.json, or none (a first release). Default: the newest v* git tag before "
    "this version.",
)
@click.option(
    "--locked",
    is_flag=True,
    help="Fail unless deck.lock.json is up to date, so that the release is exactly what "
    "is committed (for CI).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def release(
    deck_dir: Path, out_dir: Path, since: str | None, locked: bool, strict: bool, quiet: bool
) -> None:
    """Make a versioned release of DECK_DIR (default: cards/).

    The version is [deck] version in deck.toml. Writes OUT/VERSION/: one
    package per variant named TITLE-VERSION.VARIANT.apkg, CHANGES.md (per
    variant: cards added, edited, retired, moved, and whether importing keeps
    learners' progress, since the previous release), the deck.lock.json it was
    made from, and SHA256SUMS. The previous release is the newest git tag
    vX.Y.Z before this version unless --since names one. See docs/releases.md.

    \b
    Examples:
      deckgen release
      deckgen release cards --since v1.0.0
      deckgen release --locked --strict --out release
    """
    from deckgen.release import make_release

    made = make_release(
        deck_dir,
        out_dir=out_dir,
        since=since,
        locked=locked,
        strict=strict,
        track=None if quiet or not sys.stderr.isatty() else _progress_bar,
    )
    _print_problems(made.warnings)
    origin = made.baseline.origin
    click.echo(f"release {made.version} in {made.folder} (changes since {origin})")
    for summary in made.packages:
        click.echo(f"  {summary}")
    for changes in made.changes:
        counts = (
            "first release"
            if changes.first
            else ", ".join(
                counted(len(getattr(changes, key)), noun)
                for key, noun in (
                    ("added", "added card"),
                    ("edited", "edited card"),
                    ("retired", "retired card"),
                    ("moved", "moved card"),
                )
            )
        )
        if changes.first:
            progress = ""
        elif changes.partial:
            progress = "; the previous lock (format 1) cannot show moves or renumbered clozes"
        elif changes.exceptions:
            progress = f"; {counted(changes.exceptions, 'exception')} to keeping progress"
        else:
            progress = "; importing keeps learners' progress"
        click.echo(f"  {changes.variant}: {counts}{progress}")
    click.echo("  " + ", ".join(p.name for p in made.files if p.suffix != ".apkg"))
    if made.lock_updated:
        click.echo(
            f"deck.lock.json was updated: commit it, then tag that commit v{made.version}",
            err=True,
        )


def main() -> None:
    """Console entry point. It ends the process without the interpreter's teardown, which
    frees every object one at a time (0.1 s after building 10,000 cards) only for the
    system to reclaim the memory anyway; output is flushed first."""
    try:
        cli(prog_name="deckgen")
        code = 0
    except SystemExit as finished:
        if not isinstance(finished.code, int | None):
            raise
        code = finished.code or 0
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # e.g. a closed pipe: deckgen check | head
            stream.flush()
    os._exit(code)
