"""Packaging, offline: the sdist and wheel (templates and data inside, the metadata a package
index shows, twine check), the wheel in a clean virtual environment building the shipped
deck, and deckgen's pre-commit hook stopping a commit of a bad card in a deck repository.

Nothing is downloaded: pip installs from a wheelhouse made of this environment's packages
(tests/wheelhouse.py), and where the machine allows it the commands run in a network
namespace of their own, without any network at all.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest
from conftest import REPO
from wheelhouse import make_wheelhouse

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
"""The versions requires-python promises, the CI matrix tests and the classifiers name."""


@cache
def _offline_prefix() -> tuple[str, ...]:
    """``unshare -n`` (a network namespace with no interfaces) where it works: as root on
    Linux; elsewhere the commands run as they are, kept off the index by PIP_NO_INDEX."""
    if shutil.which("unshare") is None:
        return ()
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return ("unshare", "-n") if probe.returncode == 0 else ()


def offline(
    command: Sequence[str | Path], *, cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*_offline_prefix(), *map(str, command)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``python -m build``: the sdist, and the wheel built from it."""
    out = tmp_path_factory.mktemp("dists")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [sdist], [wheel] = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    return {"sdist": sdist, "wheel": wheel}


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose pip installs only from a wheelhouse of deckgen's requirements
    (and hatchling's, to build deckgen from source), made from the installed packages."""
    folder = tmp_path_factory.mktemp("offline")
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    requirements = project["project"]["dependencies"] + project["build-system"]["requires"]
    make_wheelhouse(folder / "wheels", requirements)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(folder / "wheels"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VIRTUALENV_OVERRIDE_APP_DATA=str(folder / "virtualenv"),
        VIRTUALENV_NO_PERIODIC_UPDATE="1",  # no background download of newer pip wheels
        PRE_COMMIT_HOME=str(folder / "pre-commit"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
    )
    return env


def test_sdist_and_wheel_hold_the_code_templates_and_data(dists: dict[str, Path]) -> None:
    wheel = set(zipfile.ZipFile(dists["wheel"]).namelist())
    shipped = {f"deckgen/templates/{p.name}" for p in (REPO / "templates").iterdir()}
    data = {f"deckgen/data/{p.name}" for p in (REPO / "src/deckgen/data").iterdir()}
    code = {f"deckgen/{p.name}" for p in (REPO / "src/deckgen").glob("*.py")}
    assert shipped | data | code <= wheel
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel)
    with tarfile.open(dists["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "src/deckgen/cli.py"}
    assert expected | {f"templates/{p.name}" for p in (REPO / "templates").iterdir()} <= names


def test_metadata_has_what_a_package_index_page_shows(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(archive.read(name))
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] == "MIT"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith("# deckgen")  # the README
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Changelog", "Issues", "Source"} <= set(urls)
    classifiers = set(meta.get_all("Classifier"))
    assert {f"Programming Language :: Python :: {v}" for v in PYTHONS} <= classifiers
    assert "Natural Language :: Chinese (Simplified)" in classifiers
    assert "Natural Language :: Chinese (Traditional)" in classifiers


def test_twine_check_passes(dists: dict[str, Path]) -> None:
    command = [sys.executable, "-m", "twine", "check", "--strict", *map(str, dists.values())]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


@pytest.mark.slow
def test_wheel_in_a_clean_venv_builds_the_shipped_deck(
    tmp_path: Path, dists: dict[str, Path], offline_env: dict[str, str]
) -> None:
    venv = tmp_path / "venv"
    # Without a pip of its own (faster): this environment's pip installs into it.
    offline([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=offline_env)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", python, "install", dists["wheel"]]
    offline(install, cwd=tmp_path, env=offline_env)
    where = offline(
        [python, "-c", "import deckgen; print(deckgen.__file__)"], cwd=tmp_path, env=offline_env
    )
    assert where.stdout.startswith(str(venv))  # the installed wheel, not the work tree
    shutil.copytree(REPO / "cards", tmp_path / "cards")
    built = offline(
        [venv / "bin" / "deckgen", "build", "--out", "dist"], cwd=tmp_path, env=offline_env
    )
    assert len(list((tmp_path / "dist").glob("*.apkg"))) == 2, built.stdout + built.stderr
    assert "zh-Hans:" in built.stdout and "zh-Hant:" in built.stdout


# --- pre-commit in a deck repository ----------------------------------------------------

BAD_CARD = """
{#sample-yes-no}
## 这套卡组有两个版本吗？

有

> 这套 Anki 卡组有简体和繁体两个版本

::: note
简体和繁体各一个。
:::
"""
GOOD_CARD = """
{#sample-scripts}
## 这套卡组有哪两个版本？

简体和繁体两个版本

> 这套 Anki 卡组有简体和繁体两个版本

::: note
两个版本可以放在同一个收藏中。
:::
"""


def _snapshot_of_the_work_tree(folder: Path, env: dict[str, str]) -> tuple[Path, str]:
    """deckgen's work tree as one commit (pre-commit installs a hook repository at a rev):
    tracked files as they are now, and new files git does not ignore."""
    git = ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "clone", "-q", "--no-local", str(REPO), str(folder)], check=True, env=env)
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source, target = REPO / name, folder / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        elif target.exists():
            target.unlink()  # deleted in the work tree
    subprocess.run([*git, "add", "-A"], cwd=folder, check=True, env=env)
    subprocess.run(
        [*git, "commit", "-qm", "work tree", "--allow-empty"], cwd=folder, check=True, env=env
    )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
    )
    return folder, head.stdout.strip()


@pytest.mark.slow
def test_pre_commit_hook_stops_a_bad_card_and_lets_a_good_one_through(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("needs deckgen as a git repository (pre-commit installs hooks from git)")
    hooks, rev = _snapshot_of_the_work_tree(tmp_path / "deckgen", offline_env)
    repo = tmp_path / "my-deck"
    env = offline_env
    offline(
        [sys.executable, "-m", "deckgen", "init", repo / "cards", "--title", "我的卡组"],
        cwd=tmp_path,
        env=env,
    )
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: deckgen-check\n"
    )
    offline(["git", "init", "-q"], cwd=repo, env=env)
    offline([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env)

    sample = repo / "cards" / "01-sample.md"
    written = sample.read_text("utf-8")
    sample.write_text(written + BAD_CARD, "utf-8")
    line = (written + BAD_CARD).splitlines().index("## 这套卡组有两个版本吗？") + 1
    offline(["git", "add", "-A"], cwd=repo, env=env)
    blocked = offline(["git", "commit", "-qm", "a yes/no card"], cwd=repo, env=env, check=False)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode == 1, output
    assert "deckgen check" in output and "Failed" in output
    assert f"cards/01-sample.md:{line}: warning: yes/no question" in output and "[DG103]" in output
    no_commit = offline(
        ["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=repo, env=env, check=False
    )
    assert no_commit.returncode != 0  # the commit was stopped

    sample.write_text(written + GOOD_CARD, "utf-8")
    offline(["git", "add", "-A"], cwd=repo, env=env)
    passed = offline(["git", "commit", "-qm", "a good card"], cwd=repo, env=env, check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert (
        "deckgen check" in passed.stdout + passed.stderr
        and "Passed" in passed.stdout + passed.stderr
    )
    log = offline(["git", "log", "--format=%s"], cwd=repo, env=env)
    assert log.stdout.splitlines() == ["a good card"]
