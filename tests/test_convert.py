"""Script conversion: pinned OpenCC output, our phrase dictionaries, text-only conversion."""

from __future__ import annotations

from pathlib import Path

import opencc
import pytest

from deckgen.convert import (
    PROTECT_CLOSE,
    PROTECT_OPEN,
    Converter,
    convert_card,
    corner_quotes,
    load_phrases,
    read_phrases,
)
from deckgen.errors import DeckgenError, Location
from deckgen.model import DeckConfig, Kind, RenderedCard, Source, Variant

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


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>他说“整合”和‘利他’</p>", "<p>他说「整合」和『利他』</p>"),
        ("<p>“外面‘里面’外面”</p>", "<p>「外面『里面』外面」</p>"),
        (
            '<p><a href="https://x.org/“a”">“链接”</a></p>',
            '<p><a href="https://x.org/“a”">「链接」</a></p>',
        ),
        ("<p>见 https://x.org/“a” 和“这里”</p>", "<p>见 https://x.org/“a” 和「这里」</p>"),
        ("<p>it’s “好” and students’ work</p>", "<p>it’s 「好」 and students’ work</p>"),
        ("<p>‘don’t’</p>", "<p>『don’t』</p>"),
    ],
    ids=["double-and-single", "nested", "attribute", "url", "apostrophes", "apostrophe-inside"],
)
def test_corner_quotes(html: str, expected: str) -> None:
    assert corner_quotes(html) == expected


def test_corner_quotes_never_touch_code() -> None:
    html = f"<p>“说”<code>{PROTECT_OPEN}print(“x”){PROTECT_CLOSE}</code>“说”</p>"
    for config in ("none", "s2tw"):
        converted = Converter(config, []).html(html, corner=True)
        assert converted.endswith(
            "<code>print(“x”)</code>「說」</p>".replace("說", "说" if config == "none" else "說")
        )
        assert converted.startswith("<p>「")


def _config(tmp_path: Path) -> DeckConfig:
    return DeckConfig(
        path=tmp_path / "deck.toml",
        id=1,
        title="数据“运营”",
        script="zh-Hans",
        tags=(),
        source=Source("t", "a", "s"),
        variants=(),
    )


def _rendered() -> RenderedCard:
    return RenderedCard(
        card_id="c",
        kind=Kind.BASIC,
        fields={
            "Front": "<p>用户数据在哪里看？</p>",
            "Back": "<p>“数据”看板</p>",
            "Quote": "<blockquote><p>用户的数据</p></blockquote>",
            "Note": "<p>全局视角</p>",
            "Source": "@作者《数据》，网站",
        },
        tags=("用户数据",),
        subdeck="数据::软件",
    )


def test_wording_converts_the_decks_own_text_and_opencc_the_quotes(tmp_path: Path) -> None:
    variant = Variant("zh-Hant", "s2tw", wording="s2twp", quotation_marks="corner")
    note = convert_card(
        _rendered(), config=_config(tmp_path), variant=variant, phrases=load_phrases(None)
    )
    names = ("Front", "Back", "Quote", "Note", "Source", "Lang", "Id")
    fields = dict(zip(names, note.fields, strict=True))
    assert fields["Front"] == "<p>使用者資料在哪裡看？</p>"  # s2twp: vocabulary
    assert fields["Back"] == "<p>「資料」看板</p>"
    assert fields["Quote"] == "<blockquote><p>用戶的數據</p></blockquote>"  # the author's words
    assert fields["Source"] == "@作者《數據》，網站"  # the attribution names the author's work
    assert fields["Note"] == "<p>全域性視角</p>"  # why s2twp needs review: 全局 → 全域性
    assert note.tags == ("使用者資料",)
    assert note.deck == "資料「運營」::資料::軟體"


def test_without_wording_every_field_is_converted_with_opencc(tmp_path: Path) -> None:
    note = convert_card(
        _rendered(),
        config=_config(tmp_path),
        variant=Variant("zh-Hant", "s2tw"),
        phrases=load_phrases(None),
    )
    assert note.fields[:5] == (
        "<p>用戶數據在哪裡看？</p>",
        "<p>“數據”看板</p>",
        "<blockquote><p>用戶的數據</p></blockquote>",
        "<p>全局視角</p>",
        "@作者《數據》，網站",
    )
    assert note.deck == "數據“運營”::數據::軟件"


def test_traditional_phrases_convert_to_simplified(tmp_path: Path) -> None:
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("乾了\t乾了\n", "utf-8")
    entries = read_phrases(phrases, script="zh-Hant")
    assert (entries[0].traditional, entries[0].simplified) == ("乾了", "乾了")
    assert Converter("t2s", []).text("衣服乾了") == "衣服干了"
    assert Converter("t2s", entries).text("衣服乾了") == "衣服乾了"
    # tw2s meets the text after its Taiwan step (裡 → 裏): entries still apply.
    phrases.write_text("裡頭乾了\t里头乾了\n", "utf-8")
    entries = read_phrases(phrases, script="zh-Hant")
    assert Converter("tw2s", entries).text("裡頭乾了嗎") == "里头乾了吗"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("發現\t發現", "a Traditional character"),
        ("乾了\t<b>了", "not part of a Chinese phrase"),
        ("乾了\t湿了", "not a Simplified form"),
    ],
    ids=["traditional-right-side", "markup", "other-word"],
)
def test_traditional_phrase_entry_is_validated(tmp_path: Path, line: str, why: str) -> None:
    phrases = tmp_path / "phrases.txt"
    phrases.write_text(line + "\n", "utf-8")
    with pytest.raises(DeckgenError) as caught:
        read_phrases(phrases, script="zh-Hant")
    [problem] = caught.value.problems
    assert problem.code == "DG020" and why in problem.message
    assert problem.location == Location(phrases, 1)


def test_a_phrase_entry_keeps_s2twp_vocabulary_off_its_word(tmp_path: Path) -> None:
    # s2twp's Taiwan phrases step writes 全局 → 全域性 (wrong); an entry keeps the word,
    # and the regional forms still apply to other entries (這裏 → 這裡).
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("全局\t全局\n这里\t這裏\n", "utf-8")
    assert Converter("s2twp", []).text("看全局") == "看全域性"
    converted = Converter("s2twp", read_phrases(phrases)).text("看全局，这里的数据")
    assert converted == "看全局，這裡的資料"
