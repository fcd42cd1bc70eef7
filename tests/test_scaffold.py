"""``deckgen new`` writes cards that check flags only for their placeholders;
``deckgen ids`` finds cards without ids and stamps them, changing nothing else."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import Result
from conftest import AnkiCollection, run
from helpers import SAMPLE_HANT

# Real text for every placeholder that `deckgen new` writes, in order of appearance.
FILLED = {
    "basic": [
        "作者认为运营最核心的能力是什么？",
        "整合",
        "产品运营最核心的能力应该是整合",
        "先看这点。",
    ],
    "reversed": [
        "作者说运营的核心“利他”指什么？",
        "作者的解释：帮助别人，让产品和业务越来越好",
        "运营的核心是利他",
        "做事前先问能帮到谁。",
    ],
    "cloze": ["作者的观点", "运营的核心是", "利他", "运营的核心是利他", "做事前先问能帮到谁。"],
}
SOURCE = (
    "毕竟不达目标不罢休也是运营人员必备的基础素质。毕竟换个角度看问题也是运营人员需要有的能力。"
    "在这里敲黑板了哦。整合业务,产品,技术。产品运营最核心的能力应该是整合。运营的核心是利他。"
)
PLACEHOLDER = re.compile(r"【TODO：[^】]*】")


def _problems(deck: Path) -> list[tuple[str, int, str]]:
    result = run("check", deck, "--format", "json")
    return [(p["code"], p["line"], Path(p["path"]).name) for p in json.loads(result.stdout)]


def _fill(path: Path, texts: list[str]) -> None:
    text = path.read_text("utf-8")
    assert len(PLACEHOLDER.findall(text)) == len(texts)
    for value in texts:
        text = PLACEHOLDER.sub(value, text, count=1)
    path.write_text(text, "utf-8")


@pytest.fixture
def built_deck(sample_deck: Path, tmp_path: Path) -> Path:
    """The sample deck after a build: check is clean, the lock knows every card."""
    assert run("build", sample_deck, "--out", tmp_path / "dist").exit_code == 0
    assert _problems(sample_deck) == []
    return sample_deck


@pytest.mark.parametrize("kind", ["basic", "reversed", "cloze"], ids=lambda k: k)
def test_new_card_is_flagged_only_for_its_placeholders(built_deck: Path, kind: str) -> None:
    file = built_deck / "02-cloze.md"
    lines_before = file.read_text("utf-8").count("\n")
    result = run("new", built_deck, "--theme", "02-cloze", "--kind", kind)
    assert result.exit_code == 0
    heading = lines_before + 3  # a blank line, the attributes line, the heading
    assert result.stdout == f"{file}:{heading}: new {kind} card #cloze-1\n"
    placeholder_lines = [
        n
        for n, line in enumerate(file.read_text("utf-8").splitlines(), 1)
        for _ in PLACEHOLDER.findall(line)
    ]
    assert len(placeholder_lines) == len(FILLED[kind])
    # Nothing but the placeholders.
    assert _problems(built_deck) == [("DG100", n, "02-cloze.md") for n in placeholder_lines]

    _fill(file, FILLED[kind])
    # The lock does not know the new card yet: information, which the next build records.
    assert _problems(built_deck) == [("DG301", 0, "deck.lock.json")]
    sources = built_deck / "article.txt"
    sources.write_text(SOURCE, "utf-8")
    result = run("check", built_deck, "--strict", "--source", sources)
    assert result.exit_code == 0  # a new card never stops the contributor: no dead end
    assert result.stderr.endswith("5 cards checked: 0 errors, 0 warnings\n")
    assert "records 2 notes as new or changed" in result.stderr


def test_new_theme_file_gets_front_matter(sample_deck: Path) -> None:
    result = run("new", sample_deck, "--theme", "07-new-topic", "--deck", "新主题")
    assert result.exit_code == 0
    assert (
        result.stdout
        == f"{sample_deck / '07-new-topic.md'}:9: new basic card #new-topic-1 (new theme file)\n"
    )
    text = (sample_deck / "07-new-topic.md").read_text("utf-8")
    # Front matter like every theme file's: its subdeck, and its name as the file's tag.
    assert text.startswith(
        "---\ndeck: 新主题\ntags: [新主题]\n---\n\n# 新主题\n\n{#new-topic-1}\n## 【TODO："
    )
    assert {code for code, _, _ in _problems(sample_deck)} == {"DG100"}
    _fill(
        sample_deck / "07-new-topic.md",
        ["作者认为运营的核心是什么？", "利他", "利他", "帮助他人。"],
    )
    assert {code for code, _, _ in _problems(sample_deck)} == {"DG301"}


def test_new_ids_are_unique_and_never_reuse_a_retired_id(built_deck: Path) -> None:
    """Ids count up from the highest ever used, the last build's included."""
    lock = built_deck / "deck.lock.json"
    lock.write_text(lock.read_text("utf-8").replace('"sample-image"', '"basic-4"'), "utf-8")
    outputs = [run("new", built_deck, "--theme", "basic").stdout for _ in range(2)]
    assert [o.split("#")[1].split()[0] for o in outputs] == ["basic-5", "basic-6"]


def test_new_keeps_crlf_line_endings(sample_deck: Path) -> None:
    file = sample_deck / "02-cloze.md"
    file.write_bytes(file.read_bytes().replace(b"\n", b"\r\n"))
    run("new", "--file", file)
    raw = file.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert b"\r\n\r\n{#cloze-1}\r\n## " in raw


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--theme", "02-clozes"],
            "02-clozes.md: error: no theme file 02-clozes.md in {deck} [DG071]\n"
            "  hint: did you mean --theme 02-cloze? To start a new theme, add --deck NAME\n",
        ),
        (
            ["--theme", "02-cloze", "--deck", "整合"],
            "02-cloze.md: error: --deck is only for a new theme file, and 02-cloze.md exists "
            "[DG071]\n",
        ),
        (
            ["--theme", "07-新主题", "--deck", "新主题"],
            "07-新主题.md: error: cannot make card ids from the file name '07-新主题.md' [DG070]\n",
        ),
    ],
    ids=["unknown-theme", "deck-for-existing-file", "non-ascii-theme"],
)
def test_new_refuses_with_a_reason(sample_deck: Path, args: list[str], message: str) -> None:
    before = sorted(p.name for p in sample_deck.iterdir())
    result = run("new", sample_deck, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{sample_deck}/" + message.format(deck=sample_deck))
    assert sorted(p.name for p in sample_deck.iterdir()) == before


@pytest.mark.parametrize("args", [[], ["--theme", "x", "--file", "y.md"]], ids=["none", "both"])
def test_new_needs_exactly_one_of_theme_or_file(sample_deck: Path, args: list[str]) -> None:
    result = run("new", sample_deck, *args)
    assert result.exit_code == 2
    assert "give either --theme NAME or --file PATH" in result.stderr


# --- deckgen ids ---------------------------------------------------------------

WITHOUT_IDS = (
    "\ufeff---\r\n"
    "deck: 整合\r\n"
    "---\r\n"
    "\r\n"
    "## 第一个没有 id 的问题？  \r\n"  # trailing spaces: a Markdown line break, kept
    "\r\n"
    "答案一   \r\n"
    "\r\n"
    '{.cloze tags="整合"}\r\n'
    "## 第二个问题？\r\n"
    "\r\n"
    "产品运营要整合{{c1::业务}}。\r\n"
    "\r\n"
    "{#integration-core}\r\n"
    "## 有 id 的问题？\r\n"
    "\r\n"
    "整合\r\n"
    "\r\n"
    "```\r\n"
    "## 代码里的标题不是卡片\r\n"
    "```\r\n"
)
STAMPED = (
    WITHOUT_IDS.replace("\r\n## 第一个", "\r\n{#integration-1}\r\n## 第一个")
    .replace('{.cloze tags="整合"}', '{#integration-2 .cloze tags="整合"}')
    .encode()
)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(sample_deck: Path) -> Path:
    """The sample deck plus a theme file written without ids, all committed in git."""
    (sample_deck / "03-integration.md").write_bytes(WITHOUT_IDS.encode())
    _git(sample_deck, "init", "-q")
    _git(sample_deck, "add", ".")
    _git(sample_deck, "commit", "-q", "-m", "cards")
    return sample_deck


def test_ids_lists_cards_without_id_and_exits_1(repo: Path) -> None:
    file = repo / "03-integration.md"
    result = run("ids", repo)
    assert result.exit_code == 1
    assert result.stdout == (
        f"{file}:5: no id; --fix would write #integration-1: 第一个没有 id 的问题？\n"
        f"{file}:10: no id; --fix would write #integration-2: 第二个问题？\n"
    )
    assert result.stderr == "2 cards without an id: run 'deckgen ids --fix'\n"
    assert file.read_bytes() == WITHOUT_IDS.encode()


def test_ids_fix_stamps_ids_and_changes_nothing_else(repo: Path) -> None:
    result = run("ids", repo, "--fix")
    assert result.exit_code == 0
    assert (repo / "03-integration.md").read_bytes() == STAMPED  # BOM, CRLF, spaces kept
    assert run("ids", repo).stdout == "every card has an id\n"
    assert run("check", repo).exit_code == 0


def test_ids_fix_works_on_a_file_being_edited(repo: Path) -> None:
    """A card just written is uncommitted: --fix adds only the id lines, nothing else."""
    file = repo / "03-integration.md"
    file.write_bytes(WITHOUT_IDS.encode() + b"\r\n")
    result = run("ids", repo, "--fix")
    assert result.exit_code == 0, result.output
    assert file.read_bytes() == STAMPED + b"\r\n"


def test_ids_fix_works_outside_git(sample_deck: Path) -> None:
    (sample_deck / "03-integration.md").write_bytes(WITHOUT_IDS.encode())
    result: Result = run("ids", sample_deck, "--fix")
    assert result.exit_code == 0, result.output
    assert (sample_deck / "03-integration.md").read_bytes() == STAMPED


def test_ids_fix_refuses_a_file_that_changes_meanwhile(
    sample_deck: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The only real conflict: an editor saves the file between reading and writing."""
    from deckgen import scaffold

    file = sample_deck / "03-integration.md"
    file.write_bytes(WITHOUT_IDS.encode())
    real = scaffold._stamped

    def stamped_then_edited(raw: bytes, items: list[scaffold.MissingId]) -> tuple[bytes, bytes]:
        file.write_bytes(WITHOUT_IDS.encode() + "新的一行\r\n".encode())
        return real(raw, items)

    monkeypatch.setattr(scaffold, "_stamped", stamped_then_edited)
    result = run("ids", sample_deck, "--fix")
    assert result.exit_code == 1
    assert (
        f"{file}: error: 03-integration.md changed while deckgen was writing ids" in result.stderr
    )
    assert file.read_bytes() == WITHOUT_IDS.encode() + "新的一行\r\n".encode()


def test_ids_on_a_deck_with_every_id(sample_deck: Path) -> None:
    result = run("ids", sample_deck)
    assert (result.exit_code, result.stdout) == (0, "every card has an id\n")


def test_ids_of_deleted_cards_are_never_handed_out_again(sample_deck: Path, tmp_path: Path) -> None:
    from conftest import run as run_cli

    out = tmp_path / "out"
    assert run_cli("build", sample_deck, "--out", out).exit_code == 0
    path = sample_deck / "02-cloze.md"
    text = path.read_text("utf-8")
    path.write_text(text.replace("{#sample-integration .cloze}", "{#cloze-1 .cloze}"), "utf-8")
    assert run_cli("build", sample_deck, "--out", out).exit_code == 0
    path.write_text(text.replace("{#sample-integration .cloze}", "{#cloze-2 .cloze}"), "utf-8")
    result = run_cli("build", sample_deck, "--out", out)
    assert "DG302" in result.output  # cloze-1 disappeared: warned, then retired
    lock = (sample_deck / "deck.lock.json").read_text("utf-8")
    assert '"cloze-1/cloze"' in lock.split('"retired"')[1]

    new = run_cli("new", sample_deck, "--theme", "02-cloze")
    assert new.exit_code == 0 and "#cloze-3" in new.output

    # The same card back under its id is a restore; other content under it is an error.
    path.write_text(text.replace("{#sample-integration .cloze}", "{#cloze-1 .cloze}"), "utf-8")
    check = run_cli("check", sample_deck, "--out", out)
    assert "DG309" in check.output and "DG303" not in check.output
    path.write_text(
        text.replace("{#sample-integration .cloze}", "{#cloze-1 .cloze}").replace("业务", "市场"),
        "utf-8",
    )
    for _ in range(2):  # every time, not only once
        check = run_cli("check", sample_deck, "--out", out)
        assert "DG303" in check.output and check.exit_code == 1


RICH_FILLED = [
    "作者认为运营最核心的能力是什么？",
    "整合",
    "代码会打印一句话",
    'print("整合业务")',
    "三方合在一起",
    "a + b + c",
    "方面",
    "要做的",
    "业务",
    "说清楚需求",
    "产品运营最核心的能力应该是整合",
    "先看这点。",
]


def test_new_card_with_code_math_and_table_reaches_anki(
    built_deck: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    """--with code, math and table: each block's placeholders are flagged where they are
    (inside the fence and the math too); filled in, the card checks clean and learners
    get highlighted code, Anki's MathJax and a table, the code's Chinese unconverted."""
    file = built_deck / "02-cloze.md"
    result = run(
        "new", built_deck, "--theme", "02-cloze", "--with", "code", "--with", "math",
        "--with", "table",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = file.read_text("utf-8")
    placeholder_lines = [
        n for n, line in enumerate(text.splitlines(), 1) for _ in PLACEHOLDER.findall(line)
    ]
    assert "```python\n# 【TODO：代码】\n```" in text and "$$\n\\text{【TODO：公式】}\n$$" in text
    assert _problems(built_deck) == [("DG100", n, "02-cloze.md") for n in placeholder_lines]

    _fill(file, RICH_FILLED)
    code = file.read_text("utf-8").replace("# " + RICH_FILLED[3], RICH_FILLED[3])
    file.write_text(code, "utf-8")
    assert _problems(built_deck) == [("DG301", 0, "deck.lock.json")]
    assert run("build", built_deck, "--out", tmp_path / "dist").exit_code == 0
    anki.import_package(tmp_path / "dist" / SAMPLE_HANT)
    back = anki.card_by_id_field("cloze-1").answer()
    assert '<span class="nf">print</span>' in back or '<span class="nb">print</span>' in back
    assert "整合业务" in back  # code is not converted
    assert "\\[" in back and "\\]" in back and "<table>" in back
    # Around the code, the text is converted: prose, the math's explanation, the table.
    assert "代碼會打印一句話" in back and "說清楚需求" in back and "<td>業務</td>" in back
