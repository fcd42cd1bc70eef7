"""Every command's --help reads like a well-kept click tool: usage, examples, options."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner, Result

from deckgen import __version__
from deckgen.cli import cli

COMMANDS = sorted(cli.commands)


def run(*args: str) -> Result:
    """The CLI as a user runs it, under its own name."""
    return CliRunner().invoke(cli, args, prog_name="deckgen", catch_exceptions=False)


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.stdout) == (0, f"deckgen, version {__version__}\n")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_top_level_help_lists_every_command_and_examples(flag: str) -> None:
    result = run(flag)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: deckgen [OPTIONS] COMMAND [ARGS]...\n")
    assert "Examples:\n" in result.stdout
    assert "--version" in result.stdout
    commands = result.stdout.split("Commands:\n")[1]
    listed = re.findall(r"^  (\w+) ", commands, re.M)
    assert listed == COMMANDS
    assert "..." not in commands  # every summary fits, none cut short


@pytest.mark.parametrize("name", COMMANDS, ids=COMMANDS)
def test_command_help_has_usage_examples_and_documented_options(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: deckgen {name} [OPTIONS]")
    examples = result.stdout.split("Examples:\n")[1].split("\n\n")[0].splitlines()
    assert examples and all(line.startswith(f"    deckgen {name}") for line in examples)
    command = cli.commands[name]
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts[0]} has no help text"
    assert run(name, "-h").stdout == result.stdout


@pytest.mark.parametrize("name", COMMANDS, ids=COMMANDS)
def test_examples_use_only_real_options(name: str) -> None:
    """An example that shows an option the command does not have would fail for a user."""
    help_text = run(name, "--help").stdout
    options = {opt for p in cli.commands[name].params for opt in getattr(p, "opts", [])}
    examples = help_text.split("Examples:\n")[1].split("\n\n")[0]
    assert set(re.findall(r"(?<!\S)--?[a-z][\w-]*", examples)) <= options


def test_shared_options_have_one_name_everywhere() -> None:
    """--strict, --format, --source and --out mean the same in every command that has them."""
    seen: dict[str, set[str]] = {}
    for command in cli.commands.values():
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag:
                seen.setdefault(param.name or "", set()).update(param.opts)
    assert all(len(opts) == 1 for opts in seen.values()), seen
