"""Script conversion: pinned OpenCC output, our phrase dictionaries, text-only conversion."""

from __future__ import annotations

from pathlib import Path

import opencc
import pytest

from deckgen.convert import (
    PROTECT_CLOSE,
    PROTECT_OPEN,
    Converter,
    find_ambiguities,
    load_phrases,
    read_phrases,
)
from deckgen.errors import DeckgenError

# Snapshot of s2tw with deckgen's built-in phrases. A change here means OpenCC or
# our dictionaries changed what learners read: review it, don't just update it.
S2TW = [
    ("和面对", "和面對"),  # built-in fix: OpenCC alone reads 和麵 (knead dough)
    ("姓余", "姓余"),  # built-in fix: the surname, not 餘
    ("读者回复", "讀者回覆"),  # built-in fix: OpenCC segments 者回 + 复 (復)
    ("然后", "然後"),
    ("这里", "這裡"),
    ("至于", "至於"),
    ("什么", "什麼"),
    ("接着", "接著"),
    ("头发", "頭髮"),
    ("发觉", "發覺"),
    ("干净", "乾淨"),
    ("干部", "幹部"),
    ("一只", "一隻"),
    ("只有", "只有"),
    ("面条", "麵條"),
    ("方面", "方面"),
    ("数据", "數據"),  # s2tw changes characters, not vocabulary (s2twp: 資料)
    ("运营", "運營"),
]


def test_opencc_version_is_pinned() -> None:
    assert opencc.__version__ == "1.4.2"


@pytest.mark.parametrize(("simplified", "traditional"), S2TW, ids=[s for s, _ in S2TW])
def test_s2tw_snapshot(simplified: str, traditional: str) -> None:
    assert Converter("s2tw", load_phrases(None)).text(simplified) == traditional


@pytest.mark.parametrize(
    ("text", "opencc_alone", "fixed"),
    [("和面对困难", "和麵對困難", "和面對困難"), ("姓余的人", "姓餘的人", "姓余的人")],
    ids=["he-mian-dui", "surname-yu"],
)
def test_phrase_entry_fixes_a_known_opencc_mistake(
    text: str, opencc_alone: str, fixed: str
) -> None:
    assert Converter("s2tw", []).text(text) == opencc_alone
    assert Converter("s2tw", load_phrases(None)).text(text) == fixed


def test_deck_phrase_overrides_opencc(tmp_path: Path) -> None:
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("# comment\n平台\t平台\n", "utf-8")
    assert Converter("s2tw", []).text("平台") == "平臺"
    assert (
        Converter("s2tw", [*load_phrases(None), *read_phrases(phrases)]).text("运营平台")
        == "運營平台"
    )


def test_twp_changes_vocabulary_but_tw_does_not() -> None:
    assert Converter("s2twp", []).text("数据和软件") == "資料和軟體"
    assert Converter("s2tw", []).text("数据和软件") == "數據和軟件"


def test_hong_kong_variant_by_config_alone() -> None:
    assert Converter("s2hk", load_phrases(None)).text("这里") == "這裏"


def test_html_markup_and_code_are_not_converted() -> None:
    html = (
        f'<p class="x"><a href="https://example.com/%E8%BF%99">这里</a> '
        f"<code>{PROTECT_OPEN}这里{PROTECT_CLOSE}</code> {{{{c1::这里}}}}</p>"
    )
    converted = Converter("s2tw", []).html(html)
    assert converted == (
        '<p class="x"><a href="https://example.com/%E8%BF%99">這裡</a> '
        "<code>这里</code> {{c1::這裡}}</p>"
    )


def test_zh_hans_variant_only_drops_markers() -> None:
    html = f"<code>{PROTECT_OPEN}这里{PROTECT_CLOSE}</code>這"
    assert Converter("none", []).html(html) == "<code>这里</code>這"


def test_ambiguities_are_reported_unless_a_phrase_covers_them(tmp_path: Path) -> None:
    phrases = tmp_path / "p.txt"
    phrases.write_text("然后\t然後\n", "utf-8")
    text = "然后这里"
    assert [c for _, c in find_ambiguities(text, [])] == ["后", "里"]
    assert list(find_ambiguities(text, read_phrases(phrases))) == [(3, "里")]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("然后", "no tab"),
        ("然后\t", "empty"),
        ("然后\t然後\t然後", "two tabs"),
        ("然后\t然", "length"),
    ],
    ids=["no-tab", "empty", "two-tabs", "length"],
)
def test_malformed_phrase_entry_names_its_line(tmp_path: Path, line: str, why: str) -> None:
    phrases = tmp_path / "phrases.txt"
    phrases.write_text(f"# ok\n这里\t這裡\n{line}\n", "utf-8")
    with pytest.raises(DeckgenError) as caught:
        read_phrases(phrases)
    [problem] = caught.value.problems
    assert (problem.location.line, problem.code) == (3, "DG020")
    assert problem.hint


@pytest.mark.parametrize("config", ["s2t", "s2tw", "s2twp", "s2hk", "s2hkp"])
def test_every_config_takes_our_phrases(config: str) -> None:
    # s2t has no segmentation section in OpenCC 1.4: ours must still apply there.
    assert Converter(config, load_phrases(None)).text("和面对 姓余") == "和面對 姓余"
