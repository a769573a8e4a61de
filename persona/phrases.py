"""Pain points and needs as phrases a person would write: "物流慢", "客服不回复", "有没有大码".

A keyword ("物流", "客服", "性价比") says what a member talked about, not what was wrong, and a
card that lists keywords as pain points reads as fragments. A complaint names an aspect and an
opinion of it, often negated: "物流太慢了" → "物流慢", "客服一直不回" → "客服不回", "电池鼓包
了" → "电池鼓包", or a symptom that is a complaint on its own ("漏尿", "有异味"). A need is the
question or wish itself, trimmed of greetings and particles: "请问有大码吗？" → "有没有大码".

Each phrase carries a category (quality / delivery / service / price / other), so a script can
answer a delivery complaint as one, and the product the message is about ("奶粉", "NAS"): a
noun by the dictionary's part of speech that none of the lexicon lists claims, so an opinion
word or a fragment is never taken for a product.

The vocabulary is general shopping language (persona/phrases_lexicon.py), not any one shop's.
Pure: text in, phrases out. The jieba dictionary is read once, on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from persona.phrases_lexicon import (
    ASPECTS,
    DEGREES,
    FILLERS,
    NEED_CATEGORIES,
    NEEDS_THING,
    NEGATABLE,
    NEGATIONS,
    NOT_PRODUCTS,
    ONLY_MEI,
    OPINIONS,
    SYMPTOMS,
)
from persona.text import Tokenizer, make_tokenizer, normalise


@dataclass(frozen=True, slots=True)
class Phrase:
    """One pain point or need as the member put it."""

    text: str
    category: str
    # the aspect ("物流") or product ("纸尿裤") the phrase is about, when the message names one
    aspect: str | None = None
    # the product the message is about (first noun that is no aspect or opinion), if any
    product: str | None = None


@dataclass(frozen=True, slots=True)
class About:
    """What one message is about, for the reply script: its first pain (or need) and the
    products it names, first named first."""

    category: str | None = None
    phrase: str | None = None
    products: tuple[str, ...] = ()


# Clauses: a complaint's aspect and opinion stand in one clause ("物流慢，包装好" is two).
_CLAUSE_RE = re.compile(r"[，,。.！!？?；;：:~～\n…、]+|\s{2,}")
_QUESTION_END_RE = re.compile(r"[?？]")
_ASCII_WORD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+\-]{1,15}$")
_CJK_RE = re.compile(r"^[\u4e00-\u9fff]{2,6}$")
_NAME_PART_RE = re.compile(r"^[A-Za-z0-9]{1,4}$")
# "和图片不一样", "跟描述不符": the goods are not what was shown.
_MISMATCH_RE = re.compile(r"(?:和|跟|与)(图片|描述|详情页|宣传|实物|照片|介绍)[^，,。]{0,4}?"
                          r"(?:不一样|不符|不同|差太多|差很多|差别很大)")
# Greetings, addressing and hedges before a question; particles after it.
_NEED_LEAD_RE = re.compile(
    r"^(?:(?:请问|想问一下|想问下|想问|问一下|问下|我想问|那个|就是|那|你好|您好|hello|hi|"
    r"姐妹们|大家|亲们|亲|在吗|老板|掌柜|客服|小哥哥|小姐姐|我想|我)\s*)+", re.IGNORECASE)
_NEED_TAIL_RE = re.compile(r"[吗呢呀啊吧么嘛哈哦呗啦咩]+$")
_NEED_CUES = ("有没有", "有无", "能不能", "可不可以", "是不是", "想要", "想买", "想入", "想找",
              "求推荐", "求", "推荐", "多少钱", "什么价", "怎么", "什么时候", "哪", "几", "适合",
              "适用", "能用", "能吃", "帮我留", "要一", "预定", "预订", "还有")
# Characters that make a made-up word a phrase rather than a thing.
_FUNCTION_CHARS = frozenset("的了吗呢么不没很太能会要想点些个一多少什怎哪几吧啊呀"
                            "来去给帮留让被把在是有小这那好真挺蛮更最难用买吃喝看中")
# What a question asks about a product (现货, 多少钱) is no product.
_NEED_WORDS = frozenset(c for cues in NEED_CATEGORIES.values() for c in cues)
NEED_MAX_CHARS = 16
# Question endings that read as broken without their "吗".
_NEEDS_PARTICLE = ("有", "能", "可以", "行", "好", "对", "到", "在")
ASPECT_WINDOW = 4  # content tokens looked back from an opinion for its aspect


class _Tools(NamedTuple):
    tokenizer: Tokenizer
    nouns: frozenset[str]  # the dictionary's common nouns
    others: frozenset[str]  # its other words, person names aside
    verbs: frozenset[str]  # its verbs (a subset of `others`)


@cache
def _tools() -> _Tools:
    """The tokenizer (the bundled lexicon's words and these lists held together) and the
    dictionary's words by part of speech, read once per process."""
    from persona.resources import default_lexicon

    extra = {w for w in (*ASPECTS, *SYMPTOMS, *OPINIONS, *NEGATABLE) if len(w) >= 2}
    words = [*default_lexicon().user_words(), *((w, 20000) for w in sorted(extra))]
    return _Tools(make_tokenizer("auto", words), *_dictionary_tags())


def prepare() -> None:
    """Read the dictionary now (about two seconds), so the first message that needs a phrase
    does not wait for it: the live bot calls this while warming up."""
    _tools()


def _dictionary_tags() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """jieba's dictionary words split by part of speech: common nouns, everything else but
    person names, and the verbs among those. A word in none was made up by the HMM or is a
    "name"."""
    import jieba

    nouns: set[str] = set()
    others: set[str] = set()
    verbs: set[str] = set()
    with jieba.get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) != 3:
                continue
            word, tag = parts[0], parts[2]
            if tag in ("n", "nz", "ng", "eng"):
                nouns.add(word)
            elif tag != "nr":  # places and organisations are no products either
                others.add(word)
                if tag in ("v", "vn"):
                    verbs.add(word)
            # "nr" (person names) holds many things mistagged (维生素, 太贵): judged like a
            # word the dictionary does not know
    return frozenset(nouns), frozenset(others), frozenset(verbs)


def _tokens(text: str) -> list[list[str]]:
    """Clauses of content tokens (spaces dropped)."""
    tk = _tools()[0]
    clean = normalise(text).text
    return [[t for t in tk.cut(part) if t.strip()]
            for part in _CLAUSE_RE.split(clean) if part.strip()]


def _lexical(word: str) -> bool:
    return (word in ASPECTS or word in OPINIONS or word in SYMPTOMS or word in NEGATABLE
            or word in FILLERS or word in NEGATIONS)


# Per word, not per message: a chat's vocabulary is small and its messages many.
@lru_cache(maxsize=200_000)
def is_product_word(word: str) -> bool:
    """A noun that can name a product in a script: a dictionary noun or an unknown word, never
    an aspect, opinion, person, time or chat filler (and never a fragment with a negation or
    degree word in front)."""
    _, nouns, others, _ = _tools()
    if word in NOT_PRODUCTS or _lexical(word) or _split(word)[2] != word or word in _NEED_WORDS:
        return False
    if _ASCII_WORD_RE.match(word):
        return True
    if not _CJK_RE.match(word):
        return False
    if word in nouns:
        return True
    # a word the HMM made up (or a mistagged "name"): a noun unless it holds a function
    # character ("便宜点", "能发") or ends in a dictionary word that is no noun
    return (word not in others and not any(c in _FUNCTION_CHARS for c in word)
            and word[-2:] not in others)


@lru_cache(maxsize=200_000)
def _split(word: str) -> tuple[str, str, str]:
    """(negation, degree, core) of one token: "不太好" → ("不", "太", "好"), "太慢" → ("", "太",
    "慢"). A token that is itself a lexicon word is its own core."""
    if word in OPINIONS or word in SYMPTOMS or word in NEGATABLE:
        return "", "", word
    if word.endswith("了") and len(word) > 1:  # "坏了", "烂了"
        neg, deg, core = _split(word[:-1])
        if core != word[:-1] or core in OPINIONS or core in SYMPTOMS:
            return neg, deg, core
    neg = next((n for n in NEGATIONS if word.startswith(n) and len(word) > len(n)), "")
    rest = word[len(neg):]
    if neg and (rest in NEGATABLE or rest in OPINIONS):
        return neg, "", rest
    for deg in DEGREES:
        core = rest[len(deg):]
        if rest.startswith(deg) and core and (core in OPINIONS or core in NEGATABLE):
            return neg, deg, core
    return "", "", word


def _is_negation(word: str) -> bool:
    """"不", "没有", and a negation with its degree word in one token ("不太", "不怎么")."""
    if word in NEGATIONS:
        return True
    neg = next((n for n in NEGATIONS if word.startswith(n)), "")
    return bool(neg) and word[len(neg):] in DEGREES


@dataclass(slots=True)
class _Spot:
    """An opinion found in a clause, before its aspect is known."""

    index: int
    start: int  # first token of the opinion (its negation, or a "有" before a symptom)
    text: str  # as it will read after the aspect
    core: str
    category: str | None
    symptom: bool
    negated: bool
    degree: str


def _spots(clause: Sequence[str]) -> list[_Spot]:
    out: list[_Spot] = []
    for i, word in enumerate(clause):
        neg, deg, core = _split(word)
        start = i
        if not neg:
            j = i - 1
            while j >= 0 and j >= i - 3 and clause[j] in FILLERS:
                j -= 1
            if j >= 0 and j >= i - 3 and _is_negation(clause[j]):
                neg, start = clause[j], j
        if core in SYMPTOMS:
            if neg:
                continue  # "没有过敏"
            has = i > 0 and clause[i - 1] == "有"
            out.append(_Spot(i, i - 1 if has else i, ("有" if has else "") + core, core,
                             SYMPTOMS[core], True, False, deg))
        elif core in OPINIONS and not neg:
            out.append(_Spot(i, i, core, core, OPINIONS[core], False, False, deg))
        elif core in NEGATABLE and neg and (core not in ONLY_MEI or "没" in neg):
            out.append(_Spot(i, start, neg + core, core, NEGATABLE[core], False, True, deg))
    return out


def _aspect(clause: Sequence[str], spot: _Spot) -> tuple[str | None, bool]:
    """(aspect or product, is it an aspect word) nearest before the opinion, or (None, False)."""
    seen = 0
    j = spot.start - 1
    while j >= 0 and seen < ASPECT_WINDOW:
        word = clause[j]
        if word in ASPECTS:
            return word, True
        prefix = next((w for w in (word[:2], word[:3]) if w in ASPECTS and w != word), None)
        if prefix:  # "价格比上次贵", "物流信息不更新"
            return prefix, True
        if is_product_word(word):
            k = j
            while k > 0 and is_product_word(clause[k - 1]):
                k -= 1
            return "".join(clause[k : j + 1]), False
        if word not in FILLERS and not word[0].isdigit() and word != "有":
            seen += 1
        j -= 1
    return None, False


def _products(clauses: Iterable[Sequence[str]]) -> list[str]:
    """Runs of product nouns ("手机散热器" from 手机 + 散热器), first named first."""
    out: list[str] = []
    for clause in clauses:
        run: list[str] = []
        for word in [*clause, ""]:
            # a letter or digit inside a name holds it together: "维生素D滴剂", "iPhone 15 壳"
            if word and (is_product_word(word) or (run and _NAME_PART_RE.match(word))):
                run.append(word)
                continue
            while run and not is_product_word(run[-1]):
                run.pop()
            if run and "".join(run) not in out:
                out.append("".join(run))
            run = []
    return out


# A lone one-character opinion of price or delivery reads as its usual aspect: "太贵了" →
# "价格贵", "太慢了" → "物流慢", so it counts with the members who named the aspect.
USUAL_ASPECT = {"price": "价格", "delivery": "物流"}


def _pain(clause: Sequence[str], spot: _Spot, product: str | None,
          earlier: str | None) -> Phrase | None:
    """The phrase for one opinion: with its aspect, or the product it is about (in its
    clause, else `earlier`, the last product named before it), or alone when it says it all."""
    aspect, is_aspect = _aspect(clause, spot)
    if spot.core in NEEDS_THING and not aspect:
        return None
    single = len(spot.core) == 1
    ends = clause[spot.index].endswith("了") or (spot.index + 1 < len(clause)
                                                 and clause[spot.index + 1] == "了")
    doing = _slow_doing(clause, spot)
    if doing:  # "加热太慢了" → "加热慢": what the thing does is slow, not its delivery
        return Phrase(doing + spot.text, "quality", doing, product or aspect)
    if aspect and is_aspect:
        return Phrase(aspect + spot.text, ASPECTS[aspect], aspect, product)
    # alone, a negated verb of delivery, service or price says it all ("没发货", "不回复"),
    # and so does a symptom ("漏尿": the product is kept beside it, not in it)
    if spot.symptom or (spot.negated and spot.category in ("delivery", "service", "price")):
        return Phrase(spot.text, spot.category or "other", aspect, product or aspect)
    if single and not spot.negated and spot.category in USUAL_ASPECT and not aspect:
        usual = USUAL_ASPECT[spot.category]
        return Phrase(usual + spot.text, spot.category, usual, product)
    thing = aspect or (earlier if spot.category in ("quality", None) else None)
    if thing:  # "瓶子破损", "芒果烂了", "水果不新鲜"
        text = thing + spot.text + ("了" if single and ends else "")
        return Phrase(text, spot.category or "quality", thing, product or thing)
    if not (single or spot.negated):  # "破损", "卡顿" with nothing named
        return Phrase(spot.text, spot.category or "other", None, product)
    return None


def _slow_doing(clause: Sequence[str], spot: _Spot) -> str | None:
    """The verb a lateness word judges when it is not a delivery's: "加热太慢", "反应慢",
    "开机很慢" ("太慢了" alone, "发得太慢", "送得慢" stay 物流慢)."""
    if spot.category != "delivery" or spot.negated or spot.symptom:
        return None
    j = spot.start - 1
    while j >= 0 and clause[j] in FILLERS:
        j -= 1
    if j < 0:
        return None
    word = clause[j]
    if (len(word) < 2 or word not in _tools().verbs or word in NEGATABLE or word in OPINIONS
            or word in ASPECTS or _delivers(word)):
        return None
    return word


def _delivers(word: str) -> bool:
    """Is a lateness after this word its delivery's ("外卖", "邮寄", "送得")? Only asked of a
    verb that is no aspect and no negatable word: 发货, 配送, 送到 … never get here."""
    return word in _DELIVERY_WORDS or word[0] in "送发寄递"


# Words the dictionary calls verbs whose lateness is the delivery's ("外卖太慢了", "上门太慢").
_DELIVERY_WORDS = frozenset({"外卖", "订单", "东西", "快件", "邮寄", "出库", "上门"})


def _alternation(words: Iterable[str]) -> str:
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


# What `pains` needs in a text to find anything, as substrings: an opinion or a symptom, or a
# negation and a word it turns into a complaint, or a mismatch with the pictures.
_CORE_RE = re.compile(_alternation({*OPINIONS, *SYMPTOMS}))
_NEGATION_RE = re.compile(_alternation({n[0] for n in NEGATIONS}))
_NEGATABLE_RE = re.compile(_alternation(NEGATABLE))


def may_pain(clean: str) -> bool:
    """False when `pains` of this normalised text is surely empty: a few regex searches in C
    (≈ 4 µs) instead of a tokenisation (≈ 40), and three chat lines in four hold none of the
    words a pain needs. A necessary condition only: True says nothing."""
    return bool(_CORE_RE.search(clean) or _MISMATCH_RE.search(clean)
                or (_NEGATION_RE.search(clean) and _NEGATABLE_RE.search(clean)))


@lru_cache(maxsize=65536)
def pains(text: str) -> tuple[Phrase, ...]:
    """The aspect–opinion phrases of one complaint, in the order written, each once."""
    clauses = _tokens(text)
    products = _products(clauses)
    first = products[0] if products else None
    out: list[Phrase] = []
    for m in _MISMATCH_RE.finditer(normalise(text).text):
        out.append(Phrase(f"与{m.group(1)}不符", "quality", None, first))
    earlier: str | None = None
    for clause in clauses:
        for spot in _spots(clause):
            own = _products([clause[:spot.start]])
            p = _pain(clause, spot, own[-1] if own else earlier or first, earlier)
            if p and not any(p.text == q.text for q in out):
                out.append(p)
        named = _products([clause])
        earlier = named[-1] if named else earlier
    return tuple(out)


# "买几个", "几盒合适", "要多少份": how many to buy
_QUANTITY_RE = re.compile(
    r"买(几|多少)|(几|多少)(个|件|盒|瓶|袋|包|箱|份|只|斤|套)(合适|够|比较好)")


def need_category(text: str) -> str:
    """What a question or wish is about; "other" when no cue word says.

    A question of how many to buy ("手机散热器一次买几个合适") names a product whose name may
    hold an aspect word (散热), but it asks about none: only a cue word gives it a category."""
    for category, cues in NEED_CATEGORIES.items():
        if any(c in text for c in cues):
            return category
    if _QUANTITY_RE.search(text):
        return "other"
    for word, category in ASPECTS.items():
        if word in text:
            return category
    return "other"


@lru_cache(maxsize=65536)
def needs(text: str) -> tuple[Phrase, ...]:
    """The questions and wishes of one message as the member put them ("有没有大码",
    "想要无糖的", "适合几个月宝宝"), trimmed of greetings and particles, each once."""
    clean = normalise(text).text
    out: list[Phrase] = []
    pieces = re.split(r"(?<=[?？。！!，,；;\n])", clean)
    for piece in pieces:
        asked = bool(_QUESTION_END_RE.search(piece))
        body = _NEED_TAIL_RE.sub("", _CLAUSE_RE.sub("", piece).strip())
        wish = any(c in body for c in _NEED_CUES)
        if not (asked or wish or piece.rstrip().endswith(("吗", "呢"))):
            continue
        body = _NEED_LEAD_RE.sub("", body).strip()
        if body.startswith("有") and not body.startswith(("有没有", "有无")) and (
                piece.rstrip("?？ ").endswith("吗")):
            body = "有没有" + body[1:]
        body = _NEED_TAIL_RE.sub("", body)
        if body.endswith(_NEEDS_PARTICLE) and piece.rstrip("?？ ").endswith("吗"):
            body += "吗"  # "宁夏枸杞还有吗", not "宁夏枸杞还有"
        if not 2 <= len(body) <= NEED_MAX_CHARS:
            continue
        clauses = [[t for t in _tools()[0].cut(body) if t.strip()]]
        products = _products(clauses)
        first = products[0] if products else None
        category = need_category(body)
        # a question with neither a concern nor a thing in it is small talk ("上海的朋友有吗")
        if (category != "other" or first) and not any(p.text == body for p in out):
            out.append(Phrase(body, category, first, first))
    return tuple(out)


def about(text: str | None, complaint: bool) -> About:
    """What a triggering message is about: its first pain when it is a complaint, else its
    first need; and every product it names."""
    if not text:
        return About()
    clauses = _tokens(text)
    found = (pains(text) if complaint else ()) or needs(text)
    products = tuple(_products(clauses))
    if not found:
        return About(None, None, products)
    if complaint:
        # the thing complained of is named before or in its opinion's clause: "上次的护发素还行，
        # 这次的洗发水不推荐" is about 洗发水, "系统老是自动重启，看网课很受影响" not about 网课
        upto = next((i for i, c in enumerate(clauses) if _spots(c)), len(clauses) - 1)
        before = _products(clauses[:upto + 1])
        # a product named after its opinion only when the message names nothing else it is
        # about ("太贵了，这个奶粉"; 价格 there is the usual aspect, not a word of the message)
        mine, aspect = found[0].product, found[0].aspect
        keep = mine is not None and (mine in before or aspect is None or aspect not in text)
        products = tuple(dict.fromkeys([*([mine] if keep else []), *reversed(before)]))
    return About(found[0].category, found[0].text, products)


def is_opinion_word(word: str) -> bool:
    """A word that says how something is rather than what it is ("好难", "不慢", "太贵"):
    no topic for a label."""
    neg, deg, _ = _split(word)
    if neg or deg:
        return True
    return (word in OPINIONS or word in NEGATABLE or word in SYMPTOMS
            or (word.startswith(("好", "不", "没", "太", "很")) and len(word) <= 3
                and not is_product_word(word)))
