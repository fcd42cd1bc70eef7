"""Two locks → what a release changes for learners, per variant → CHANGES.md.

The lock (lock.py) records what a build gave learners: each card's kind, subdeck,
question and cloze texts, and per variant the hash of its note; retired notes too.
The lock a release was made from, compared with the previous release's, says per
variant which cards are new, edited, retired, restored, moved or changed kind, and so
whether importing the package keeps a learner's progress. What Anki does on import is
in docs/releases.md; the sentences here say only that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deckgen.lock import Lock, Released
from deckgen.model import Kind


@dataclass(frozen=True)
class Change:
    """One card in the changelog: its id, its question as learners read it, and what changed."""

    card_id: str
    question: str
    before: str = ""
    after: str = ""
    gone: bool = False
    """A cloze card whose number no longer exists: Anki shows it as an empty card."""


@dataclass(frozen=True)
class VariantChanges:
    """What importing one variant's package of this release changes for a learner."""

    variant: str
    package: str
    notes: int
    cards: int
    """Anki cards: a reversed note has two, a cloze note one per deletion number."""
    first: bool
    """No earlier release of this variant: nothing to keep."""
    added: tuple[Change, ...] = ()
    edited: tuple[Change, ...] = ()
    retired: tuple[Change, ...] = ()
    restored: tuple[Change, ...] = ()
    moved: tuple[Change, ...] = ()
    """``before``/``after``: the deck names (title::subdeck)."""
    kind_changed: tuple[Change, ...] = ()
    """``before``/``after``: the kinds."""
    renumbered: tuple[Change, ...] = ()
    """``before``/``after``: the cloze number, and the number it has now ("" = dropped)."""
    retitled: tuple[str, str] | None = None
    templates: bool = False
    """The note types' templates or CSS changed."""
    partial: bool = False
    """The previous lock is a format-1 lock: it records no subdecks or cloze numbers, so
    moves and renumbered deletions cannot be found, and progress cannot be promised."""

    @property
    def exceptions(self) -> int:
        """How many changes do not reach learners as they read (their progress stays)."""
        return (
            len(self.kind_changed)
            + len(self.moved)
            + len(self.renumbered)
            + (1 if self.retitled else 0)
        )


def compare(
    before: Lock | None,
    after: Lock,
    *,
    variant: str,
    package: str,
    text: Callable[[str], str],
) -> VariantChanges:
    """The changes of one variant between two releases' locks (``before`` None: the first).

    ``text`` converts the cards' script into the variant's (questions, deck names).
    """
    released = [item for item in after.cards.values() if variant in item.notes]
    notes, cards = len(released), sum(_anki_cards(item) for item in released)
    if before is not None and before.legacy and not before.cards:
        return _compare_format_1(before, after, variant, package, text, notes, cards)
    old = {k: v for k, v in (before.cards if before else {}).items() if variant in v.notes}
    if not old:
        return VariantChanges(variant, package, notes, cards, first=True)
    assert before is not None
    new = {k: v for k, v in after.cards.items() if variant in v.notes}
    retired_before = {key.split("/")[0] for key in before.retired}

    def change(
        card_id: str, item: Released, before: str = "", after: str = "", gone: bool = False
    ) -> Change:
        return Change(card_id, text(item.question), before, after, gone)

    def deck(name: str) -> str:
        return "::".join(text(part) for part in [after.title or before.title, name] if part)

    added: list[Change] = []
    edited: list[Change] = []
    restored: list[Change] = []
    moved: list[Change] = []
    kinds: list[Change] = []
    renumbered: list[Change] = []
    for card_id, item in sorted(new.items()):
        was = old.get(card_id)
        if was is None:
            (restored if card_id in retired_before else added).append(change(card_id, item))
            continue
        if was.kind is not item.kind:
            kinds.append(change(card_id, item, was.kind.value, item.kind.value))
            continue
        if was.deck != item.deck:
            moved.append(change(card_id, item, deck(was.deck), deck(item.deck)))
        # A note's hash covers its deck name: a move or a new title alone is no edit.
        renamed = was.deck != item.deck or before.title != after.title
        if was.notes[variant].hash != item.notes[variant].hash and (
            was.text != item.text or not renamed
        ):
            edited.append(change(card_id, item))
        renumbered += _renumbered(card_id, was, item, change)
    retired = [
        change(key.split("/")[0], item)
        for key, item in sorted(after.retired.items())
        if key not in before.retired
        and variant in item.notes
        and key.split("/")[0] in old
        and item.reason == "deleted"
    ]
    title = (text(before.title), text(after.title)) if before.title != after.title else None
    return VariantChanges(
        variant,
        package,
        notes,
        cards,
        first=False,
        added=tuple(added),
        edited=tuple(edited),
        retired=tuple(retired),
        restored=tuple(restored),
        moved=tuple(moved),
        kind_changed=tuple(kinds),
        renumbered=tuple(renumbered),
        retitled=title if before.title and after.title else None,
        templates=any(
            before.note_types.get(kind) is not None and before.note_types[kind].hash != stamp.hash
            for kind, stamp in after.note_types.items()
        ),
    )


def _compare_format_1(
    before: Lock,
    after: Lock,
    variant: str,
    package: str,
    text: Callable[[str], str],
    notes: int,
    cards: int,
) -> VariantChanges:
    """Against a format-1 lock, which kept per card only a hash and a time: a note is
    edited when its time moved (what Anki goes by), and a kind change shows in the
    retired notes; moves and renumbered deletions cannot be seen."""
    known = before.legacy
    new = {k: v for k, v in after.cards.items() if variant in v.notes}
    gone = {k: v for k, v in after.retired.items() if k.split("/")[0] in known}
    kinds = {k.split("/")[0]: v for k, v in gone.items() if v.reason != "deleted"}
    taken = {k.split("/")[0] for k in before.retired}
    return VariantChanges(
        variant,
        package,
        notes,
        cards,
        first=False,
        partial=True,
        added=tuple(
            Change(i, text(v.question))
            for i, v in sorted(new.items())
            if i not in known and i not in taken
        ),
        edited=tuple(
            Change(i, text(v.question))
            for i, v in sorted(new.items())
            if i in known and i not in kinds and v.notes[variant].mtime != known[i].mtime
        ),
        retired=tuple(
            Change(k.split("/")[0], text(v.question))
            for k, v in sorted(gone.items())
            if v.reason == "deleted" and k not in before.retired
        ),
        kind_changed=tuple(
            Change(i, text(new[i].question if i in new else v.question), v.kind.value, v.reason)
            for i, v in sorted(kinds.items())
        ),
    )


def _anki_cards(item: Released) -> int:
    if item.kind is Kind.CLOZE:
        return max(1, sum(1 for text in item.clozes if text))
    return 2 if item.kind is Kind.REVERSED else 1


def _renumbered(
    card_id: str, was: Released, now: Released, change: Callable[..., Change]
) -> list[Change]:
    """Cloze deletions that moved to another number or are gone: learners' histories stay
    with the numbers (an edited deletion at the same number is an edit)."""
    if now.kind is not Kind.CLOZE:
        return []
    found = []
    for number, text in enumerate(was.clozes, start=1):
        if not text or (number <= len(now.clozes) and now.clozes[number - 1] == text):
            continue
        elsewhere = [n for n, t in enumerate(now.clozes, start=1) if t == text]
        gone = number > len(now.clozes) or not now.clozes[number - 1]
        if elsewhere:
            found.append(change(card_id, now, str(number), str(elsewhere[0]), gone))
        elif gone:
            found.append(change(card_id, now, str(number), "", True))
    return found


# --- CHANGES.md ---------------------------------------------------------------------

_HANS = {
    "first": "这是这套卡组的第一个版本：共 {notes} 条笔记（{cards} 张卡片），导入即可。",
    "since": "与上一版（{previous}）相比。本版共 {notes} 条笔记（{cards} 张卡片）。",
    "keeps": "**导入这个版本会保留你的全部学习进度。**",
    "partial": "**上一版留下的记录（deck.lock.json 格式 1）没有子卡组和填空编号，这里无法确认"
    "导入后学习进度是否全部保留：移动的卡片和改了编号的填空请看卡组的更新说明。**",
    "except": "**导入这个版本会保留你的学习进度，只有以下 {n} 处例外：**",
    "kind": "「{q}」从{before}换成了{after}：你会得到新的卡片，没有原来的学习记录；"
    "原来的笔记退役。",
    "moved": "「{q}」移到了「{after}」：Anki 不会移动你已有的卡片，它们仍在「{before}」中"
    "（想移动的话，在浏览器中选中它们，更改它们的卡组）。",
    "renumbered": "「{q}」的第 {before} 空现在是第 {after} 空：学习记录跟着编号走，"
    "你的第 {before} 张卡片现在问的是另一个空。",
    "moved_away": "「{q}」的第 {before} 空现在是第 {after} 空：学习记录跟着编号走，"
    "你的第 {before} 张卡片保留学习记录，但 Anki 会把它显示为空白卡片"
    "（可以用 Anki 工具菜单中清理空白卡片的功能删除它）。",
    "dropped": "「{q}」的第 {before} 空删掉了：你的第 {before} 张卡片保留学习记录，"
    "但 Anki 会把它显示为空白卡片（可以用 Anki 工具菜单中清理空白卡片的功能删除它）。",
    "retitled": "卡组改名为「{after}」：导入前先在 Anki 中把卡组「{before}」改名为「{after}」，"
    "否则你的卡片留在「{before}」中，另外多出一个空的「{after}」。",
    "added": "新增 {n} 条笔记：",
    "edited": "修改了 {n} 条笔记（导入后原地更新，学习记录不变；你自己在 Anki 中对它们的"
    "改动会被覆盖）：",
    "retired": "退役 {n} 条笔记（它们的卡片留在你的收藏中，学习记录不变，仍会出现在复习中；"
    "在浏览器中搜索 tag:deckgen::retired 可以找到它们，删除或暂停即可）：",
    "restored": "恢复了 {n} 条退役的笔记（学习记录还在）：",
    "templates": "卡片的版式或样式更新了，不影响学习记录。",
    "nothing": "卡片内容没有变化。",
    "basic": "问答卡",
    "reversed": "双向卡",
    "cloze": "填空卡",
}
_HANT = {
    "first": "這是這套卡組的第一個版本：共 {notes} 條筆記（{cards} 張卡片），匯入即可。",
    "since": "與上一版（{previous}）相比。本版共 {notes} 條筆記（{cards} 張卡片）。",
    "keeps": "**匯入這個版本會保留你的全部學習進度。**",
    "partial": "**上一版留下的記錄（deck.lock.json 格式 1）沒有子卡組和填空編號，這裡無法確認"
    "匯入後學習進度是否全部保留：移動的卡片和改了編號的填空請看卡組的更新說明。**",
    "except": "**匯入這個版本會保留你的學習進度，只有以下 {n} 處例外：**",
    "kind": "「{q}」從{before}換成了{after}：你會得到新的卡片，沒有原來的學習記錄；"
    "原來的筆記退役。",
    "moved": "「{q}」移到了「{after}」：Anki 不會移動你已有的卡片，它們仍在「{before}」中"
    "（想移動的話，在瀏覽器中選取它們，更改它們的卡組）。",
    "renumbered": "「{q}」的第 {before} 空現在是第 {after} 空：學習記錄跟著編號走，"
    "你的第 {before} 張卡片現在問的是另一個空。",
    "moved_away": "「{q}」的第 {before} 空現在是第 {after} 空：學習記錄跟著編號走，"
    "你的第 {before} 張卡片保留學習記錄，但 Anki 會把它顯示為空白卡片"
    "（可以用 Anki 工具選單中清理空白卡片的功能刪除它）。",
    "dropped": "「{q}」的第 {before} 空刪掉了：你的第 {before} 張卡片保留學習記錄，"
    "但 Anki 會把它顯示為空白卡片（可以用 Anki 工具選單中清理空白卡片的功能刪除它）。",
    "retitled": "卡組改名為「{after}」：匯入前先在 Anki 中把卡組「{before}」改名為「{after}」，"
    "否則你的卡片留在「{before}」中，另外多出一個空的「{after}」。",
    "added": "新增 {n} 條筆記：",
    "edited": "修改了 {n} 條筆記（匯入後原地更新，學習記錄不變；你自己在 Anki 中對它們的"
    "改動會被覆蓋）：",
    "retired": "退役 {n} 條筆記（它們的卡片留在你的收藏中，學習記錄不變，仍會出現在複習中；"
    "在瀏覽器中搜尋 tag:deckgen::retired 可以找到它們，刪除或暫停即可）：",
    "restored": "恢復了 {n} 條退役的筆記（學習記錄還在）：",
    "templates": "卡片的版式或樣式更新了，不影響學習記錄。",
    "nothing": "卡片內容沒有變化。",
    "basic": "問答卡",
    "reversed": "雙向卡",
    "cloze": "填空卡",
}


def changes_markdown(
    title: str, version: str, previous: str, variants: list[VariantChanges]
) -> str:
    """CHANGES.md: per variant, in its script, the one sentence on progress and the lists."""
    lines = [f"# {title} {version}", ""]
    for changes in variants:
        words = _HANT if changes.variant.startswith("zh-Hant") else _HANS
        lines += [f"## {changes.variant}: `{changes.package}`", ""]
        if changes.first:
            lines += [words["first"].format(notes=changes.notes, cards=changes.cards), ""]
            continue
        counts = {"notes": changes.notes, "cards": changes.cards}
        lines += [words["since"].format(previous=previous, **counts), ""]
        lines += _progress(changes, words)
        for key in ("added", "edited", "retired", "restored"):
            items: tuple[Change, ...] = getattr(changes, key)
            if items:
                lines += [words[key].format(n=len(items)), ""]
                lines += [f"- {item.question}" for item in items] + [""]
        if changes.templates:
            lines += [words["templates"], ""]
        listed = changes.added or changes.edited or changes.retired or changes.restored
        if not listed and not changes.exceptions:
            lines += [words["nothing"], ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _progress(changes: VariantChanges, words: dict[str, str]) -> list[str]:
    if changes.partial:
        lines = [words["partial"]]
    elif not changes.exceptions:
        return [words["keeps"], ""]
    else:
        lines = [words["except"].format(n=changes.exceptions), ""]
    if changes.retitled:
        before, after = changes.retitled
        lines.append("- " + words["retitled"].format(before=before, after=after))
    for item in changes.kind_changed:
        kinds = {"before": words[item.before], "after": words[item.after]}
        lines.append("- " + words["kind"].format(q=item.question, **kinds))
    for item in changes.moved:
        lines.append("- " + words["moved"].format(q=item.question, **_sides(item)))
    for item in changes.renumbered:
        key = "dropped" if not item.after else "moved_away" if item.gone else "renumbered"
        lines.append("- " + words[key].format(q=item.question, **_sides(item)))
    return [*lines, ""]


def _sides(item: Change) -> dict[str, str]:
    return {"before": item.before, "after": item.after}
