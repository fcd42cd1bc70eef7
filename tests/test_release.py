"""deckgen release: versioned packages, SHA256SUMS, and a deck changelog generated from the
locks of two releases, whose every claim is checked against real Anki."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import AnkiCollection, run

HANS, HANT = "我的卡组", "我的卡組"
BASIC_Q = "导入这套卡组的新版本时，改过的卡片会怎样？"
REVERSED_Q = "这套卡组说的“退役卡片”是哪些卡片？"
CLOZE_Q = "这套卡组的两个版本"
NEW_Q = "在 Anki 中怎样找到这套卡组的退役卡片？"
NEW_CARD = f"""
{{#more-1}}
## {NEW_Q}

在浏览器中搜索它们的标签 tag:deckgen::retired

> 在浏览器中搜索 tag:deckgen::retired 可以找到退役卡片

::: note
找到以后，再决定删除还是暂停。
:::
"""
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV, "HOME": str(repo)},
    )


def release(*args: str | Path) -> str:
    result = run("release", *args)
    assert result.exit_code == 0, result.output
    return result.output


def set_version(deck: Path, version: str) -> None:
    toml = deck / "deck.toml"
    text = re.sub(r'(?m)^version = "[^"]*"', f'version = "{version}"', toml.read_text("utf-8"))
    toml.write_text(text, "utf-8")


def edit_deck_for_the_second_release(deck: Path) -> None:
    """One card edited, one deleted, one moved to another subdeck (unchanged), one added."""
    sample = deck / "01-sample.md"
    text = sample.read_text("utf-8").replace("原地更新，学习记录不变\n", "原地更新，学习记录保留\n")
    reversed_at, cloze_at = text.index("{#sample-reversed"), text.index("{#sample-cloze")
    cloze = text[cloze_at:]
    sample.write_text(text[:reversed_at], "utf-8")
    more = "---\ndeck: 更多\ntags: [更多]\n---\n\n# 更多\n\n" + cloze + NEW_CARD
    (deck / "02-more.md").write_text(more, "utf-8")
    set_version(deck, "0.2.0")


def sections(changes: str) -> dict[str, list[str]]:
    """CHANGES.md → variant → its paragraphs (a list is one paragraph)."""
    found: dict[str, list[str]] = {}
    for part in changes.split("\n## ")[1:]:
        heading, _, body = part.partition("\n")
        found[heading] = [p for p in body.strip().split("\n\n")]
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A deck repository made with deckgen init, its first release tagged v0.1.0."""
    repo = tmp_path / "repo"
    assert run("init", repo / "cards", "--title", HANS).exit_code == 0
    (repo / ".gitignore").write_text("/release/\n/dist/\n")
    git(repo, "init", "-q")
    release(repo / "cards", "--out", repo / "release")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first release")
    git(repo, "tag", "v0.1.0")
    return repo


def test_first_release(repo: Path) -> None:
    folder = repo / "release" / "0.1.0"
    changes = (folder / "CHANGES.md").read_text("utf-8")
    assert changes.startswith(f"# {HANS} 0.1.0\n")
    assert sections(changes) == {
        f"zh-Hans: `{HANS}-0.1.0.zh-Hans.apkg`": [
            "这是这套卡组的第一个版本：共 3 条笔记（5 张卡片），导入即可。"
        ],
        f"zh-Hant: `{HANT}-0.1.0.zh-Hant.apkg`": [
            "這是這套卡組的第一個版本：共 3 條筆記（5 張卡片），匯入即可。"
        ],
    }


def test_second_release_lists_exactly_what_changed(repo: Path, anki: AnkiCollection) -> None:
    deck = repo / "cards"
    edit_deck_for_the_second_release(deck)
    output = release(deck, "--out", repo / "release")
    assert "changes since git tag v0.1.0" in output
    assert "zh-Hans: 1 added card, 1 edited card, 1 retired card, 1 moved card; " in output
    folder = repo / "release" / "0.2.0"
    hans_package, hant_package = f"{HANS}-0.2.0.zh-Hans.apkg", f"{HANT}-0.2.0.zh-Hant.apkg"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["CHANGES.md", "SHA256SUMS", "deck.lock.json", hans_package, hant_package]
    )
    assert (folder / "deck.lock.json").read_bytes() == (deck / "deck.lock.json").read_bytes()

    changes = sections((folder / "CHANGES.md").read_text("utf-8"))
    hans = changes[f"zh-Hans: `{hans_package}`"]
    assert hans[0] == "与上一版（v0.1.0）相比。本版共 3 条笔记（4 张卡片）。"
    assert hans[1] == "**导入这个版本会保留你的学习进度，只有以下 1 处例外：**"
    assert hans[2] == (
        f"- 「{CLOZE_Q}」移到了「{HANS}::更多」：Anki 不会移动你已有的卡片，它们仍在"
        f"「{HANS}::样例」中（想移动的话，在浏览器中选中它们，更改它们的卡组）。"
    )
    assert hans[3:] == [
        "新增 1 条笔记：",
        f"- {NEW_Q}",
        "修改了 1 条笔记（导入后原地更新，学习记录不变；你自己在 Anki 中对它们的改动会被覆盖）：",
        f"- {BASIC_Q}",
        "退役 1 条笔记（它们的卡片留在你的收藏中，学习记录不变，仍会出现在复习中；"
        "在浏览器中搜索 tag:deckgen::retired 可以找到它们，删除或暂停即可）：",
        f"- {REVERSED_Q}",
    ]
    hant = changes[f"zh-Hant: `{hant_package}`"]
    # The same changes, in the variant's script (the deck's own conversion).
    assert [line for line in hant if line.startswith("- ")] == [
        f"- 「這套卡組的兩個版本」移到了「{HANT}::更多」：Anki 不會移動你已有的卡片，它們仍在"
        f"「{HANT}::樣例」中（想移動的話，在瀏覽器中選取它們，更改它們的卡組）。",
        "- 在 Anki 中怎樣找到這套卡組的退役卡片？",
        "- 導入這套卡組的新版本時，改過的卡片會怎樣？",
        "- 這套卡組說的“退役卡片”是哪些卡片？",
    ]

    # What the changelog says is what Anki does: a learner of 0.1.0 imports 0.2.0.
    anki.import_package(repo / "release" / "0.1.0" / f"{HANS}-0.1.0.zh-Hans.apkg")
    studied = {i: anki.card_by_id_field(f"sample-{i}") for i in ("basic", "reversed", "cloze")}
    for card in studied.values():
        anki.review(card, ease=3)
    log = anki.import_package(folder / hans_package)
    assert (log.new, log.updated, log.conflicting) == (1, 3, 0)  # added; edited, moved, retired
    for kind, card in studied.items():
        card.load()
        assert card.reps == 1, kind  # progress kept, the retired card's too
    assert "保留" in anki.card_by_id_field("sample-basic").answer()
    assert anki.col.decks.name(studied["cloze"].did) == f"{HANS}::样例"  # not moved
    retired = anki.col.get_note(studied["reversed"].nid)
    assert "deckgen::retired" in retired.tags
    assert "版本 0.2.0" in anki.col.decks.by_name(HANS)["desc"]  # type: ignore[index]


def test_checksums_verify(repo: Path) -> None:
    folder = repo / "release" / "0.1.0"
    lines = (folder / "SHA256SUMS").read_text("utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert sorted(listed) == sorted(p.name for p in folder.iterdir() if p.name != "SHA256SUMS")
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=folder, check=True)
    (folder / "CHANGES.md").write_text("forged\n", "utf-8")
    assert hashlib.sha256(b"forged\n").hexdigest() != listed["CHANGES.md"]


def test_a_committed_release_is_reproducible(repo: Path) -> None:
    """Made again from the same commit (as the tag workflow does), the same bytes."""
    deck = repo / "cards"
    edit_deck_for_the_second_release(deck)
    assert run("build", deck, "--out", repo / "dist").exit_code == 0
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "0.2.0")
    release(deck, "--out", repo / "a", "--locked")
    release(deck, "--out", repo / "b", "--locked", "--since", "v0.1.0")
    sums = [(repo / out / "0.2.0" / "SHA256SUMS").read_text("utf-8") for out in ("a", "b")]
    assert sums[0] == sums[1] and sums[0].count("\n") == 4  # every file but itself


def test_changes_learners_do_not_keep_are_each_named(tmp_path: Path) -> None:
    """A kind change, renumbered and dropped deletions, a new title; no git: --since FILE."""
    deck = tmp_path / "cards"
    assert run("init", deck, "--title", HANS).exit_code == 0
    output = release(deck, "--out", tmp_path / "release")
    assert "no earlier release" in output
    sample = deck / "01-sample.md"
    text = sample.read_text("utf-8")
    text = text.replace("{#sample-basic}", "{#sample-basic .reversed}")
    text = text.replace("{{c1::简体}}和{{c2::繁体}}", "{{c2::简体}}和{{c1::繁体}}")
    sample.write_text(text, "utf-8")
    toml = deck / "deck.toml"
    toml.write_text(toml.read_text("utf-8").replace(f'title = "{HANS}"', 'title = "新卡组"'))
    set_version(deck, "0.2.0")
    release(deck, "--out", tmp_path / "release", "--since", tmp_path / "release" / "0.1.0")
    changes = sections((tmp_path / "release" / "0.2.0" / "CHANGES.md").read_text("utf-8"))
    hans = changes["zh-Hans: `新卡组-0.2.0.zh-Hans.apkg`"]
    assert hans[0].startswith(f"与上一版（{tmp_path / 'release' / '0.1.0'}）相比。")
    assert hans[1:3] == [
        "**导入这个版本会保留你的学习进度，只有以下 4 处例外：**",
        f"- 卡组改名为「新卡组」：导入前先在 Anki 中把卡组「{HANS}」改名为「新卡组」，"
        f"否则你的卡片留在「{HANS}」中，另外多出一个空的「新卡组」。\n"
        f"- 「{BASIC_Q}」从问答卡换成了双向卡：你会得到新的卡片，没有原来的学习记录；"
        "原来的笔记退役。\n"
        f"- 「{CLOZE_Q}」的第 1 空现在是第 2 空：学习记录跟着编号走，"
        "你的第 1 张卡片现在问的是另一个空。\n"
        f"- 「{CLOZE_Q}」的第 2 空现在是第 1 空：学习记录跟着编号走，"
        "你的第 2 张卡片现在问的是另一个空。",
    ]
    assert "修改了 1 条笔记" in hans[3]  # the cloze card's text
    assert f"- {BASIC_Q}" not in hans  # a kind change is not listed as added, nor retired


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("no-version", "DG081", "deck.toml has no version: a release is named by it"),
        ("released", "DG082", "version 0.1.0 was released already into"),
        ("since", "DG083", "--since 'v9.9' is neither a lock file, a release folder, nor"),
        ("locked", "DG084", "a release made now would give those notes times that no commit"),
    ],
    ids=["no-version", "released", "unknown-since", "locked"],
)
def test_release_mistakes_are_clean_errors(repo: Path, case: str, code: str, message: str) -> None:
    deck, out = repo / "cards", repo / "release"
    args: list[str | Path] = [deck, "--out", out]
    if case == "no-version":
        toml = deck / "deck.toml"
        toml.write_text(re.sub(r"(?m)^version = .*\n", "", toml.read_text("utf-8")), "utf-8")
    elif case == "since":
        set_version(deck, "0.2.0")
        args += ["--since", "v9.9"]
    elif case == "locked":
        edit_deck_for_the_second_release(deck)
        args += ["--locked"]
    lock = (deck / "deck.lock.json").read_bytes()
    before = sorted(p.relative_to(repo) for p in out.rglob("*"))
    result = run("release", *args)
    assert result.exit_code == 1
    assert message in result.output and f"[{code}]" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.relative_to(repo) for p in out.rglob("*")) == before  # nothing written
    assert (deck / "deck.lock.json").read_bytes() == lock


# --- The comparison itself, on locks written out by hand --------------------------------


def _card(question: str, *clozes: str, text: str = "t", note: str = "h") -> object:
    from deckgen.lock import Released, Stamp
    from deckgen.model import Kind

    kind = Kind.CLOZE if clozes else Kind.BASIC
    return Released(kind, "", text, question, {"zh-Hans": Stamp(note, 1)}, clozes=clozes)


def _compare(before: dict[str, object], after: dict[str, object], **lock: object) -> object:
    from deckgen.changelog import compare
    from deckgen.lock import Lock

    return compare(
        Lock(title="卡组", cards=before, **lock) if before is not None else None,  # type: ignore[arg-type]
        Lock(title="卡组", cards=after),  # type: ignore[arg-type]
        variant="zh-Hans",
        package="p.apkg",
        text=str,
    )


def test_deletions_that_move_or_go_are_named_with_their_numbers() -> None:
    changes = _compare(
        {"a": _card("问", "业务", "产品", "技术"), "b": _card("另", "甲", "乙")},
        {"a": _card("问", "产品", "技术", text="u", note="i"), "b": _card("另", "甲", "乙")},
    )
    found = [(c.before, c.after, c.gone) for c in changes.renumbered]  # type: ignore[attr-defined]
    # c1 业务 is gone (c1 now asks 产品); c2 产品 is now c1; c3 技术 is now c2 and card 3 empty.
    assert found == [("2", "1", False), ("3", "2", True)]
    assert [c.card_id for c in changes.edited] == ["a"]  # type: ignore[attr-defined]
    assert changes.exceptions == 2  # type: ignore[attr-defined]


def test_a_restored_card_and_an_unchanged_release() -> None:
    from deckgen.changelog import changes_markdown
    from deckgen.lock import Retired, Stamp
    from deckgen.model import Kind

    gone = Retired(Kind.BASIC, "", "t", "回来", {"zh-Hans": Stamp("h", 1)})
    changes = _compare(
        {"a": _card("问")}, {"a": _card("问"), "b": _card("回来")}, retired={"b/basic": gone}
    )
    assert [c.card_id for c in changes.restored] == ["b"]  # type: ignore[attr-defined]
    assert not changes.added and not changes.exceptions  # type: ignore[attr-defined]
    same = _compare({"a": _card("问")}, {"a": _card("问")})
    text = changes_markdown("卡组", "2", "v1", [same])  # type: ignore[list-item]
    assert "**导入这个版本会保留你的全部学习进度。**\n\n卡片内容没有变化。\n" in text


def test_against_a_format_1_lock_progress_is_not_promised() -> None:
    """A format-1 lock kept a hash and a time per card: edits show in the times, kind
    changes in the retired notes; moves and renumbered deletions cannot be seen."""
    from deckgen.changelog import changes_markdown, compare
    from deckgen.lock import Lock, Released, Retired, Stamp
    from deckgen.model import Kind

    def note(question: str, mtime: int, kind: Kind = Kind.BASIC) -> Released:
        return Released(kind, "", "t", question, {"zh-Hans": Stamp("h", mtime)})

    before = Lock(legacy={"same": Stamp("x", 5), "edited": Stamp("y", 5), "gone": Stamp("z", 5)})
    gone = Retired(Kind.BASIC, "", "t", "删掉的", {"zh-Hans": Stamp("h", 9)})
    after = Lock(
        cards={"same": note("没变", 5), "edited": note("改过", 9), "new": note("新的", 9)},
        retired={"gone/basic": gone},
    )
    changes = compare(before, after, variant="zh-Hans", package="p.apkg", text=str)
    assert changes.partial and not changes.first
    assert [(c.card_id, c.question) for c in changes.added] == [("new", "新的")]
    assert [c.card_id for c in changes.edited] == ["edited"]
    assert [c.card_id for c in changes.retired] == ["gone"]
    text = changes_markdown("卡组", "2.0.0", "04b6a91", [changes])
    assert "保留你的全部学习进度" not in text
    assert "**上一版留下的记录（deck.lock.json 格式 1）没有子卡组和填空编号" in text


def test_an_untagged_earlier_release_is_not_called_the_first(repo: Path) -> None:
    """Retired notes mean learners have an earlier release: without its tag, deckgen asks
    for it instead of writing "the first version" to them."""
    deck = repo / "cards"
    git(repo, "tag", "-d", "v0.1.0")
    edit_deck_for_the_second_release(deck)
    assert run("build", deck, "--out", repo / "dist").exit_code == 0  # retires a card
    result = run("release", deck, "--out", repo / "release")
    assert result.exit_code == 1 and "[DG083]" in result.output
    assert "the lock retires notes learners have (first: 'sample-reversed')" in result.output
    assert not (repo / "release" / "0.2.0").exists()
    output = release(deck, "--out", repo / "release", "--since", "none")
    assert "changes since none: --since none makes this the first release" in output
