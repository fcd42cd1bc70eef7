"""Synthetic decks in deckgen's own format, for the benchmark and its smoke test."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

# Common characters (Simplified), so that conversion and segmentation do real work.
POOL = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过"
    "子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制"
    "机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正"
    "心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党"
    "程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角"
    "运营换位思考整合技术学习能力结果导向目标用户数据沟通渠道活动策划内容增长转化留存复盘"
)
TAGS = ["结果导向", "换位思考", "整合", "学习能力", "利他", "技能"]


def _png(seed: int) -> bytes:
    raw = b"".join(b"\x00" + bytes((seed % 256, 80, 160)) * 4 for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + (chunk(b"IEND", b""))
    )


def _text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(POOL) for _ in range(rng.randint(low, high)))


def _card(rng: random.Random, index: int, images: int) -> str:
    card_id = f"card-{index:06d}"
    quote = f"> {_text(rng, 12, 30)}。\n\n::: note\n{_text(rng, 20, 50)}。\n:::\n"
    if index % 5 == 4:
        words = [_text(rng, 2, 4) for _ in range(3)]
        body = (
            f"{_text(rng, 6, 12)}{{{{c1::{words[0]}}}}}，{_text(rng, 4, 8)}"
            f"{{{{c2::**{words[1]}**}}}}、{words[2]}。"
        )
        return f"{{#{card_id} .cloze}}\n## {_text(rng, 8, 16)}\n\n{body}\n\n{quote}"
    kind = " .reversed" if index % 10 == 3 else ""
    image = f" ![图](images/img-{index % images}.png)" if index % 10 == 7 else ""
    answer = (
        f"**{_text(rng, 2, 5)}：**{_text(rng, 8, 20)}{image}\n\n"
        f"- {_text(rng, 4, 10)}\n- {_text(rng, 4, 10)}"
    )
    tags = f' tags="{rng.choice(TAGS)}"' if index % 3 == 0 else ""
    return f"{{#{card_id}{kind}{tags}}}\n## {_text(rng, 10, 24)}？\n\n{answer}\n\n{quote}"


def make_deck(folder: Path, cards: int, *, per_file: int = 500, seed: int = 1) -> Path:
    """Write a deck of ``cards`` synthetic cards into ``folder`` and return it."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    images = 20
    for number in range(images):
        (folder / "images" / f"img-{number}.png").write_bytes(_png(number))
    (folder / "deck.toml").write_text(
        '[deck]\nid = 1700000000777\ntitle = "合成卡组"\nscript = "zh-Hans"\n'
        'tags = ["bench"]\nphrases = "phrases.txt"\n\n'
        '[source]\ntitle = "合成"\nauthor = "bench"\nsite = "bench"\n\n'
        '[variants.zh-Hans]\nopencc = "none"\n\n[variants.zh-Hant]\nopencc = "s2tw"\n'
        '\n[lint]\nallow = ["DG201", "DG203", "DG112", "DG101", "DG102", "DG104", "DG108", '
        '"DG109"]\n',
        "utf-8",
    )
    (folder / "phrases.txt").write_text("然后\t然後\n", "utf-8")
    for start in range(0, cards, per_file):
        body = "\n".join(_card(rng, i, images) for i in range(start, min(cards, start + per_file)))
        subdeck = f"主题{start // per_file:03d}"
        (folder / f"{start // per_file:03d}.md").write_text(
            f"---\ndeck: {subdeck}\ntags: [合成]\n---\n\n{body}", "utf-8"
        )
    return folder
