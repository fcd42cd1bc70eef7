"""deck.toml → DeckConfig, with every mistake reported at its line."""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError, Location, Problem, Rule, Severity, brief, fail, shown
from deckgen.files import exists, is_file, is_folder, is_inside, read_text
from deckgen.model import DeckConfig, Source, Variant, is_tag, name_problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "deck.toml"
BAD_CONFIG = Rule("DG010", Severity.ERROR, "deck.toml is missing, not valid, or has a wrong key")
UNKNOWN_VARIANT = Rule("DG015", Severity.ERROR, "--variant names no variant in deck.toml")
RULES = (BAD_CONFIG, UNKNOWN_VARIANT)

# Allowed keys per table, and whether each is required; unknown keys are errors.
_SCHEMA: dict[str, dict[str, bool]] = {
    "": {"deck": True, "source": True, "sources": False, "variants": True, "lint": False},
    "deck": {
        "id": True,
        "title": True,
        "script": True,
        "tags": False,
        "phrases": False,
        "titles": False,
        "version": False,
        "description": False,
    },
    "source": {"title": True, "author": True, "site": True, "url": False},
    "variant": {"opencc": True, "title": False, "wording": False, "quotation_marks": False},
    "lint": {"allow": False},
}
_VARIANT_NAME = re.compile(r"^zh-Han[st](-[A-Za-z0-9]+)*$")
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*([-.+][0-9A-Za-z.]+)?$")
SCRIPTS = ("zh-Hans", "zh-Hant")
QUOTATION_MARKS = ("keep", "corner")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class _Reader:
    """Collects problems while reading one deck.toml."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.problems: list[Problem] = []

    def line_of(self, key: str, within: str = "") -> int:
        """The first line that assigns or opens ``key`` (tomllib keeps no positions).

        With ``within`` (a table name such as ``variants.zh-Hant``), the first such
        line after that table's header: every variant has its own ``opencc``.
        """
        header = re.compile(rf"^\s*\[\s*{re.escape(within)}\s*\]") if within else None
        start = next((i for i, line in enumerate(self.lines) if header and header.match(line)), 0)
        pattern = re.compile(rf"^\s*(\[+\s*)?([\w.-]+\.)?{re.escape(key)}\s*(=|\])")
        for number, line in enumerate(self.lines[start:], start=start + 1):
            if pattern.match(line):
                return number
        return 0

    def problem(self, key: str, message: str, hint: str = "", within: str = "") -> None:
        location = Location(self.path, self.line_of(key, within))
        self.problems.append(BAD_CONFIG.at(location, message, hint))

    def table(self, data: Any, name: str, schema: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.problem(name, f"[{name}] must be a table", f"write it as [{name}]")
            return {}
        allowed = _SCHEMA[schema]
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else "allowed keys: " + ", ".join(allowed)
                )
                where = f"[{name}]" if name else "deck.toml"
                self.problem(key, f"unknown key {shown(key)} in {where}", hint)
        for key, required in allowed.items():
            if required and key not in data:
                self.problem(
                    name or key,
                    f"missing key '{key}' in [{name or key}]",
                    "see docs/card-format.md for a complete deck.toml",
                )
        return data

    def typed(self, data: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
        value = data.get(key, default)
        if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
            return value
        expected = {str: "a string", int: "an integer", list: "a list"}[kind]
        example = {str: '"text"', int: "1733000000001", list: '["a", "b"]'}[kind]
        self.problem(
            key,
            f"'{key}' must be {expected}, got {type(value).__name__} {brief(repr(value))}",
            f"write it as {key} = {example} (see docs/card-format.md)",
        )
        return default

    def strings(self, data: dict[str, Any], key: str) -> tuple[str, ...]:
        values = self.typed(data, key, list, [])
        if not all(isinstance(v, str) and is_tag(v) for v in values):
            self.problem(
                key,
                f"'{key}' must be a list of strings without spaces, '<' or '>'",
                'e.g. tags = ["运营", "结果导向"]',
            )
            return ()
        return tuple(values)

    def source(self, data: Any, name: str) -> Source:
        table = self.table(data, name, "source")
        return Source(
            title=self.typed(table, "title", str, "") or "",
            author=self.typed(table, "author", str, "") or "",
            site=self.typed(table, "site", str, "") or "",
            url=self.typed(table, "url", str, "") or "",
        )


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and its TOML data; a DeckgenError at the line TOML names."""
    if not is_folder(path.parent):
        raise fail(
            BAD_CONFIG,
            path.parent,
            0,
            "no deck folder here",
            f"deckgen looked for {CONFIG_NAME} in {path.parent}; run it in the folder that "
            "holds the deck folder (cards/), or name the deck folder: deckgen check path/to/cards",
        )
    if not exists(path):
        raise fail(
            BAD_CONFIG,
            path,
            0,
            f"no {CONFIG_NAME} in the deck folder",
            "a deck folder holds deck.toml and the card files; start one with "
            "'deckgen init FOLDER', see docs/card-format.md",
        )
    text = read_text(path, inside=path.parent)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_POSITION.search(str(error))
        line, column = (int(found[1]), int(found[2])) if found else (0, 0)
        message = _TOML_POSITION.sub("", str(error)).strip()
        problem = BAD_CONFIG.at(
            Location(path, line, column),
            f"deck.toml is not valid TOML: {message}",
            "see docs/card-format.md for a complete deck.toml",
        )
        raise DeckgenError([problem]) from None


def load_config(deck_dir: Path) -> DeckConfig:
    """Read ``deck_dir/deck.toml``; raise DeckgenError with every problem found."""
    path = deck_dir / CONFIG_NAME
    text, data = _read_toml(path)
    reader = _Reader(path, text)
    top = reader.table(data, "", "")
    deck = reader.table(top.get("deck", {}), "deck", "deck")
    lint = reader.table(top.get("lint", {}), "lint", "lint")
    variants = _read_variants(reader, top.get("variants", {}), deck)

    deck_id = reader.typed(deck, "id", int)
    if deck_id is not None and not 0 < deck_id < 2**53:
        reader.problem(
            "id",
            f"deck id must be a positive integer below 2**53, got {deck_id}",
            "keep the id the deck was released with; a new deck takes e.g. the time in ms",
        )
    script = reader.typed(deck, "script", str, "zh-Hans")
    if script not in SCRIPTS:
        reader.problem(
            "script",
            f"script must be zh-Hans or zh-Hant (the script the cards are written in), "
            f"got {shown(script)}",
            'write script = "zh-Hans" for Simplified cards, "zh-Hant" for Traditional ones',
        )
    version = reader.typed(deck, "version", str, "") or ""
    if version and not _VERSION.match(version):
        reader.problem(
            "version",
            f"version {shown(version)} is not a version number",
            'write e.g. version = "2.0.0" (it names the release packages)',
        )
    phrases = reader.typed(deck, "phrases", str)
    config = DeckConfig(
        path=path,
        id=deck_id or 0,
        title=reader.typed(deck, "title", str, "") or "",
        script=script or "zh-Hans",
        tags=reader.strings(deck, "tags"),
        source=reader.source(top.get("source", {}), "source"),
        sources=_read_sources(reader, top.get("sources", {})),
        variants=variants,
        phrases=deck_dir / phrases if phrases else None,
        allow=frozenset(reader.strings(lint, "allow")),
        raw=text,
        version=version,
        description=reader.typed(deck, "description", str, "") or "",
    )
    _check_titles_and_phrases(reader, config, deck_dir)
    if reader.problems:
        raise DeckgenError(reader.problems)
    return config


def _read_sources(reader: _Reader, data: Any) -> dict[str, Source]:
    """``[sources.NAME]``: other sources a quote can name with ``{source=NAME}``."""
    if not isinstance(data, dict):
        reader.problem("sources", "[sources] must hold tables like [sources.comments]")
        return {}
    sources = {}
    for name, table in data.items():
        if not _SOURCE_NAME.match(name):
            reader.problem(
                name,
                f"source name {shown(name)} is not a lowercase word",
                "name sources like [sources.comments] or [sources.lead]",
            )
        sources[name] = reader.source(table, f"sources.{name}")
    return sources


def _check_titles_and_phrases(reader: _Reader, config: DeckConfig, deck_dir: Path) -> None:
    for title in [config.title, *(v.title for v in config.variants)]:
        if title is not None and (why := name_problem(title)):
            # Titles become deck names and file names.
            reader.problem("title", f"title {shown(title)} {why}", "write a short plain title")
    phrases = config.phrases
    if phrases is None:
        return
    written = phrases.relative_to(deck_dir) if phrases.is_relative_to(deck_dir) else phrases
    if not is_inside(phrases, deck_dir):
        # Never read (and echo in messages) a file outside the deck folder.
        reader.problem(
            "phrases",
            f"phrase dictionary {shown(written)} is outside the deck folder",
            'keep it in the deck folder, e.g. phrases = "phrases.txt"',
        )
    elif not is_file(phrases):
        reader.problem(
            "phrases",
            f"phrase dictionary {shown(written)} not found",
            "create it (it may be empty) or remove the key",
        )


def _read_variants(reader: _Reader, data: Any, deck: dict[str, Any]) -> tuple[Variant, ...]:
    from deckgen.segment import target_script

    script = str(deck.get("script")) if deck.get("script") in SCRIPTS else "zh-Hans"

    if not isinstance(data, dict) or not data:
        reader.problem(
            "variants", "no variants to build", 'add e.g. [variants.zh-Hant] with opencc = "s2tw"'
        )
        return ()
    titles = deck.get("titles", {})
    if not isinstance(titles, dict) or not all(isinstance(t, str) for t in titles.values()):
        reader.problem(
            "titles",
            "[deck.titles] must give each variant's title as a string",
            'e.g. zh-Hant = "如何做好運營工作"',
        )
        titles = {}
    for name in sorted(set(titles) - set(data)):
        reader.problem(
            name,
            f"[deck.titles] names {shown(name)}, which is not a variant",
            "use a name from the [variants.…] tables",
        )
    variants = []
    for name, table in data.items():
        table = reader.table(table, f"variants.{name}", "variant")
        if not _VARIANT_NAME.match(name):
            reader.problem(
                name,
                f"variant name {shown(name)} is not a zh-Hans/zh-Hant language tag",
                "name variants like zh-Hans, zh-Hant or zh-Hant-HK",
            )
        opencc = reader.typed(table, "opencc", str, "none") or "none"
        _check_opencc(reader, name, "opencc", opencc, script)
        title = reader.typed(table, "title", str) or titles.get(name)
        wording = reader.typed(table, "wording", str)
        if wording is not None:
            _check_opencc(reader, name, "wording", wording, script)
            if target_script(wording, script) != target_script(opencc, script):
                reader.problem(
                    "wording",
                    f"wording {shown(wording)} writes {target_script(wording, script)}, but "
                    f"opencc {shown(opencc)} writes {target_script(opencc, script)} "
                    f"(variant {name})",
                    "wording changes the deck's own words within the variant's script: e.g. "
                    'opencc = "s2tw" with wording = "s2twp"',
                    within=f"variants.{name}",
                )
        marks = reader.typed(table, "quotation_marks", str, "keep") or "keep"
        if marks not in QUOTATION_MARKS:
            reader.problem(
                "quotation_marks",
                f"quotation_marks must be one of {', '.join(QUOTATION_MARKS)}, got {shown(marks)}",
                'write quotation_marks = "corner" for 「」 and 『』 (Taiwan, Hong Kong)',
                within=f"variants.{name}",
            )
        variants.append(
            Variant(name=name, opencc=opencc, title=title, wording=wording, quotation_marks=marks)
        )
    return tuple(variants)


def _check_opencc(reader: _Reader, variant: str, key: str, config: str, script: str) -> None:
    """An OpenCC config that reads the deck's script and writes the variant's."""
    from deckgen.segment import known_configs, target_script

    within = f"variants.{variant}"
    if config != "none" and config not in known_configs(script):
        other = "zh-Hant" if script == "zh-Hans" else "zh-Hans"
        if config in known_configs(other):
            reader.problem(
                key,
                f"OpenCC config {shown(config)} reads {other} text, but the cards are "
                f"written in {script} (variant {variant})",
                "use one of: " + ", ".join(known_configs(script)),
                within=within,
            )
            return
        close = difflib.get_close_matches(config, known_configs(script), n=1)
        what = "the wording of variant" if key == "wording" else "variant"
        reader.problem(
            key,
            f"unknown OpenCC config {shown(config)} for {what} {variant}",
            f"did you mean {close[0]!r}?"
            if close
            else "use one of: " + ", ".join(known_configs(script)),
            within=within,
        )
        return
    wrote = target_script(config, script)
    if _VARIANT_NAME.match(variant) and not variant.startswith(wrote):
        reader.problem(
            key,
            f"variant {variant} would be {wrote} text: {key} = {shown(config)} "
            f"{'keeps the cards as they are' if config == 'none' else 'writes ' + wrote}",
            f"name the variant {wrote}, or choose a config that writes "
            f"{variant[:7]} (e.g. {'s2tw' if script == 'zh-Hans' else 'tw2s'})",
            within=within,
        )


def choose_variants(config: DeckConfig, names: Sequence[str]) -> tuple[Variant, ...]:
    """The variants named (all of them if none), or DG015 for a name deck.toml lacks."""
    known = {variant.name: variant for variant in config.variants}
    for name in names:
        if name not in known:
            raise fail(
                UNKNOWN_VARIANT,
                config.path,
                0,
                f"no variant {shown(name)} in deck.toml",
                "choose from: " + ", ".join(known),
            )
    return tuple(known[name] for name in names) if names else config.variants
