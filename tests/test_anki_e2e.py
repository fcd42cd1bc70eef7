"""End to end through real Anki: build, import, render, review, edit, rebuild, re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import AnkiCollection, run
from helpers import SAMPLE_HANS, SAMPLE_HANT

from deckgen import notetypes

HANS, HANT = SAMPLE_HANS, SAMPLE_HANT
SWITCH_HANS = "样例卡组.zh-Hans.switchable.apkg"
SWITCH_HANT = "樣例卡組.zh-Hant.switchable.apkg"


def build(deck: Path, out: Path, *extra: str) -> None:
    result = run("build", deck, "--out", out, *extra)
    assert result.exit_code == 0, result.output


def test_both_decks_import_into_one_collection(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    build(sample_deck, tmp_path / "out")
    hans = anki.import_package(tmp_path / "out" / HANS)
    hant = anki.import_package(tmp_path / "out" / HANT)

    # 4 notes per script: basic, reversed (2 cards), basic with image, cloze (3 cards).
    assert (hans.new, hant.new) == (4, 4)
    assert anki.col.note_count() == 8  # no GUID collision between the scripts
    assert anki.col.card_count() == 14
    names = {d.name for d in anki.col.decks.all_names_and_ids()}
    assert {
        "样例卡组::基础",
        "样例卡组::核心能力::整合",
        "樣例卡組::基礎",
        "樣例卡組::核心能力::整合",
    } <= names


@pytest.mark.parametrize(
    ("package", "lang", "question", "answer", "quote", "note"),
    [
        (
            HANS,
            "zh-Hans",
            "运营人员必备的基础素质是什么？",
            "<strong>结果导向：</strong>不达目标不罢休。",
            "毕竟不达目标不罢休也是运营人员必备的基础素质。",
            "做事先定目标，再倒推路径。",
        ),
        (
            HANT,
            "zh-Hant",
            "運營人員必備的基礎素質是什麼？",
            "<strong>結果導向：</strong>不達目標不罷休。",
            "畢竟不達目標不罷休也是運營人員必備的基礎素質。",
            "做事先定目標，再倒推路徑。",
        ),
    ],
    ids=["zh-Hans", "zh-Hant"],
)
def test_basic_card_renders_in_anki(
    sample_deck: Path,
    tmp_path: Path,
    anki: AnkiCollection,
    package: str,
    lang: str,
    question: str,
    answer: str,
    quote: str,
    note: str,
) -> None:
    build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / package)
    card = anki.card_by_id_field("sample-result")
    front, back = card.question(), card.answer()
    assert f'lang="{lang}"' in front
    assert question in front and answer not in front
    assert answer in back
    assert quote in back
    assert ("@思无邪" if lang == "zh-Hans" else "@思無邪") in back
    assert note in back
    assert "sample-result" in back  # the card id, for reporting mistakes


@pytest.mark.parametrize(
    ("package", "shown", "hidden"),
    [(HANS, "产品运营要整合", "业务"), (HANT, "產品運營要整合", "業務")],
    ids=["zh-Hans", "zh-Hant"],
)
def test_cloze_blanks_render_in_anki(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection, package: str, shown: str, hidden: str
) -> None:
    build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / package)
    card = anki.card_by_id_field("sample-integration", ord_=0)
    front = card.question()
    assert shown in front
    assert 'class="cloze"' in front and "[...]" in front
    assert f">{hidden}<" not in front
    assert f">{hidden}<" in card.answer()
    assert len(anki.col.find_cards('"Id:sample-integration"')) == 3


def test_reversed_card_asks_both_ways(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / HANS)
    forward = anki.card_by_id_field("sample-perspective", ord_=0)
    backward = anki.card_by_id_field("sample-perspective", ord_=1)
    assert "换位思考" in forward.question() and "换个角度看问题" not in forward.question()
    assert "换个角度看问题" in backward.question() and "换位思考" not in backward.question()


def test_image_is_packaged_as_hashed_media(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / HANT)
    back = anki.card_by_id_field("sample-image").answer()
    media = Path(anki.col.media.dir())
    names = [p.name for p in media.iterdir()]
    assert len(names) == 1 and names[0].startswith("deckgen-") and names[0].endswith(".png")
    assert f'src="{names[0]}"' in back
    assert (media / names[0]).read_bytes() == (sample_deck / "images" / "dot.png").read_bytes()
    # Code spans are never converted; the text around them is.
    assert "<code>这里</code>" in back and "紅色" in back


def test_edit_rebuild_reimport_keeps_history(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / HANS)
    card = anki.card_by_id_field("sample-result")
    anki.review(card, ease=4)
    reps, interval = card.reps, card.ivl
    assert reps == 1 and interval > 0

    path = sample_deck / "01-basic.md"
    path.write_text(
        path.read_text("utf-8").replace("不达目标不罢休。", "目标不达，决不罢休。"), "utf-8"
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    build(sample_deck, tmp_path / "out")
    log = anki.import_package(tmp_path / "out" / HANS)  # Anki's default options

    assert (log.new, log.updated, log.conflicting) == (0, 1, 0)
    assert anki.col.note_count() == 4
    card.load()
    assert "目标不达，决不罢休。" in card.answer()
    assert (card.reps, card.ivl) == (reps, interval)


def test_edit_without_clock_still_moves_forward(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI that pins SOURCE_DATE_EPOCH for every build must still ship edits.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / HANS)
    path = sample_deck / "02-cloze.md"
    path.write_text(path.read_text("utf-8").replace("哪块最弱", "哪一块最弱"), "utf-8")
    build(sample_deck, tmp_path / "out")
    assert anki.import_package(tmp_path / "out" / HANS).updated == 1


def test_template_change_reaches_learners(
    sample_deck: Path,
    tmp_path: Path,
    anki: AnkiCollection,
    monkeypatch: pytest.MonkeyPatch,
    editable_templates: Path,
) -> None:
    templates = editable_templates
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(sample_deck, tmp_path / "out")
    anki.import_package(tmp_path / "out" / HANS)
    card = anki.card_by_id_field("sample-result")
    anki.review(card)
    reps, interval = card.reps, card.ivl

    css = templates / "style.css"
    css.write_text(css.read_text("utf-8") + "\n.answer { color: #123456; }\n", "utf-8")
    notetypes.note_type.cache_clear()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    build(sample_deck, tmp_path / "out")
    log = anki.import_package(tmp_path / "out" / HANS)

    assert (log.new, log.conflicting) == (0, 0)
    card.load()
    assert "#123456" in card.question()
    assert (card.reps, card.ivl) == (reps, interval)


def test_shared_guids_switch_script_and_keep_history(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    # Switchable packages take their notes' times from the lock that a default build writes.
    refused = run("build", sample_deck, "--out", tmp_path / "out", "--shared-guids")
    assert refused.exit_code == 1 and "[DG310]" in refused.output
    build(sample_deck, tmp_path / "default")
    build(sample_deck, tmp_path / "out", "--shared-guids")
    # Named so that nobody mistakes them for the default packages (importing both doubles cards).
    assert sorted(p.name for p in (tmp_path / "out").glob("*.apkg")) == [SWITCH_HANS, SWITCH_HANT]
    anki.import_package(tmp_path / "out" / SWITCH_HANS)
    card = anki.card_by_id_field("sample-result")
    anki.review(card)
    reps, interval = card.reps, card.ivl

    # zh-Hant's notes are a second newer, so default options switch to it ...
    log = anki.import_package(tmp_path / "out" / SWITCH_HANT)
    assert (log.new, log.updated) == (0, 4)
    assert anki.col.note_count() == 4
    card.load()
    assert 'lang="zh-Hant"' in card.question() and "運營人員" in card.question()
    assert (card.reps, card.ivl) == (reps, interval)
    # One deck name per deck for both scripts: the cards stay in decks that still read
    # right, and switching creates no empty decks.
    decks = {d.name for d in anki.col.decks.all_names_and_ids()} - {"Default"}
    assert decks == {
        "样例卡组 / 樣例卡組",
        "样例卡组 / 樣例卡組::基础 / 基礎",
        "样例卡组 / 樣例卡組::核心能力",
        "样例卡组 / 樣例卡組::核心能力::整合",
    }
    assert all(anki.col.find_cards(f'"deck:{name}"') for name in decks)

    # ... and "update notes: always" switches back.
    log = anki.import_package(tmp_path / "out" / SWITCH_HANS, update_always=True)
    assert (log.new, log.updated) == (0, 4)
    card.load()
    assert 'lang="zh-Hans"' in card.question() and "运营人员" in card.question()
    assert (card.reps, card.ivl) == (reps, interval)


def test_builds_are_byte_identical(sample_deck: Path, tmp_path: Path, fixed_epoch: None) -> None:
    build(sample_deck, tmp_path / "one")
    build(sample_deck, tmp_path / "two")
    for name in (HANS, HANT):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_parallel_card_stages_give_the_same_bytes(
    sample_deck: Path, tmp_path: Path, fixed_epoch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deckgen.stages

    build(sample_deck, tmp_path / "serial")
    monkeypatch.setattr(deckgen.stages, "PARALLEL_FROM", 0)  # cards parsed in worker processes
    build(sample_deck, tmp_path / "parallel", "--force")
    for name in (HANS, HANT):
        assert (tmp_path / "serial" / name).read_bytes() == (
            tmp_path / "parallel" / name
        ).read_bytes()


def test_parallel_card_stages_report_errors_cleanly(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deckgen.stages

    monkeypatch.setattr(deckgen.stages, "PARALLEL_FROM", 0)
    (tmp_path / "out").write_text("a file where the output folder should be", "utf-8")
    result = run("build", sample_deck, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "DG050" in result.output and "Traceback" not in result.output


def test_a_variant_is_added_by_config_alone(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection
) -> None:
    with (sample_deck / "deck.toml").open("a", encoding="utf-8") as config:
        config.write('\n[variants.zh-Hant-HK]\nopencc = "s2hk"\n')
    build(sample_deck, tmp_path / "out")
    hong_kong = tmp_path / "out" / "樣例卡組.zh-Hant-HK.apkg"
    assert len(list((tmp_path / "out").glob("*.apkg"))) == 3

    assert anki.import_package(hong_kong).new == 4
    back = anki.card_by_id_field("sample-image").answer()
    assert 'lang="zh-Hant-HK"' in back
    assert "在這裏敲黑板" in back  # Hong Kong's 裏, where Taiwan writes 裡
