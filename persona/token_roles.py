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
# Single-character verbs that jieba glues to what follows: "吃火锅", "看电影" carry the keyword,
# "不看", "没玩" negate like 不 + verb.
LIGHT_VERBS = frozenset("吃喝玩看打买学练追听读做去逛养带穿用刷泡")
NUMERAL_START = frozenset("0123456789零〇一二三四五六七八九十两几半")


def verb_negation(token: str) -> bool:
    """不看 / 没玩 / 不吃: a negated single-character verb, cut as one token."""
    return len(token) == 2 and token[0] in "不没" and token[1] in LIGHT_VERBS


def a_not_a(token: str) -> bool:
    """One-token A-not-A question: 喜不喜欢, 去没去, 好不好看."""
    return len(token) >= 3 and token[1] in "不没" and token[2] == token[0]
