"""Who a persona card's representative is: a role ("精打细算的宝妈") and a stable Chinese name.

The name is derived from the segment code (a hash into surname and given-name tables), so it
is the same every run; collisions inside one run are resolved in a fixed order. The given
name follows the segment's dominant gender when one is clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from persona.segment_result import PersonaCard

MOTIVATION_ADJ = {"price": "精打细算的", "quality": "讲究品质的", "service": "看重服务的"}
SEGMENT_ADJ = {
    "high": "爱回购的", "growth": "渐入佳境的", "general": "随便逛逛的",
    "potential": "还在观望的", "new": "刚入群的", "mature": "常驻群里的",
    "declining": "渐渐沉默的",
}
LIFE_STAGE_NOUNS = {"expecting": "准妈妈", "retired": "退休族", "student": "学生党"}
INTEREST_NOUNS = {
    "parenting": "宝妈", "digital": "数码控", "fitness": "健身达人", "food": "吃货",
    "beauty": "护肤达人", "travel": "旅行爱好者", "reading": "书友", "pets": "铲屎官",
    "home": "居家达人", "education": "家长", "finance": "理财新手", "auto": "车主",
    "entertainment": "追剧党", "games": "玩家", "health": "养生派", "fashion": "穿搭爱好者",
}
SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏"
    "苏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱"
)
GIVEN_NAMES = {
    "female": ("悦", "婷", "雨桐", "欣怡", "思琪", "佳怡", "静怡", "梦瑶", "晓雯", "诗涵", "雅琴",
               "慧敏", "若曦", "可馨", "文静", "丽娜", "嘉欣", "晓燕", "美玲", "月华", "紫萱",
               "佳琪", "婉清", "淑芬", "秀英", "玉梅", "海燕", "春梅", "晓丽", "芳"),
    "male": ("浩然", "子轩", "宇航", "俊杰", "志强", "明远", "晨阳", "建华", "一鸣", "博文",
             "天佑", "嘉伟", "振宇", "立新", "思远", "国强", "建军", "文斌", "海涛", "子豪"),
    "neutral": ("子涵", "雨辰", "欣然", "一诺", "晨曦", "安然", "清扬", "思源", "语桐", "可欣",
                "诗语", "梓萱", "文轩", "雨萱", "心怡", "佳宁"),
}
DIMENSION_RANK = {"value": 0, "lifecycle": 1, "motivation": 2, "cluster": 3}


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def representative_name(dimension: str, code: str, gender: str | None = None,
                        bump: int = 0) -> str:
    """A plausible Chinese name, fixed for a segment key: surname + given name from tables.

    `bump` moves to the next given name when another card of the run already has this one.
    """
    h = _digest(f"{dimension}:{code}")
    given = GIVEN_NAMES[gender if gender in ("female", "male") else "neutral"]
    surname = SURNAMES[h % len(SURNAMES)]
    return surname + given[(h // len(SURNAMES) + bump) % len(given)]


def card_role(dimension: str, code: str, profile: Mapping[str, Any],
              motivation: Mapping[str, Any] | None,
              interests: Sequence[Mapping[str, Any]]) -> str:
    """The representative's role: an adjective for the segment (or its clear motivation)
    and a noun for who they are ("精打细算的宝妈")."""
    if dimension == "motivation":
        adj = MOTIVATION_ADJ[code]
    elif dimension in ("value", "lifecycle"):
        adj = SEGMENT_ADJ[code]
    elif motivation:  # a card has one only when enough of the segment shares it
        adj = MOTIVATION_ADJ[motivation["code"]]
    else:
        adj = "热心的"
    return adj + _noun(profile, interests)


def card_gender(profile: Mapping[str, Any]) -> str | None:
    g = profile.get("gender")
    if g and g["share"] >= 0.6:
        return g["code"]
    stage = profile.get("life_stage")
    if stage and stage["code"] == "expecting":
        return "female"
    return None


def _noun(profile: Mapping[str, Any], interests: Sequence[Mapping[str, Any]]) -> str:
    """Who the representative is, from the clearest evidence: life stage, job, then interest."""
    stage = profile.get("life_stage")
    gender = card_gender(profile)
    if stage and stage["share"] >= 0.5:
        if stage["code"] == "parent":
            return "宝爸" if gender == "male" else "宝妈"
        if stage["code"] in LIFE_STAGE_NOUNS:
            return LIFE_STAGE_NOUNS[stage["code"]]
    job = profile.get("occupation")
    if job and job["share"] >= 0.5:
        return str(job["label"])
    # Only an interest that clearly leads names the person; a three-way tie is just "群友".
    if interests and interests[0]["share"] >= 0.3 and (
            len(interests) == 1 or interests[0]["share"] > interests[1]["share"]):
        noun = INTEREST_NOUNS.get(interests[0]["code"])
        if noun:
            return "宝爸" if noun == "宝妈" and gender == "male" else noun
    return "群友"


def name_cards(cards: Mapping[tuple[str, str], PersonaCard]) -> None:
    """Give every card its representative's name, in a fixed order (independent of the
    goal), bumping to the next given name on a clash inside the run."""
    used: set[str] = set()
    for dim, code in sorted(cards, key=lambda k: (DIMENSION_RANK[k[0]], k[1])):
        card = cards[dim, code]
        gender = card_gender(card.profile)
        bump = 0
        name = representative_name(dim, code, gender)
        while name in used and bump < 50:
            bump += 1
            name = representative_name(dim, code, gender, bump)
        used.add(name)
        card.persona_name = name
        card.name = f"{card.role} · {name}"
