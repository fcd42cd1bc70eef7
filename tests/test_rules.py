"""Every card-quality rule of ``deckgen check``: the bad example of docs/rules.md
triggers it at the right line, the good one is clean; silencing, JSON, --strict.

Each case writes a one-file deck into tmp_path (the card file is ``cards.md``;
a standard card has its attributes on line 1, the heading on 2, the answer on
4, the quote on 6, ``::: note`` on 8) and runs ``deckgen check --format json``.
Example texts avoid characters with several Traditional forms (DG201) unless
that is the point.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import Result
from conftest import run

from deckgen.errors import Rule, Severity

DECK_TOML = """\
[deck]
id = 1700000000002
title = "规则样例"
script = "zh-Hans"
{phrases}
[source]
title = "规则样例"
author = "@思无邪"
site = "人人都是产品经理"

[variants.zh-Hans]
opencc = "none"

[variants.zh-Hant]
opencc = "s2tw"
{lint}"""

QUOTE = "整合业务,产品,技术。"
SOURCE = "整合什么呢?整合业务,产品,技术。产品运营最核心的能力应该是整合"


def card(
    question: str = "作者认为产品运营最核心的能力是什么？",
    answer: str = "整合",
    *,
    id: str = "good",
    attrs: str = "",
    quote: str | None = QUOTE,
    note: str | None = "用这三样检查自己哪块最弱。",
) -> str:
    """One card in the documented layout (attributes line first)."""
    text = f"{{#{id}{attrs}}}\n## {question}\n\n{answer}\n"
    if quote is not None:
        text += f"\n> {quote}\n"
    if note is not None:
        text += f"\n::: note\n{note}\n:::\n"
    return text


CLOZE = " .cloze"
THREE = "产品运营要整合哪三样？"
THREE_CLOZE = "整合{{c1::业务}}、{{c2::产品}}和{{c3::技术}}"


@dataclass(frozen=True)
class Case:
    code: str
    severity: str
    bad: str
    """The card file that breaks the rule."""
    line: int
    """Where the problem is reported in the bad file."""
    good: str
    """The same card written well: no problem at all."""
    args: tuple[str, ...] = ()
    phrases: str | None = None
    """A phrases.txt for the deck (bad and good)."""
    path: str = "cards.md"


CASES = {
    "DG100-placeholder": Case("DG100", "error", card("【TODO：问题】"), 2, card()),
    "DG100-placeholder-in-cloze": Case(
        "DG100",
        "error",
        card(THREE, "整合{{c1::【TODO：要挖空的词】}}、产品和技术。", attrs=CLOZE),
        4,
        card(THREE, THREE_CLOZE, attrs=CLOZE),
    ),
    "DG101-answer-too-long": Case(
        "DG101",
        "warning",
        card(
            answer="作者认为产品运营最核心的能力应该是整合，因为沟通和数据分析这类具体能力都可以学，"
            "真正难的是把业务、产品和技术凝聚在一起，朝同一个目标使劲，不断推动事情往前走"
        ),
        4,
        card(),
    ),
    "DG101-latin-words-count-as-one": Case(
        "DG101",
        "warning",
        card("作者建议用哪个工具学习？", " ".join(["ChatGPT"] * 41)),
        4,
        card("作者建议用哪个工具学习？", "ChatGPT, asked about every new concept"),
    ),
    "DG102-bullet-list": Case(
        "DG102",
        "warning",
        card("产品运营要整合哪三样？", "- 业务\n- 产品\n- 技术"),
        4,
        card(THREE, THREE_CLOZE, attrs=CLOZE),
    ),
    "DG102-ordered-steps-are-fine": Case(
        "DG102",
        "warning",
        card("作者建议怎样为换工作做功课？", "- 了解运营技能\n- 看岗位要求\n- 有选择地提升"),
        4,
        card("作者建议怎样为换工作做功课？", "1. 了解运营技能\n2. 看岗位要求\n3. 有选择地提升"),
    ),
    "DG102-enumeration-comma": Case(
        "DG102",
        "warning",
        card("产品运营要整合哪三样？", "业务、产品和技术"),
        4,
        card("作者认为整合的三样之中，哪一样最难？", "把它们凝聚在一起，朝同一个目标使劲，才最难"),
    ),
    "DG102-short-clauses": Case(
        "DG102",
        "warning",
        card("产品运营要整合哪三样？", "业务，产品，技术"),
        4,
        card("作者认为运营最难的是什么？", "沟通可以学，数据可以学，凝聚各方最难"),
    ),
    "DG103-ma": Case("DG103", "warning", card("产品运营最核心的能力是整合吗？", "是"), 2, card()),
    "DG103-shifou": Case("DG103", "warning", card("作者是否认为整合最核心？", "是"), 2, card()),
    "DG103-a-not-a": Case(
        "DG103",
        "warning",
        card("整合是不是运营最核心的能力？", "是"),
        2,
        card("作者用什么判断一个运营是不是合格？", "能不能把各方拉到一起推动事情"),
    ),
    "DG103-duibudui": Case(
        "DG103", "warning", card("运营最核心的能力是整合，对不对？", "对"), 2, card()
    ),
    "DG104-answer-in-question": Case(
        "DG104",
        "warning",
        card("为什么说整合是产品运营最核心的能力？", "整合"),
        4,
        card("为什么说整合是产品运营最核心的能力？", "沟通、数据都可以学，把各方凝聚在一起才难"),
    ),
    "DG104-answer-repeats-question": Case(
        "DG104",
        "warning",
        card(answer="作者认为产品运营最核心的能力是整合"),
        4,
        card(),
    ),
    "DG105-no-quote": Case("DG105", "warning", card(quote=None), 2, card()),
    "DG106-no-note": Case("DG106", "warning", card(note=None), 2, card()),
    "DG043-cloze-number-gap": Case(
        "DG043",
        "error",
        card("产品运营要整合哪三样？", "整合{{c1::业务}}、{{c3::产品}}和技术", attrs=CLOZE),
        4,
        card("产品运营要整合哪三样？", "整合{{c1::业务}}、{{c2::产品}}和技术", attrs=CLOZE),
    ),
    "DG107-too-many-deletions": Case(
        "DG107",
        "warning",
        card(
            "一星期七天的名称",
            "一星期是{{c1::星期一}}、{{c2::星期二}}、{{c3::星期三}}、{{c4::星期四}}、"
            "{{c5::星期五}}、{{c6::星期六}}和星期日",
            attrs=CLOZE,
        ),
        4,
        card(
            "产品运营要整合哪三样？",
            "产品运营要整合{{c1::业务}}、{{c2::产品}}和{{c3::技术}}",
            attrs=CLOZE,
        ),
    ),
    "DG108-cloze-hides-most": Case(
        "DG108",
        "warning",
        card(
            "作者的观点",
            "整合{{c1::业务、产品、技术，凝聚在一起才是最核心的能力}}",
            attrs=CLOZE,
        ),
        4,
        card("作者的观点", "整合业务、产品、技术，{{c1::凝聚}}在一起才是最核心的能力", attrs=CLOZE),
    ),
    "DG109-same-question": Case(
        "DG109",
        "warning",
        card() + "\n" + card(id="again", answer="整合能力"),
        13,
        card() + "\n" + card("作者认为运营最难的是什么？", "把各方凝聚在一起", id="other"),
    ),
    "DG109-nearly-the-same": Case(
        "DG109",
        "warning",
        card() + "\n" + card("作者认为，产品运营最核心的能力究竟是什么？", "整合能力", id="again"),
        13,
        card() + "\n" + card("作者认为，产品运营最难学的是什么？", "凝聚各方", id="other"),
    ),
    "DG110-quote-not-verbatim": Case(
        "DG110",
        "error",
        card(quote="整合业务，产品，技术。"),
        6,
        card(),
        args=("--source", "{source}"),
    ),
    "DG120-traditional-character": Case(
        "DG120",
        "error",
        card(answer="整合能力", note="用這三樣檢查自己哪塊最弱。"),
        9,
        card(answer="整合能力"),
    ),
    "DG201-ambiguous-conversion": Case(
        "DG201",
        "warning",
        card(answer="衣服干了"),
        4,
        card(answer="衣服干了"),
        phrases=None,
    ),
    "DG202-phrase-overridden": Case(
        "DG202",
        "warning",
        card(answer="早餐我和面包一起买"),
        4,
        card(answer="早餐我和面包一起买"),
        phrases="面包\t麵包\n",
    ),
}


def _deck(tmp_path: Path, cards: str, *, phrases: str | None = None, lint: str = "") -> Path:
    deck = tmp_path / "deck"
    deck.mkdir(exist_ok=True)
    (deck / "deck.toml").write_text(
        DECK_TOML.format(
            phrases='phrases = "phrases.txt"\n' if phrases is not None else "",
            lint=f"\n[lint]\nallow = {lint}\n" if lint else "",
        ),
        "utf-8",
    )
    if phrases is not None:
        (deck / "phrases.txt").write_text(phrases, "utf-8")
    (deck / "cards.md").write_text(cards, "utf-8")
    (tmp_path / "article.txt").write_text(SOURCE, "utf-8")
    return deck


def _check(deck: Path, *args: str) -> tuple[Result, list[dict[str, object]]]:
    source = str(deck.parent / "article.txt")
    result = run("check", deck, "--format", "json", *(a.format(source=source) for a in args))
    return result, json.loads(result.stdout)


def _found(problems: list[dict[str, object]]) -> list[tuple[object, object]]:
    # DG301 (no lock file yet) is about the deck, not the card: tested below.
    return [(p["code"], p["line"]) for p in problems if p["code"] != "DG301"]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_example_triggers_the_rule(tmp_path: Path, case: Case) -> None:
    deck = _deck(tmp_path, case.bad, phrases=case.phrases)
    result, problems = _check(deck, *case.args)
    assert (case.code, case.line) in _found(problems)
    problem = next(p for p in problems if p["code"] == case.code)
    assert problem["severity"] == case.severity
    assert problem["path"] == str(deck / case.path)
    assert problem["message"] and problem["hint"]
    assert result.exit_code == (1 if case.severity == "error" else 0)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_good_example_is_clean(tmp_path: Path, case: Case) -> None:
    phrases = case.phrases
    if case.code == "DG201":  # the fix: a phrase entry decides OpenCC's word 干了
        phrases = "干了\t乾了\n"
    if case.code == "DG202":  # the fix: a longer phrase that OpenCC's 和面 cannot split
        phrases = "面包\t麵包\n和面包\t和麵包\n"
    deck = _deck(tmp_path, case.good, phrases=phrases)
    result, problems = _check(deck, *case.args)
    assert _found(problems) == []
    assert result.exit_code == 0


def test_allow_on_the_card_silences_only_that_rule_on_that_card(tmp_path: Path) -> None:
    long = (
        "整合，因为沟通和数据分析这类具体能力都可以学，真正难的是把各方凝聚在一起，朝一个目标使劲"
    )
    cards = card(answer=long, attrs=' allow="DG101"') + "\n" + card("运营的核心？", long, id="b")
    _, problems = _check(_deck(tmp_path, cards))
    assert _found(problems) == [("DG101", 15)]


def test_allow_on_the_card_does_not_silence_other_rules(tmp_path: Path) -> None:
    _, problems = _check(_deck(tmp_path, card(quote=None, attrs=' allow="DG106"')))
    assert _found(problems) == [("DG105", 2)]


def test_allow_in_deck_toml_silences_the_rule_for_the_deck(tmp_path: Path) -> None:
    cards = card(quote=None) + "\n" + card("作者眼中运营最难的是什么？", "凝聚", id="b", quote=None)
    _, problems = _check(_deck(tmp_path, cards, lint='["DG105", "DG301"]'))
    assert problems == []
    _, problems = _check(_deck(tmp_path, cards, lint='["DG301"]'))
    assert _found(problems) == [("DG105", 2), ("DG105", 11)]


def test_duplicate_is_silenced_by_allow_on_either_card(tmp_path: Path) -> None:
    cards = card(attrs=' allow="DG109"') + "\n" + card(id="again", answer="整合能力")
    _, problems = _check(_deck(tmp_path, cards))
    assert _found(problems) == []


def test_a_card_with_placeholders_gets_no_other_rule(tmp_path: Path) -> None:
    """An unwritten card is reported once per placeholder, not for its style."""
    cards = card("【TODO：问题】", "【TODO：答案】", quote=None, note=None)
    result, problems = _check(_deck(tmp_path, cards))
    assert _found(problems) == [("DG100", 2), ("DG100", 4)]
    assert result.exit_code == 1


def _build(deck: Path) -> None:
    result = run("build", deck, "--out", deck.parent / "dist")
    assert result.exit_code == 0, result.output


def test_lock_out_of_date(tmp_path: Path) -> None:
    """DG301: the notes the next build records (information: the build updates the lock),
    counted per note and variant, note types named as such."""
    deck = _deck(tmp_path, card())
    _build(deck)
    _, problems = _check(deck)
    assert problems == []
    (deck / "cards.md").write_text(card(answer="整合能力"), "utf-8")
    result, problems = _check(deck, "--strict")
    assert [(p["code"], p["path"], p["severity"]) for p in problems] == [
        ("DG301", str(deck / "deck.lock.json"), "info")
    ]
    # One card, two variants: two notes change.
    assert "records 2 notes as new or changed" in str(problems[0]["message"])
    assert result.exit_code == 0  # information never fails, not even with --strict


def test_id_disappeared_since_the_last_build(tmp_path: Path) -> None:
    """DG302: a renamed id orphans every learner's notes; reported at its lock line."""
    deck = _deck(tmp_path, card(id="integration-core"))
    _build(deck)
    lock_lines = (deck / "deck.lock.json").read_text("utf-8").splitlines()
    line = next(n for n, t in enumerate(lock_lines, 1) if '"integration-core"' in t)
    (deck / "cards.md").write_text(card(id="integration-main"), "utf-8")
    _, problems = _check(deck)
    assert ("DG302", line) in [(p["code"], p["line"]) for p in problems]
    assert "'integration-core'" in str(next(p for p in problems if p["code"] == "DG302")["message"])


def test_text_output_is_file_line_severity_message_code(tmp_path: Path) -> None:
    deck = _deck(tmp_path, card(note=None), lint='["DG301"]')
    result = run("check", deck)
    assert result.stderr.splitlines() == [
        f"{deck / 'cards.md'}:2: warning: card has no note [DG106]",
        "  hint: add '::: note' … ':::' saying why it matters or how to apply it",
        "1 card checked: 0 errors, 1 warning",
    ]


def test_json_output_is_valid_and_carries_path_line_code(tmp_path: Path) -> None:
    deck = _deck(tmp_path, card("整合是不是最核心的能力？", "是", note=None))
    result = run("check", deck, "--format", "json")
    problems = json.loads(result.stdout)
    assert result.stderr == ""
    assert {"path", "line", "column", "severity", "code", "message", "hint"} <= set(problems[0])
    assert [(p["path"], p["line"], p["code"]) for p in problems if p["code"] != "DG301"] == [
        (str(deck / "cards.md"), 2, "DG103"),
        (str(deck / "cards.md"), 2, "DG106"),
    ]


def test_json_output_carries_syntax_errors_too(tmp_path: Path) -> None:
    deck = _deck(tmp_path, "## 没有 id 的问题？\n\n答案\n")
    result = run("check", deck, "--format", "json")
    assert [(p["line"], p["code"]) for p in json.loads(result.stdout)] == [(1, "DG005")]
    assert result.exit_code == 1


@dataclass(frozen=True)
class Strict:
    cards: str
    plain: int
    strict: int
    lint: str = field(default='["DG301"]')


STRICT = {
    "clean": Strict(card(), 0, 0),
    "warnings-only": Strict(card(note=None), 0, 1),
    "errors": Strict(card("【TODO：问题】"), 1, 1),
}


@pytest.mark.parametrize("case", STRICT.values(), ids=STRICT.keys())
def test_strict_turns_warnings_into_failure(tmp_path: Path, case: Strict) -> None:
    deck = _deck(tmp_path, case.cards, lint=case.lint)
    assert run("check", deck).exit_code == case.plain
    assert run("check", deck, "--strict").exit_code == case.strict
    assert run("check", deck, "--strict", "--format", "json").exit_code == case.strict


def _all_rules() -> list[Rule]:
    from deckgen import check, preview, scaffold

    return [*check.RULES, *scaffold.RULES, *preview.RULES]


def test_every_rule_is_documented_with_its_severity() -> None:
    """docs/rules.md has every code of the rule table, with the table's severity."""
    rules = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text("utf-8")
    headings = dict(re.findall(r"^### (DG\d{3}) .* — (error|warning|info)$", rules, re.M))
    rows = set(re.findall(r"^\| (DG\d{3}) \|", rules, re.M))
    for rule in _all_rules():
        if rule.code in headings:
            assert headings[rule.code] == rule.severity.value, rule.code
            section = rules.split(f"### {rule.code} ")[1].split("\n### ")[0]
            assert "Bad" in section and "Good" in section, rule.code
        else:  # the DG0xx tables list errors only
            assert rule.code in rows and rule.severity is Severity.ERROR, rule.code
    documented = set(headings) | rows
    assert documented == {rule.code for rule in _all_rules()}


def test_no_rule_is_left_out_of_the_table() -> None:
    """A Rule defined in any module but missing from the table could not be silenced,
    documented or reported as JSON: every Rule object is in the table, once."""
    import importlib
    import pkgutil

    import deckgen

    defined = set()
    for module in pkgutil.iter_modules(deckgen.__path__):
        if module.name == "__main__":
            continue
        loaded = importlib.import_module(f"deckgen.{module.name}")
        defined |= {v for v in vars(loaded).values() if isinstance(v, Rule)}
    table = _all_rules()
    assert sorted(r.code for r in defined) == sorted(r.code for r in table)
    assert len({r.code for r in table}) == len(table)


def test_errors_cannot_be_silenced(tmp_path: Path) -> None:
    gap = card(
        "产品运营要整合哪三样？", "整合{{c1::业务}}、{{c3::技术}}", attrs=CLOZE + ' allow="DG043"'
    )
    _, problems = _check(_deck(tmp_path, gap, lint='["DG043"]'))
    assert ("DG043", 4) in _found(problems)


def test_allow_with_an_unknown_code_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    _, problems = _check(_deck(tmp_path, card(attrs=' allow="DG10l"'), lint='["DG999"]'))
    unknown = [p for p in problems if p["code"] == "DG111"]
    by_line = {p["line"]: p for p in unknown}
    assert sorted(by_line) == [0, 2]  # deck.toml, and the card's heading
    assert "did you mean 'DG101'?" in str(by_line[2]["hint"])
