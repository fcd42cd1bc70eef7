"""segment.Mirror converts exactly as OpenCC does (the guard against drift), and reads
its segmentation: the words DG201, DG202 and DG203 are about."""

from __future__ import annotations

import functools
import random
from pathlib import Path

import pytest
from conftest import REPO

from deckgen.convert import Converter, load_phrases, phrase_table, read_phrases
from deckgen.segment import Mirror, chained_spec, mirror, read_dict, share_dir

CONFIGS = ["s2t", "s2tw", "s2twp", "s2hk", "t2s", "tw2s", "tw2sp", "hk2s", "t2tw"]


def _phrases(config: str) -> list:  # type: ignore[type-arg]
    if config.startswith("s2"):
        return [*load_phrases(None), *read_phrases(REPO / "cards" / "phrases.txt")]
    hant = REPO / "src" / "deckgen" / "data" / "builtin-phrases-hant.txt"
    return read_phrases(hant, script="zh-Hant")


@functools.cache
def _texts() -> list[str]:
    """Every line of the shipped cards, and random text made of OpenCC's own keys (its
    phrases, characters with several forms, description sequences, Latin text)."""
    lines = [
        line.strip()
        for path in sorted((REPO / "cards").glob("*.md"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    rng = random.Random(12)
    pool = [
        *rng.sample(sorted(read_dict(share_dir() / "STPhrases.ocd2")), 1500),
        *sorted(read_dict(share_dir() / "TSPhrases.ocd2")),
        *sorted(read_dict(share_dir() / "TWPhrasesRev.ocd2")),
        *"的了是在我他和，。作者读回复干发面里后著裡乾於⿰⿱氵",
        "abc ",
        "“引号”",
        "123",
    ]
    return lines + [
        "".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(1500)
    ]


@pytest.mark.parametrize("with_phrases", [True, False], ids=["phrases", "alone"])
@pytest.mark.parametrize("config", CONFIGS)
def test_mirror_converts_as_opencc_does(config: str, with_phrases: bool) -> None:
    phrases = _phrases(config) if with_phrases else []
    converter = Converter(config, phrases)
    entries = tuple(sorted(phrase_table(config, phrases).items()))
    mirrored = mirror(config, entries)
    wrong = [t for t in _texts() if mirrored.convert(t) != converter.text(t)]
    assert not wrong, f"{len(wrong)} texts differ from OpenCC, e.g. {wrong[:3]}"


def test_segments_are_opencc_words_and_merged_runs() -> None:
    segments = mirror("s2tw", ()).segments
    assert segments("我们几次面对一张表里的数据") == [
        "我们",
        "几次",
        "面对",
        "一张",
        "表里",
        "的",
        "数据",
    ]
    assert segments("为了解决问题先了解情况") == ["为了", "解决问题", "先了", "解情况"]
    assert segments("作者在这里敲黑板了哦") == ["作者在", "这里", "敲", "黑板", "了哦"]


def test_phrases_join_the_segmentation() -> None:
    phrases = tuple(sorted(phrase_table("s2tw", load_phrases(None)).items()))
    assert mirror("s2tw", ()).segments("读者回复") == ["读", "者回", "复"]
    assert mirror("s2tw", phrases).segments("读者回复") == ["读", "者回复"]


def test_tokens_say_which_dictionary_converted_each_character() -> None:
    tokens = mirror("s2t", ()).tokens("我把发剪短了，衣服干了")
    by_text = {t.text: t for t in tokens}
    assert (by_text["发"].dictionary, by_text["发"].values) == ("STCharacters", ("發", "髮"))
    assert (by_text["干了"].dictionary, by_text["干了"].values) == ("STPhrases", ("幹了", "乾了"))
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)


def test_a_traditional_entry_meets_tw2s_text_after_its_taiwan_step() -> None:
    spec = chained_spec("tw2s", {"裡頭乾了": "里头乾了"})
    step = spec["conversion_chain"][1]["dict"]["dicts"][0]
    assert step["table"] == {"裏頭乾了": "里头乾了", "裡頭乾了": "里头乾了"}
    assert Mirror(spec).convert("裡頭乾了") == "里头乾了"


def test_a_dictionary_that_is_not_ocd2_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.ocd2"
    bad.write_bytes(b"not a dictionary")
    with pytest.raises(ValueError, match="not an OpenCC"):
        read_dict(bad)
