"""deckgen preview: the renderer against real Anki, the page in headless Chromium, watch mode."""

from __future__ import annotations

import json
import queue
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import SAMPLE_DECK, AnkiCollection, run
from devtools import Chromium
from devtools import pixels as _pixels
from devtools import stats as _stats
from helpers import SAMPLE_HANS, SAMPLE_HANT

from deckgen.build import check
from deckgen.preview import Rebuild, TemplateError, preview_faces, render_template, watch_preview

PACKAGES = {"zh-Hans": SAMPLE_HANS, "zh-Hant": SAMPLE_HANT}


# --- The renderer against Anki's own ------------------------------------------------------


class _Visible(HTMLParser):
    """What a reader sees of some HTML: its text (whitespace collapsed) and its lang attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.langs: list[str] = []
        self.classes: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        values = dict(attrs)
        if values.get("lang"):
            self.langs.append(str(values["lang"]))
        if values.get("class"):
            self.classes.append(str(values["class"]))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)

    def seen(self) -> tuple[str, list[str], list[str]]:
        return " ".join("".join(self.text).split()), self.langs, self.classes


def _without_style(html: str) -> str:
    # Anki prefixes every question and answer with the note type's CSS.
    return re.sub(r"^<style>.*?</style>", "", html, flags=re.DOTALL)


@pytest.mark.parametrize("variant", list(PACKAGES))
def test_preview_shows_what_anki_shows(
    sample_deck: Path, tmp_path: Path, anki: AnkiCollection, variant: str
) -> None:
    assert run("build", sample_deck, "--out", tmp_path / "out").exit_code == 0
    anki.import_package(tmp_path / "out" / PACKAGES[variant])
    checked = check(sample_deck)
    cards = [(r.summary, r.notes) for r in checked.results if r.summary is not None]
    faces = [f for f in preview_faces(cards, [variant])]

    assert len(faces) == 7  # basic, reversed ×2, image, cloze ×3
    for face in faces:
        card = anki.card_by_id_field(face.card.id, face.ordinal)
        for ours, theirs in ((face.front, card.question()), (face.back, card.answer())):
            text, langs, classes = _Visible(ours).seen()
            assert (text, langs, classes) == _Visible(_without_style(theirs)).seen(), face.name
            assert langs == [variant]


@pytest.mark.parametrize(
    "text",
    [
        "整合{{c1::业务}}、{{c2::产品}}和{{c1::技术}}。",
        'x {{c1::<b>a&amp;"b</b>::hi<i>nt</i>}} y {{c2::z::a::b}}',
        "{{c2::只有第二个}}，{{c3::和第三个::提示}}",
    ],
    ids=["same-number-twice", "markup-and-hints", "starts-at-two"],
)
def test_cloze_filter_matches_anki_exactly(anki: AnkiCollection, text: str) -> None:
    assert_cloze_renders_as_anki(anki, text)


def assert_cloze_renders_as_anki(anki: AnkiCollection, text: str) -> None:
    """Every card of a Cloze note with ``text``: our template engine's front and back are
    Anki's own, character for character."""
    model = anki.col.models.by_name("Cloze")
    assert model is not None
    note = anki.col.new_note(model)
    note["Text"] = text
    anki.col.add_note(note, anki.col.decks.id("Default") or 1)
    template = model["tmpls"][0]
    for card in note.cards():
        fields = {"Text": text, "Back Extra": ""}
        number = card.ord + 1
        front = render_template(template["qfmt"], fields, ordinal=number)
        back = render_template(template["afmt"], fields, ordinal=number, answer=True)
        assert front == _without_style(card.question())
        assert back == _without_style(card.answer())


@pytest.mark.parametrize(
    "back",
    ["", " \n", "<br>", "<div></div>", "&nbsp;", "<p></p>", "文"],
    ids=["empty", "spaces", "br", "div", "nbsp", "p", "text"],
)
def test_sections_and_tags_match_anki_exactly(anki: AnkiCollection, back: str) -> None:
    model = anki.col.models.by_name("Basic")
    assert model is not None
    template = "{{Front}}|{{#Back}}有:{{Back}}{{/Back}}|{{^Back}}无{{/Back}}|{{Tags}}"
    model["tmpls"][0]["qfmt"] = template
    anki.col.models.save(model)
    note = anki.col.new_note(model)
    note["Front"], note["Back"], note.tags = "问", back, ["样例", "B", "a"]
    anki.col.add_note(note, 1)
    ours = render_template(template, {"Front": "问", "Back": back}, tags=note.tags)
    assert ours == _without_style(note.cards()[0].question())


def test_unknown_template_syntax_is_an_error() -> None:
    with pytest.raises(TemplateError, match="unknown field"):
        render_template("{{Nope}}", {})
    with pytest.raises(TemplateError, match="never closed"):
        render_template("{{#Front}}x", {"Front": "a"})
    with pytest.raises(TemplateError, match="not supported"):
        render_template("{{type:Front}}", {"Front": "a"})


# --- The command ----------------------------------------------------------------------


def test_preview_writes_page_and_opens_it(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(webbrowser, "open", lambda url, **_: opened.append(url) or True)
    out = tmp_path / "site" / "preview.html"
    result = run("preview", sample_deck, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}: 4 notes, 7 cards each, in zh-Hans, zh-Hant\n"
    assert result.stderr == ""
    assert opened == [out.resolve().as_uri()]
    page = out.read_text("utf-8")
    assert "運營人員必備的基礎素質是什麼？" in page and "运营人员必备的基础素质是什么？" in page
    assert "data:image/png;base64," in page and "deckgen-" not in page.split("<main>")[1]
    assert not (sample_deck / "deck.lock.json").exists()  # preview writes nothing else


def test_preview_without_a_browser_prints_where_the_page_is(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server or CI has no display: no xdg-open noise, just the path to open."""
    import webbrowser

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: pytest.fail("tried a browser"))
    out = tmp_path / "p.html"
    result = run("preview", sample_deck, "--out", out)
    assert result.exit_code == 0
    assert result.stderr == f"open {out.resolve()} in a browser to see it\n"


def test_preview_no_open_does_not_open(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: pytest.fail("opened a browser"))
    assert run("preview", sample_deck, "--out", tmp_path / "p.html", "--no-open").exit_code == 0


def test_preview_of_broken_deck_writes_nothing(sample_deck: Path, tmp_path: Path) -> None:
    path = sample_deck / "02-cloze.md"
    path.write_text(path.read_text("utf-8").replace("sample-integration", "sample-result"), "utf-8")
    result = run("preview", sample_deck, "--out", tmp_path / "p.html", "--no-open")
    assert result.exit_code == 1
    assert "02-cloze.md:" in result.output and "sample-result" in result.output
    assert not (tmp_path / "p.html").exists()


def test_watch_without_watchfiles_says_how_to_install(
    sample_deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    result = run("preview", sample_deck, "--out", tmp_path / "p.html", "--no-open", "--watch")
    assert result.exit_code == 1
    assert result.output == "Error: --watch needs watchfiles: pip install 'deckgen[watch]'\n"
    assert not (tmp_path / "p.html").exists()


def test_help() -> None:
    result = run("preview", "--help")
    assert result.exit_code == 0
    assert "deckgen preview --watch" in result.output and "--no-open" in result.output


# --- Watch mode ----------------------------------------------------------------------


class _Watcher:
    """watch_preview in a thread, stopped by its stop_event."""

    def __init__(self, deck: Path, out: Path) -> None:
        self.results: queue.Queue[Rebuild] = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(deck, out))
        self.thread.start()

    def _run(self, deck: Path, out: Path) -> None:
        for rebuild in watch_preview(deck, out=out, stop_event=self.stop):
            self.results.put(rebuild)

    def save(self, path: Path, text: str) -> Rebuild:
        """Save path until the watcher reports a rebuild (it may not be watching yet)."""
        for _ in range(20):
            path.write_text(text, "utf-8")
            try:
                return self.results.get(timeout=0.5)
            except queue.Empty:
                continue
        raise AssertionError(f"no rebuild after saving {path}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


def test_watch_rebuilds_on_card_and_template_saves(
    sample_deck: Path, tmp_path: Path, editable_templates: Path
) -> None:
    templates = editable_templates
    out = tmp_path / "preview.html"
    assert run("preview", sample_deck, "--out", out, "--no-open").exit_code == 0
    card = sample_deck / "01-basic.md"
    original = card.read_text("utf-8")
    watcher = _Watcher(sample_deck, out)
    try:
        rebuild = watcher.save(card, original.replace("不达目标不罢休。", "目标不达，决不罢休。"))
        assert rebuild.summary is not None and rebuild.failure == ""
        assert card.resolve() in [p.resolve() for p in rebuild.changed]
        assert "目標不達，決不罷休。" in out.read_text("utf-8")

        # A mistake is reported, the page stays as it was, and the next save recovers.
        rebuild = watcher.save(card, original.replace("{#sample-image}", "{#Sample Image}"))
        assert rebuild.summary is None and "01-basic.md:" in rebuild.failure
        assert "目標不達，決不罷休。" in out.read_text("utf-8")
        assert watcher.save(card, original).summary is not None
        assert "目標不達" not in out.read_text("utf-8")

        css = templates / "style.css"
        rebuild = watcher.save(css, css.read_text("utf-8") + "\n.answer { color: #123456; }\n")
        assert rebuild.summary is not None
        assert ".answer { color: #123456; }" in out.read_text("utf-8")
    finally:
        watcher.close()


# --- The page in real headless Chromium ------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """The sample deck's preview page, loaded once in headless Chromium."""
    folder = tmp_path_factory.mktemp("preview")
    deck = folder / "deck"
    shutil.copytree(SAMPLE_DECK, deck)
    page = folder / "preview.html"
    assert run("preview", deck, "--out", page, "--no-open").exit_code == 0
    chromium = Chromium(folder / "profile")
    try:
        chromium.send(
            "Emulation.setDeviceMetricsOverride", width=1200, height=1600,
            deviceScaleFactor=1, mobile=False,
        )  # fmt: skip
        chromium.send("Page.navigate", url=page.as_uri())
        chromium.wait_for("Page.loadEventFired")
        chromium.evaluate("document.fonts.ready.then(() => true)")
        yield chromium
    finally:
        chromium.close()


def _visible(selector: str) -> str:
    return f"[...document.querySelectorAll({json.dumps(selector)})].filter(e => e.offsetParent)"


def test_page_loads_without_errors_and_images_show(browser: Chromium) -> None:
    assert browser.errors() == []
    images = browser.evaluate(
        "[...document.images].map(i => [i.complete && i.naturalWidth > 0, i.alt])"
    )
    # One image on the back of the image card, per variant, in the day copy that shows.
    assert sorted(images) == [[True, "紅點"]] * 2 + [[True, "红点"]] * 2


def test_every_card_shows_front_and_back_per_variant(browser: Chromium) -> None:
    rows = browser.evaluate(
        f"{_visible('.preview-side > .card')}.map(c => "
        "[c.closest('.preview-note').id, c.closest('.preview-card').dataset.name,"
        " c.parentElement.dataset.variant, c.parentElement.dataset.side])"
    )
    cards = [
        ("sample-result", "Card 1"),
        ("sample-perspective", "Card 1"),
        ("sample-perspective", "Card 2"),
        ("sample-image", "Card 1"),
        ("sample-integration", "Cloze 1"),
        ("sample-integration", "Cloze 2"),
        ("sample-integration", "Cloze 3"),
    ]
    expected = [
        [note, name, variant, side]
        for note, name in cards
        for side in ("front", "back")
        for variant in ("zh-Hans", "zh-Hant")
    ]
    assert rows == expected  # 7 cards × 2 variants × front and back, nothing else visible


def test_each_variant_is_marked_and_rendered_in_its_script(browser: Chromium) -> None:
    shown = browser.evaluate(
        f"{_visible('.deckgen')}.map(d => [d.lang, d.closest('.preview-side').dataset.variant,"
        " getComputedStyle(d).fontFamily.split(',')[0]])"
    )
    assert {tuple(s) for s in shown} == {
        ("zh-Hans", "zh-Hans", '"PingFang SC"'),
        ("zh-Hant", "zh-Hant", '"PingFang TC"'),
    }
    # The fonts actually drawn: the Simplified or Traditional cut of Noto CJK.
    for variant, family in (("zh-Hans", "Noto Sans CJK SC"), ("zh-Hant", "Noto Sans CJK TC")):
        root = browser.send("DOM.getDocument")["root"]["nodeId"]
        node = browser.send(
            "DOM.querySelector",
            nodeId=root,
            selector=f'.preview-side[data-variant="{variant}"] .question',
        )["nodeId"]
        fonts = browser.send("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]
        assert family in [f["familyName"] for f in fonts], (variant, fonts)
    texts = browser.evaluate(
        f"Object.fromEntries({_visible('.preview-side[data-side=front]')}"
        ".slice(0, 2).map(s => [s.dataset.variant, s.innerText]))"
    )
    assert "运营人员必备的基础素质是什么？" in texts["zh-Hans"]
    assert "運營人員必備的基礎素質是什麼？" in texts["zh-Hant"]


def test_cloze_fronts_blank_one_number_and_backs_reveal_it(browser: Chromium) -> None:
    sides = browser.evaluate(
        f"{_visible('#sample-integration .preview-side[data-variant=zh-Hant] .cloze-text')}"
        ".map(c => c.innerText)"
    )
    assert sides == [
        "產品運營要整合[...]、產品和技術。",
        "產品運營要整合業務、產品和技術。",
        "產品運營要整合業務、[...]和技術。",
        "產品運營要整合業務、產品和技術。",
        "產品運營要整合業務、產品和[...]。",
        "產品運營要整合業務、產品和技術。",
    ]


def test_screenshot_shows_cards_and_night_mode_toggles(browser: Chromium, tmp_path: Path) -> None:
    day = _stats(_pixels(browser.screenshot(tmp_path / "day-small.png", scale=0.25)))
    browser.screenshot(tmp_path / "day.png")
    browser.click("label[for=night-mode]")
    try:
        assert browser.evaluate("document.getElementById('night-mode').checked") is True
        night = _stats(_pixels(browser.screenshot(tmp_path / "night-small.png", scale=0.25)))
        browser.screenshot(tmp_path / "night.png")
        backgrounds = browser.evaluate(
            f"{_visible('.preview-side > .card')}.map(c => getComputedStyle(c).backgroundColor)"
        )
    finally:
        browser.click("label[for=night-mode]")
    assert day[1] > 20 and night[1] > 20, (day, night)  # text and boxes, not a blank page
    assert day[0] > 180 and night[0] < 80, (day, night)  # light page, then dark
    assert len(backgrounds) == 28 and set(backgrounds) == {"rgb(30, 30, 30)"}  # .nightMode.card
