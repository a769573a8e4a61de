"""What the lexicon makes of a token: the role bits and token shapes the analyser's rules share.

`Analyzer.__init__` folds the lexicon into one token → role bitmask, so the per-token loop of
`analyse` asks one dict and tests bits instead of looking a token up in a dozen sets. The
intent rules (persona/intents.py), the self-attribute rules (persona/attributes.py) and the
analyser itself read these bits; they live here so those modules need not import each other.
"""

from __future__ import annotations

# token role bits
NEG = 1 << 0
INTEREST = 1 << 1
MOTIVE = 1 << 2
COMPLAINT = 1 << 3
STRONG = 1 << 4
PRAISE = 1 << 5
SOFT = 1 << 6
PURCHASE = 1 << 7
QMARK = 1 << 8
ATTR = 1 << 9  # attribute cue word, city spelling or place word
VERDICT = COMPLAINT | STRONG | PRAISE | SOFT | PURCHASE
NEEDS_NEGATION = INTEREST | VERDICT
TOPICAL = INTEREST | MOTIVE

# What `Analyzer._token_info` gives per distinct token: (token for the cue rules, role bits,
# starts with a numeral, question bits).
TokenInfo = tuple[str, int, bool, int]
# question bits: a question marker or an A-not-A token; starts with a CJK character; starts
# with 不/没 (the middle of a split A-not-A)
Q_ASKS = 1 << 0
Q_CJK = 1 << 1
Q_NOT_START = 1 << 2

NOT_PAIR = ("不", "没")  # the middle of an A-not-A question split over tokens
# Single characters that describe the noun they are glued to (鲜牛奶, 新手机, 大酒店, 女明星):
# size, age, freshness, taste, colour, sex. A closed class of Chinese, not a product list.
MODIFIERS = frozenset("新旧老大小巨迷嫩鲜纯生熟冷热冰温甜酸辣咸香淡浓白黑红绿黄蓝紫灰粉"
                      "男女童长短厚薄高低宽窄软硬干湿真假好")
# Single-character verbs that jieba glues to what follows: "吃火锅", "看电影" carry the keyword,
# "不看", "没玩" negate like 不 + verb.
LIGHT_VERBS = frozenset("吃喝玩看打买学练追听读做去逛养带穿用刷泡")
NUMERAL_START = frozenset("0123456789零〇一二三四五六七八九十两几半")


def compound_interest(token: str, roles: dict[str, int]) -> str | None:
    """The interest keyword inside a compound jieba keeps whole: "手机电池" → 手机,
    "中央空调" → 空调, "鲜牛奶" → 牛奶. Called only for jieba dictionary words (the
    tokenizer's `compounds`), never for what its HMM glued together.

    jieba's dictionary holds many noun-noun compounds, so a shopper's "手机电池一天要充三次"
    never shows the keyword 手机 as a token of its own. Only splits into two parts of at least
    two characters count, so a keyword followed by a suffix ("宝宝们", a form of address) is
    not read as one; a three-character word counts only as a describing character before a
    keyword (鲜牛奶, 新手机), never a verb before one (洗衣服). The last part is tried first:
    in a Chinese compound it names the thing, the first part what it is for.
    """
    if len(token) == 3:
        # 纯牛奶, 新手机: a describing character before a keyword; not 洗衣服, a chore
        tail = token[1:]
        return tail if token[0] in MODIFIERS and roles.get(tail, 0) & INTEREST else None
    for k in range(2, len(token) - 1):
        if roles.get(token[k:], 0) & INTEREST:
            return token[k:]
    for k in range(len(token) - 2, 1, -1):
        if roles.get(token[:k], 0) & INTEREST:
            return token[:k]
    return None


def verb_negation(token: str) -> bool:
    """不看 / 没玩 / 不吃: a negated single-character verb, cut as one token."""
    return len(token) == 2 and token[0] in "不没" and token[1] in LIGHT_VERBS


def a_not_a(token: str) -> bool:
    """One-token A-not-A question: 喜不喜欢, 去没去, 好不好看."""
    return len(token) >= 3 and token[1] in "不没" and token[2] == token[0]
