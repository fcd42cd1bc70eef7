"""An empty folder → a new deck (``deckgen init``): deck.toml with a fresh deck id and both
script variants, an empty phrase dictionary, one sample card per kind, a README for learners.

The sample cards quote the learners' README, which is their source in deck.toml, so that
``deckgen check --source DIR/README.md`` verifies them like any deck's quotes. The texts
are written by hand in both scripts: a Traditional deck starts from Traditional text.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from deckgen.errors import DeckgenError, Rule, Severity, fail, shown
from deckgen.files import write_atomically
from deckgen.model import name_problem

CANNOT_START = Rule("DG080", Severity.ERROR, "deckgen init cannot start a deck in that folder")
RULES = (CANNOT_START,)

SCRIPTS = ("zh-Hans", "zh-Hant")
CARD_FILE = "01-sample.md"
_MIN_ID, _MAX_ID = 10**12, 2**53
"""Deck ids as deck.toml takes them: positive and below 2**53; at least 13 digits, like
the time in milliseconds that older decks used."""


@dataclass(frozen=True)
class NewDeck:
    """What ``deckgen init`` wrote."""

    folder: Path
    id: int
    script: str
    variants: tuple[str, ...]
    files: tuple[Path, ...]


def fresh_deck_id(taken: frozenset[int] = frozenset()) -> int:
    """A random deck id: two decks made with ``deckgen init`` never share one."""
    while True:
        deck_id = _MIN_ID + secrets.randbelow(_MAX_ID - _MIN_ID)
        if deck_id not in taken:
            return deck_id


def init_deck(folder: Path, *, title: str | None = None, script: str = "zh-Hans") -> NewDeck:
    """Write a new deck into ``folder`` (created if missing; it must hold no files)."""
    from deckgen.check import SHIPPED_DECK_ID

    if script not in SCRIPTS:
        raise fail(CANNOT_START, folder, 0, f"unknown script {shown(script)}", "zh-Hans or zh-Hant")
    title = (title if title is not None else folder.resolve().name).strip()
    _refuse(folder, title)
    deck_id = fresh_deck_id(frozenset({SHIPPED_DECK_ID}))
    text = _TEXT[script]
    other = "zh-Hant" if script == "zh-Hans" else "zh-Hans"
    files = {
        "deck.toml": _deck_toml(deck_id, title, script, other, text["source"]),
        "phrases.txt": text["phrases"],
        CARD_FILE: text["cards"],
        "README.md": text["readme"].format(title=title),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(CANNOT_START, folder, 0, f"cannot create the folder: {error.strerror}") from None
    written = []
    for name, content in files.items():
        write_atomically(folder / name, content.encode())
        written.append(folder / name)
    return NewDeck(folder, deck_id, script, (script, other), tuple(written))


def _refuse(folder: Path, title: str) -> None:
    """DG080 where the folder is not an empty (or missing) folder, or the title cannot be
    a deck name; nothing is written then."""
    if folder.exists() or folder.is_symlink():
        if not folder.is_dir():
            raise fail(
                CANNOT_START,
                folder,
                0,
                "not a folder",
                "name a new folder (deckgen creates it) or an empty one",
            )
        try:
            entries = sorted(p.name for p in folder.iterdir())
        except OSError as error:
            raise fail(
                CANNOT_START, folder, 0, f"cannot read the folder: {error.strerror}"
            ) from None
        if entries:
            raise fail(
                CANNOT_START,
                folder,
                0,
                f"the folder is not empty (it holds {shown(entries[0])}"
                f"{f' and {len(entries) - 1} more' if len(entries) > 1 else ''})",
                "name a new folder (deckgen creates it) or an empty one; deckgen init never "
                "writes over files",
            )
    why = name_problem(title) if title else "is empty"
    if why:
        raise DeckgenError(
            [
                CANNOT_START.at_line(
                    folder,
                    0,
                    f"the title {shown(title)} {why}: it becomes the deck's name in Anki",
                    "give one with --title, e.g. --title 我的卡组",
                )
            ]
        )


def _deck_toml(deck_id: int, title: str, script: str, other: str, source: str) -> str:
    # The other script is made with OpenCC: Taiwan characters (not words: quotes stay
    # what the source says), or Simplified from Taiwan Traditional.
    opencc = "s2tw" if script == "zh-Hans" else "tw2s"
    quoted = title.replace("\\", "\\\\").replace('"', '\\"')
    return f"""\
# Deck metadata: see docs/card-format.md in deckgen.
# [deck] id is this deck's identity in every learner's collection: deckgen init chose it at
# random. Never change it after the first release, and never copy it into another deck.
[deck]
id = {deck_id}
title = "{quoted}"
script = "{script}"                  # the script the cards are written in
tags = []
phrases = "phrases.txt"
version = "0.1.0"                   # shown in each package's description; deckgen release
# description = "…"                 # what the deck is, in Markdown, shown in Anki

# The source that the cards quote. The sample cards quote README.md:
# deckgen check --source README.md verifies them. Replace both with your own.
[source]
title = "{quoted}：{source}"
author = "deckgen init"
site = "README.md"

[variants.{script}]
opencc = "none"                     # the cards' own script: no conversion

[variants.{other}]
opencc = "{opencc}"
"""


_README_HANS = """\
# {title}：使用说明

这套 Anki 卡组有简体和繁体两个版本。
每个版本是一个 .apkg 文件，文件名中有版本号和 zh-Hans 或 zh-Hant。

## 导入

在 Anki（电脑版、AnkiDroid 或 AnkiMobile）中选择“导入”，选中 .apkg 文件，用默认选项导入。
两个版本可以放在同一个收藏中，互不影响。

## 更新

导入新版本时，改过的卡片会原地更新，学习记录不变。
不会出现重复的卡片。
不再收录的卡片叫作退役卡片，它们仍留在你的收藏中。
在浏览器中搜索 tag:deckgen::retired 可以找到退役卡片，确认后删除即可。
每个版本附有 CHANGES.md，写明新增、修改、退役了哪些卡片，以及导入后你的学习进度是否全部保留。
"""

_README_HANT = """\
# {title}：使用說明

這套 Anki 卡組有簡體和繁體兩個版本。
每個版本是一個 .apkg 檔案，檔名中有版本號和 zh-Hant 或 zh-Hans。

## 匯入

在 Anki（電腦版、AnkiDroid 或 AnkiMobile）中選擇「匯入」，選取 .apkg 檔案，用預設選項匯入。
兩個版本可以放在同一個收藏中，互不影響。

## 更新

匯入新版本時，改過的卡片會原地更新，學習記錄不變。
不會出現重複的卡片。
不再收錄的卡片叫作退役卡片，它們仍留在你的收藏中。
在瀏覽器中搜尋 tag:deckgen::retired 可以找到退役卡片，確認後刪除即可。
每個版本附有 CHANGES.md，寫明新增、修改、退役了哪些卡片，以及匯入後你的學習進度是否全部保留。
"""

_CARDS_HANS = """\
---
deck: 样例
tags: [样例]
---

# 样例卡片

一种卡各一张：问答（basic）、双向（reversed）、填空（cloze）。照着写你自己的卡片，再删掉这个文件。
新卡片用 deckgen new --theme 01-sample 添加，它会给卡片一个新的 id。

{#sample-basic}
## 导入这套卡组的新版本时，改过的卡片会怎样？

原地更新，学习记录不变

> 导入新版本时，改过的卡片会原地更新，学习记录不变。

::: note
所以看到新版本就可以放心导入，不必先删掉旧卡组。
:::

{#sample-reversed .reversed}
## 这套卡组说的“退役卡片”是哪些卡片？

不再收录、但仍留在你收藏中的卡片

> 不再收录的卡片叫作退役卡片，它们仍留在你的收藏中

::: note
它们不会自动删除：在浏览器中搜索它们的标签，再决定删掉还是保留。
:::

{#sample-cloze .cloze}
## 这套卡组的两个版本

这套卡组有{{c1::简体}}和{{c2::繁体}}两个版本。

> 这套 Anki 卡组有简体和繁体两个版本

::: note
两个版本可以放在同一个收藏中，各学各的。
:::
"""

_CARDS_HANT = """\
---
deck: 樣例
tags: [樣例]
---

# 樣例卡片

一種卡各一張：問答（basic）、雙向（reversed）、填空（cloze）。照著寫你自己的卡片，再刪掉這個檔案。
新卡片用 deckgen new --theme 01-sample 新增，它會給卡片一個新的 id。

{#sample-basic}
## 匯入這套卡組的新版本時，改過的卡片會怎樣？

原地更新，學習記錄不變

> 匯入新版本時，改過的卡片會原地更新，學習記錄不變。

::: note
所以看到新版本就可以放心匯入，不必先刪掉舊卡組。
:::

{#sample-reversed .reversed}
## 這套卡組說的「退役卡片」是哪些卡片？

不再收錄、但仍留在你收藏中的卡片

> 不再收錄的卡片叫作退役卡片，它們仍留在你的收藏中

::: note
它們不會自動刪除：在瀏覽器中搜尋它們的標籤，再決定刪掉還是保留。
:::

{#sample-cloze .cloze}
## 這套卡組的兩個版本

這套卡組有{{c1::簡體}}和{{c2::繁體}}兩個版本。

> 這套 Anki 卡組有簡體和繁體兩個版本

::: note
兩個版本可以放在同一個收藏中，各學各的。
:::
"""

_PHRASES_HANS = """\
# Phrase dictionary: Simplified<TAB>Traditional, one phrase a line, # for comments.
# deckgen check warns (DG201) about each character with several Traditional forms
# that no entry settles; add the phrase here once, after reading the Traditional deck.
"""

_PHRASES_HANT = """\
# Phrase dictionary for the conversion of this deck's cards (see docs/card-format.md):
# one phrase a line, # for comments. Add a phrase when deckgen check says a conversion
# needs one, after reading the converted deck.
"""

_TEXT = {
    "zh-Hans": {
        "readme": _README_HANS,
        "cards": _CARDS_HANS,
        "phrases": _PHRASES_HANS,
        "source": "使用说明",
    },
    "zh-Hant": {
        "readme": _README_HANT,
        "cards": _CARDS_HANT,
        "phrases": _PHRASES_HANT,
        "source": "使用說明",
    },
}
