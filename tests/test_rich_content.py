"""Code, math and tables (issue 14): the fixture deck built and imported into real Anki,
its preview in real headless Chromium at phone and desktop widths, day and night; the
checks at their lines; the sanitizer's allowlist for highlighting.

The deck (tests/fixtures/decks/rich) has a Python block with a Chinese string literal, an
SQL block with a Chinese literal, a table too wide for a phone, inline and display math
with Chinese inside, and a cloze deletion inside math.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, AnkiCollection, run
from devtools import Chromium, pixels, stats
from test_preview import _Visible, _without_style, assert_cloze_renders_as_anki
from test_sanitize import unsafe

from deckgen.build import check
from deckgen.highlight import highlight, span_classes
from deckgen.preview import preview_faces
from deckgen.sanitize import sanitize_html

RICH = FIXTURES / "decks" / "rich"
PACKAGES = {"zh-Hans": "代码与公式.zh-Hans.apkg", "zh-Hant": "代碼與公式.zh-Hant.apkg"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich deck built once: the output folder with both packages."""
    folder = tmp_path_factory.mktemp("rich")
    shutil.copytree(RICH, folder / "deck")
    result = run("build", folder / "deck", "--out", folder / "out")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    return folder / "out"


def _text(page: str) -> str:
    """What a reader sees of a card's HTML: its text, entities decoded, spaces collapsed."""
    return _Visible(_without_style(page)).seen()[0]


def _card(anki: AnkiCollection, card_id: str, ordinal: int = 0) -> tuple[str, str]:
    card = anki.card_by_id_field(card_id, ordinal)
    return _without_style(card.question()), _without_style(card.answer())


# --- In real Anki ---------------------------------------------------------------------

# Per variant: the text around the code, converted, and the code, never converted.
AROUND_CODE = {
    "zh-Hans": ("返回发展阶段的说明，例如", "2023 年以后注册、所在城市为台北的用户。"),
    "zh-Hant": ("返回發展階段的說明，例如", "2023 年以後註冊、所在城市為臺北的用戶。"),
}


@pytest.mark.parametrize("variant", list(PACKAGES))
def test_anki_shows_highlighted_code_unconverted_in_converted_text(
    built: Path, anki: AnkiCollection, variant: str
) -> None:
    anki.import_package(built / PACKAGES[variant])
    python_text, sql_text = AROUND_CODE[variant]

    _, back = _card(anki, "rich-python")
    assert '<span class="k">def</span> <span class="nf">说明</span>(阶段:' in back
    assert '<span class="c1"># 注释也不转换</span>' in back
    shown = _text(back)
    assert 'return f"{阶段}：后台发展" # 注释也不转换' in shown  # the code as written
    assert python_text in shown
    assert '<code>说明("初期")</code>' in back  # inline code: not highlighted, not converted

    _, back = _card(anki, "rich-sql")
    assert '<span class="k">SELECT</span> 名称, 城市' in back
    assert "<span class=\"s1\">'台北'</span>" in back
    assert sql_text in _text(back)


MATH = {
    "zh-Hans": (
        r"圆的面积公式 \(A = \pi r^2\) 中，\(r\) 指什么？",
        r"半径。公式也可以写成 \(\text{面积} = \pi \times \text{半径}^2\)。",
        r"爱因斯坦的质能方程：\(E = [...]\)，其中 \(c\) 是光速。",
        r"爱因斯坦的质能方程：\(E = mc^2\)，其中 \(c\) 是光速。",
        r"爱因斯坦的[...]：\(E = mc^2\)",
    ),
    "zh-Hant": (
        r"圓的面積公式 \(A = \pi r^2\) 中，\(r\) 指什麼？",
        r"半徑。公式也可以寫成 \(\text{面积} = \pi \times \text{半径}^2\)。",
        r"愛因斯坦的質能方程：\(E = [...]\)，其中 \(c\) 是光速。",
        r"愛因斯坦的質能方程：\(E = mc^2\)，其中 \(c\) 是光速。",
        r"愛因斯坦的[...]：\(E = mc^2\)",
    ),
}


@pytest.mark.parametrize("variant", list(PACKAGES))
def test_anki_gets_its_mathjax_delimiters_with_the_math_unconverted(
    built: Path, anki: AnkiCollection, variant: str
) -> None:
    anki.import_package(built / PACKAGES[variant])
    question, answer_text, cloze_front, cloze_back, other_front = MATH[variant]

    front, back = _card(anki, "rich-circle")
    assert _text(front) == question
    assert answer_text in _text(back)
    assert r"\[x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}\]" in _text(back)  # display math

    # The deletion inside math: blank on the front, revealed on the back, and, as Anki
    # does inside MathJax, without a span in the formula.
    front, back = _card(anki, "rich-energy", 0)
    assert cloze_front in _text(front) and cloze_back in _text(back)
    assert not re.search(r"\\\([^)]*<span", front + back)
    front, _ = _card(anki, "rich-energy", 1)
    assert other_front in _text(front)


@pytest.mark.parametrize("variant", list(PACKAGES))
def test_preview_renders_each_card_as_anki_does(
    built: Path, anki: AnkiCollection, variant: str
) -> None:
    anki.import_package(built / PACKAGES[variant])
    checked = check(RICH)
    faces = preview_faces([(r.summary, r.notes) for r in checked.results if r.summary], [variant])
    assert len(faces) == 6  # four basic cards, a cloze note with two deletions
    for face in faces:
        card = anki.card_by_id_field(face.card.id, face.ordinal)
        for ours, theirs in ((face.front, card.question()), (face.back, card.answer())):
            assert _Visible(ours).seen() == _Visible(_without_style(theirs)).seen(), face.name


@pytest.mark.parametrize(
    "text",
    [
        r"\(x = {{c1::2::hint}}\) 和 {{c2::y}}",
        r"面积 \(A = {{c1::\pi r^2}}\)，\[{{c2::\frac{1}{2} }}\]",
        r"{{c1::\(x\)}} \(y = {{c1::3}}\)",
    ],
    ids=["hint-and-text-deletion", "inline-and-display", "math-inside-a-deletion"],
)
def test_deletions_inside_math_match_anki_exactly(anki: AnkiCollection, text: str) -> None:
    assert_cloze_renders_as_anki(anki, text)


# --- What the packages hold --------------------------------------------------------------


def _package_texts(package: Path, folder: Path) -> tuple[list[str], list[str]]:
    """A package's note fields, and its templates, stylesheets and deck descriptions."""
    with zipfile.ZipFile(package) as archive:
        assert set(archive.namelist()) <= {"collection.anki2", "media"}
        database = archive.extract("collection.anki2", folder)
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute("SELECT flds FROM notes").fetchall()
        models_json, decks_json = connection.execute("SELECT models, decks FROM col").fetchone()
    finally:
        connection.close()
    models = json.loads(models_json).values()
    templates = [t[side] for m in models for t in m["tmpls"] for side in ("qfmt", "afmt")]
    css = [m["css"] for m in models]
    descriptions = [d.get("desc", "") for d in json.loads(decks_json).values()]
    fields = [field for (row,) in rows for field in row.split("\x1f")]
    return fields, templates + css + descriptions


@pytest.mark.parametrize("variant", list(PACKAGES))
def test_packages_hold_no_script_and_no_remote_url(
    built: Path, tmp_path: Path, variant: str
) -> None:
    fields, others = _package_texts(built / PACKAGES[variant], tmp_path)
    joined = "\n".join(fields + others)
    assert '<span class="k">' in joined and r"\(E = {{c1::mc^2}}\)" in joined  # the rich deck
    for found in ("<script", "javascript:", "http:", "https:", "//", "@import", "url("):
        assert found not in joined.lower(), found
    classes = set(re.findall(r'<span class="([^"]*)"', "".join(fields)))
    assert classes and classes <= span_classes()  # only the highlighter's classes
    for field in fields:
        assert unsafe(field) == [], field


def test_sanitizer_keeps_what_highlighting_needs_and_nothing_more() -> None:
    kept = '<pre><code><span class="k">def</span> <span class="s2">"发"</span></code></pre>'
    assert sanitize_html(kept) == kept
    assert (
        sanitize_html(
            '<span class="k cloze nightMode" style="color:red" onclick="alert(1)" id="x">def</span>'
        )
        == '<span class="k">def</span>'
    )
    assert sanitize_html('<span class="deckgen">x</span>') == "<span>x</span>"
    assert sanitize_html('<pre class="x"><code class="language-python">x</code></pre>') == (
        "<pre><code>x</code></pre>"
    )
    assert sanitize_html('<div class="k"><p class="k">x</p></div>') == "<p>x</p>"
    # MathML is made for the preview only: in a note, it is removed with its content.
    assert sanitize_html("<math><mi>x</mi></math><svg><text>y</text></svg>") == ""


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", 'def f(x):\n    return {"发": x}  # 注释 </code><script>\n'),
        ("sql", "SELECT 名称 FROM 用户 WHERE 城市 = '台北';\n"),
        ("javascript", "const 发 = `${x}</pre>`;\n\n\n"),
        ("bash", '\techo "$HOME" && cat <<EOF\n{}\nEOF'),
    ],
    ids=["python", "sql", "javascript", "bash"],
)
def test_highlighting_keeps_the_code_exactly(language: str, code: str) -> None:
    highlighted = highlight(code, language)
    assert highlighted is not None and "<span" in highlighted
    assert set(re.findall(r'class="([^"]*)"', highlighted)) <= span_classes()
    assert html.unescape(re.sub(r"</?span[^>]*>", "", highlighted)) == code
    assert highlight(code, "pyhton") is None


def test_hostile_code_and_math_stay_text(tmp_path: Path) -> None:
    deck = _deck(
        tmp_path,
        '```python" onmouseover="alert(1)\n</code><script>alert(1)</script>\n```\n\n'
        r"公式 $\text{<img src=x onerror=alert(1)>}$ 和 $\href{javascript:alert(1)}{x}$",
    )
    result = run("build", deck, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    fields, _ = _package_texts(tmp_path / "out" / "測試.zh-Hant.apkg", tmp_path)
    back = next(field for field in fields if "onerror" in field)
    assert unsafe(back) == [] and "<script" not in back and "<img" not in back
    assert "&lt;/code&gt;&lt;script&gt;" in back
    page = tmp_path / "preview.html"
    assert run("preview", deck, "--out", page, "--no-open").exit_code == 0
    main = page.read_text("utf-8").split("<main>")[1]
    assert "<script" not in main and "<img" not in main and "javascript:" not in main
    assert "<math" in main  # the math is shown, without what it smuggled


# --- check: the new rules at their lines ---------------------------------------------------

DECK_TOML = """\
[deck]
id = 1700000000015
title = "测试"
script = "zh-Hans"

[source]
title = "测试"
author = "deckgen"
site = "测试"

[variants.zh-Hans]
opencc = "none"

[variants.zh-Hant]
opencc = "s2tw"

[lint]
allow = ["DG101", "DG105", "DG106", "DG301"]
"""


def _deck(tmp_path: Path, answer: str, *, attrs: str = "", question: str = "问题？") -> Path:
    """A one-card deck; the card's attributes are on line 1, its answer starts on line 4."""
    deck = tmp_path / "deck"
    deck.mkdir(exist_ok=True)
    (deck / "deck.toml").write_text(DECK_TOML, "utf-8")
    (deck / "cards.md").write_text(f"{{#card{attrs}}}\n## {question}\n\n{answer}\n", "utf-8")
    return deck


def _problems(deck: Path) -> list[tuple[object, ...]]:
    result = run("check", deck, "--format", "json")
    return [(p["code"], p["line"], p["message"], p["hint"]) for p in json.loads(result.stdout)]


CHECKS = {
    "unknown-language": (
        "文字\n\n```pyhton\nprint(1)\n```",
        "",
        [("DG130", 6, "code block in 'pyhton', a language the highlighter does not know")],
    ),
    "unknown-language-no-close-match": (
        "```zzzz\nx\n```",
        "",
        [("DG130", 4, "code block in 'zzzz'")],
    ),
    "unknown-language-allowed-on-the-card": ("```pyhton\nprint(1)\n```", ' allow="DG130"', []),
    "no-language-and-text-are-fine": ("```\nx\n```\n\n```text\ny\n```", "", []),
    "brace-never-closed": (
        "半径 $r^{2$ 的面积",
        "",
        [("DG038", 4, "math 'r^{2' does not balance")],
    ),
    "dollar-never-closed-on-the-second-line": (
        "第一行\n价格 $x 没有闭合",
        "",
        [("DG038", 5, "a '$' opens math that is never closed")],
    ),
    "space-before-the-closing-dollar": ("$x $", "", [("DG038", 4, "a '$' opens math")]),
    "display-math-never-closed": (
        "文字\n\n$$\n\\frac{1}{2}",
        "",
        [("DG038", 6, "a '$' opens math that is never closed")],
    ),
    "environment-never-closed": (
        "$$\n\\begin{matrix} a \\\\ b \\end{pmatrix}\n$$",
        "",
        [("DG038", 4, r"\end{pmatrix} does not close \begin{matrix}")],
    ),
    "prices-and-escaped-dollars-are-text": ("价格 $5 和 $10，变量 \\$HOME", "", []),
    "deletion-ends-at-the-first-closing-braces": (
        "分数 $x = {{c1::\\frac{1}{2}}}$",
        " .cloze",
        [("DG040", 4, "malformed cloze in math: {{c1::\\frac{1}{2}} ends at the first }}")],
    ),
    "deletion-with-a-space-before-its-end": ("分数 $x = {{c1::\\frac{1}{2} }}$", " .cloze", []),
    "deletion-in-math-outside-a-cloze-card": (
        "$x = {{c1::2}}$",
        "",
        [("DG041", 4, "cloze deletion outside a .cloze card's answer")],
    ),
    "text-rules-read-prose": ("後来发现", "", [("DG120", 4, "'後' is Traditional")]),
    "text-rules-never-read-code-or-math": (
        "```python\nprint('後来发现')\n```\n\n$\\text{後来发现}$ 和 `後来`",
        "",
        [],
    ),
}


@pytest.mark.parametrize("case", CHECKS.values(), ids=CHECKS.keys())
def test_check_reports_code_and_math_at_their_line(
    tmp_path: Path, case: tuple[str, str, list[tuple[str, int, str]]]
) -> None:
    answer, attrs, expected = case
    found = _problems(_deck(tmp_path, answer, attrs=attrs))
    assert [(code, line) for code, line, _, _ in found] == [(c, n) for c, n, _ in expected]
    for (_, _, message, hint), (_, _, wanted) in zip(found, expected, strict=True):
        assert wanted in str(message) and hint


def test_unknown_language_suggests_the_closest_name(tmp_path: Path) -> None:
    [(_, _, _, hint)] = _problems(_deck(tmp_path, "```pyhton\nprint(1)\n```"))
    assert hint == "did you mean 'python'?"


def test_build_and_preview_use_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args))
        raise OSError("network access")

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    deck = tmp_path / "deck"
    shutil.copytree(RICH, deck)
    assert run("build", deck, "--out", tmp_path / "out").exit_code == 0
    assert run("preview", deck, "--out", tmp_path / "p.html", "--no-open").exit_code == 0
    assert attempts == []


# --- The preview in real headless Chromium -------------------------------------------------


@pytest.fixture(scope="module")
def rich_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Chromium, Path]]:
    """Headless Chromium and the rich deck's preview page, with network requests recorded."""
    folder = tmp_path_factory.mktemp("rich-preview")
    shutil.copytree(RICH, folder / "deck")
    page = folder / "preview.html"
    assert run("preview", folder / "deck", "--out", page, "--no-open").exit_code == 0
    chromium = Chromium(folder / "profile")
    try:
        chromium.send("Network.enable")
        yield chromium, page
    finally:
        chromium.close()


def _show(browser: Chromium, page: Path, width: int, night: bool) -> None:
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=900,
        deviceScaleFactor=1,
        mobile=width < 500,
    )
    browser.events.clear()
    browser.send("Page.navigate", url=page.as_uri())
    browser.wait_for("Page.loadEventFired")
    browser.evaluate("document.fonts.ready.then(() => true)")
    if night:
        browser.click("label[for=night-mode]")
        assert browser.evaluate("document.getElementById('night-mode').checked") is True


_VISIBLE = "[...document.querySelectorAll({})].filter(e => e.getClientRects().length)"


def _visible(selector: str) -> str:
    return _VISIBLE.format(json.dumps(selector))


def _rgb(colour: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", colour)[:3])


def _contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two CSS rgb() colours."""

    def luminance(colour: str) -> float:
        channels = [v / 255 for v in _rgb(colour)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _screenshot(browser: Chromium, selector: str, path: Path) -> tuple[float, float]:
    """A screenshot of the first visible element matching selector: (mean, spread) of grey."""
    x, y, width, height = browser.evaluate(
        f"(() => {{ const e = {_visible(selector)}[0]; const r = e.getBoundingClientRect();"
        " return [r.x + scrollX, r.y + scrollY, r.width, r.height]; })()"
    )
    clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
    png = browser.send(
        "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
    )["data"]
    import base64

    data = base64.b64decode(png)
    path.write_bytes(data)
    return stats(pixels(data))


SHOWS = [(width, night) for width in (390, 1200) for night in (False, True)]


@pytest.mark.parametrize(
    ("width", "night"), SHOWS, ids=[f"{w}px-{'night' if n else 'day'}" for w, n in SHOWS]
)
def test_preview_shows_code_math_and_tables_offline(
    rich_browser: tuple[Chromium, Path], tmp_path: Path, width: int, night: bool
) -> None:
    browser, page = rich_browser
    _show(browser, page, width, night)
    assert browser.errors() == []
    requests = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), requests
    cards = ".preview-side > .card" + (".nightMode" if night else ":not(.nightMode)")

    # Highlighted code: coloured tokens, each readable on the block's background.
    colours = browser.evaluate(
        f"{_visible(cards + ' pre span')}.map(s => [getComputedStyle(s).color,"
        " getComputedStyle(s.closest('pre')).backgroundColor])"
    )
    assert len({fg for fg, _ in colours}) >= 5, colours
    assert min(_contrast(fg, bg) for fg, bg in colours) >= 4.5
    mean, spread = _screenshot(browser, cards + " pre", tmp_path / "code.png")
    assert spread > 20 and (mean < 80 if night else mean > 180), (mean, spread)

    # Math: drawn as MathML with a size, never left as TeX.
    sizes = browser.evaluate(
        f"{_visible(cards + ' math')}.map(m => [m.getBoundingClientRect().width,"
        " m.getBoundingClientRect().height, m.getAttribute('display')])"
    )
    # Per variant: the question's two formulas on the front and back of one card, the
    # answer's and note's on its back, the cloze note's on both of its cards.
    assert len(sizes) == 2 * (2 + 2 + 2 + 4 * 2)
    assert all(w > 5 and h > 5 for w, h, _ in sizes), sizes
    assert any(display == "block" for _, _, display in sizes)
    text = browser.evaluate(f"{_visible(cards)}.map(c => c.innerText).join('\\n')")
    assert "\\(" not in text and "\\[" not in text and "$" not in text
    _, spread = _screenshot(browser, cards + " math[display=block]", tmp_path / "math.png")
    assert spread > 20

    # The table: inside the card, scrolling on a phone, whole on a desktop.
    tables = browser.evaluate(
        f"{_visible(cards + ' table')}.map(t => [t.scrollWidth, t.clientWidth])"
    )
    assert len(tables) == 2  # the back of the table card, per variant
    if width == 390:
        assert all(scroll > client for scroll, client in tables), tables
    else:
        assert all(scroll == client for scroll, client in tables), tables

    # No card overflows, and the page never scrolls sideways.
    overflowing = browser.evaluate(
        f"{_visible(cards + ' .deckgen')}.filter(d => d.scrollWidth > d.clientWidth).length"
    )
    assert overflowing == 0
    assert browser.evaluate("document.documentElement.scrollWidth") <= width
