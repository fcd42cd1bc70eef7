"""CONTRIBUTING.md, walked top to bottom as a new contributor would: every command of "Add a
card", in its order, in a git repository holding a copy of the shipped deck. No step may
need --force or a step from further down, and the result is committed cleanly."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARTICLE, REPO, REQUIRE_ARTICLE

CONTRIBUTING = REPO / "CONTRIBUTING.md"

# What the contributor writes in place of each new card's placeholders (step 2): the
# question, the answer, a verbatim quote of the article, a note.
WRITTEN = {
    ("02-integration", "basic"): """\
## 《如何做好运营工作》：作者说沟通、数据这些内容有什么共同点？

都是可以学习的

> 无论是沟通还是数据还是其他的一些内容都是可以学习的

::: note
所以不必因为某项技能暂时不会就却步：先学起来，它不是门槛。
:::
""",
    ("02-integration", "cloze"): """\
## 《如何做好运营工作》开头，作者用哪个成语自谦不再续写旧文？

既然这样咱就不再{{c1::狗尾续貂}}了。

> 既然这样咱就不再狗尾续貂了

::: note
狗尾续貂：用差的接续好的，这里是作者的自谦。
:::
""",
    ("07-new-topic", "basic"): """\
## 《如何做好运营工作》由谁原创发布，发布在哪个平台？

@思无邪，发布于人人都是产品经理

> 本文由 @思无邪 原创发布于人人都是产品经理

::: note
引用文章时，写明作者和出处。
:::
""",
}
WITHOUT_ID = """
## 作者认为，新工具新科技出现之后，怎样的运营市场会越来越小？

故步自封、不去学习的运营市场

> 故步自封不去学习的运营市场将会越来越小

::: note
新工具出来时先试用，不要等它成了门槛再学。
:::
"""
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Contributor",
    "GIT_AUTHOR_EMAIL": "c@example.org",
    "GIT_COMMITTER_NAME": "Contributor",
    "GIT_COMMITTER_EMAIL": "c@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def add_a_card_commands() -> list[str]:
    """Every shell command of "Add a card" (and its ids paragraph), in order, comments cut."""
    text = CONTRIBUTING.read_text("utf-8")
    section = text.split("\n## Add a card\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"^ *```sh\n(.*?)^ *```", section, re.M | re.S):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command:
                commands.append(command)
    return commands


class Contributor:
    """A shell in a clone with the shipped deck, and what the contributor does by hand."""

    def __init__(self, root: Path) -> None:
        self.repo = root / "deckgen"
        shutil.copytree(REPO / "cards", self.repo / "cards")
        (self.repo / ".gitignore").write_text("/dist/\n")
        if ARTICLE.is_file():  # ../shared/source/, beside the clone as in this checkout
            (root / "shared").symlink_to(ARTICLE.parent.parent, target_is_directory=True)
        bin_dir = str(Path(sys.executable).parent)
        self.env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        self.env.update(GIT_ENV, HOME=str(root), PATH=bin_dir + os.pathsep + os.environ["PATH"])
        self.shell("git init -q && git add -A && git commit -qm 'The deck as cloned'")
        self.new_cards: list[tuple[Path, str]] = []

    def shell(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def write_the_card(self, printed: str) -> None:
        """Step 2: the placeholders of the card `deckgen new` printed, replaced by hand."""
        found = re.match(r"^(\S+):(\d+): new (\w+) card #([\w-]+)", printed)
        assert found, printed
        path, kind, card_id = self.repo / found[1], found[3], found[4]
        text = path.read_text("utf-8")
        attrs = text.rindex(f"{{#{card_id}")
        attrs_line = text[attrs:].split("\n", 1)[0]
        path.write_text(text[:attrs] + attrs_line + "\n" + WRITTEN[(path.stem, kind)], "utf-8")
        self.new_cards.append((path, card_id))


def test_contributing_has_no_dead_ends() -> None:
    text = CONTRIBUTING.read_text("utf-8")
    assert "--force" not in text
    assert "pip install -e '.[test]' && pytest" in text


def test_adding_a_card_as_contributing_says(tmp_path: Path) -> None:
    commands = add_a_card_commands()
    assert commands, "CONTRIBUTING.md lost its commands"
    me = Contributor(tmp_path)
    ran = []
    integration = me.repo / "cards" / "02-integration.md"
    for command in commands:
        if command == "deckgen ids":
            # A card written by hand without an id, into a file with other edits not
            # yet committed: the situation `ids --fix` is for.
            integration.write_text(integration.read_text("utf-8") + WITHOUT_ID, "utf-8")
            edited = integration.read_text("utf-8").splitlines()
        if "--source" in command and not ARTICLE.is_file():
            if os.environ.get(REQUIRE_ARTICLE):
                pytest.fail(f"{ARTICLE} is missing, and {REQUIRE_ARTICLE} is set")
            command = re.sub(r" --source \S+", "", command)  # a public clone: no article
        done = me.shell(command)
        output = done.stdout + done.stderr
        ran.append(command)
        if command.startswith("deckgen new"):
            assert done.returncode == 0, output
            me.write_the_card(done.stdout)
        elif command.startswith("deckgen check"):
            assert done.returncode == 0, output
            assert re.search(r"\d+ cards checked: 0 errors, 0 warnings", output), output
            assert "DG301" in output  # the new cards: information, not a failure
        elif command == "deckgen preview":
            assert done.returncode == 0, output
            assert (me.repo / "dist" / "preview.html").is_file()
        elif command == "deckgen build":
            assert done.returncode == 0, output
            for _, card_id in me.new_cards:
                assert f'"{card_id}"' in (me.repo / "cards" / "deck.lock.json").read_text()
        elif command.startswith("git add cards && git commit"):
            assert done.returncode == 0, output
            assert me.shell("git status --porcelain").stdout == ""  # the lock went in too
            after = me.shell("deckgen check --strict")
            assert after.returncode == 0 and "DG301" not in after.stderr, after.stderr
        elif command == "deckgen ids":
            assert done.returncode == 1, output
            assert "1 card without an id: run 'deckgen ids --fix'" in output
        elif command == "deckgen ids --fix":
            assert done.returncode == 0, output
            fixed = integration.read_text("utf-8").splitlines()
            heading = fixed.index(WITHOUT_ID.split("\n")[1])
            assert re.fullmatch(r"\{#integration-\d+\}", fixed[heading - 1])
            assert fixed[: heading - 1] + fixed[heading:] == edited  # that line, nothing else
            checked = me.shell("deckgen check --strict")
            assert checked.returncode == 0, checked.stderr
        else:
            pytest.fail(f"CONTRIBUTING.md has a step this walk-through does not know: {command}")
    assert [c.split(" --")[0].split(" &&")[0] for c in ran] == [
        "deckgen new",
        "deckgen new",
        "deckgen new",
        "deckgen check",
        "deckgen preview",
        "deckgen build",
        "git add cards",
        "deckgen ids",
        "deckgen ids",
    ]
