"""One message in, one `Signals` out: interests, intents, motivations, content, attributes.

This runs once per message at ingest (hundreds of thousands of them on a first import), so
everything that can be decided ahead of time is: `Analyzer.__init__` folds the lexicon into a
token -> role bitmask, a token -> attribute-cue index and a token -> city table, and `analyse`
makes one tokenisation and one pass over the tokens, clause by clause. No regex is compiled
per call and no clock is read: the message timestamp is the only "now" (for "90后" → age).

Rules work on tokens and on clauses (runs of tokens between punctuation or spaces), because
Chinese chat negates and asks locally: "太贵了，有没有优惠？" is a complaint in one clause and
a question in the next.

* Negation: a negator up to `window` tokens before a cue in the same clause; degree adverbs
  (很, 太 …) do not use up the window. A-not-A questions ("好不好用", "会不会") are not
  negations.
* Questions: "?", a question marker (有没有, 怎么, 多少 …), a clause-final 吗/嘛/么, a
  clause-final 呢 that is not a statement in progress, or an A-not-A form. A question about a
  cue is not a statement of it: weak complaint cues and praise are dropped in a question clause
  ("会不会很贵？"), unless the question presupposes them ("为什么还没到？"); "facts" (没收到,
  坏了) and purchase cues ("怎么买？") are kept.
* Motivations are counted whether negated or asked: "不贵" still shows price awareness.
* Interests and motivations score the number of distinct cue words hit, at most 3.
* Attributes need self-reference (see cues.toml); talk about others never sets them.
* Age: "我今年28" / "28岁" → that age; "90后" → born 1990–1999, taken at the cohort midpoint
  1995 (a "95后" at 1997), aged at the message's year; "我是90年的" → born 1990. Ages under 18
  are not recorded (minors are not profiled); buckets are 18-24, 25-34, 35-44, 45-54, 55+.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from persona.lexicon import CUE_KINDS, Lexicon
from persona.sentiment import complaint_verdict
from persona.signals import Signals
from persona.text import Tokenizer, normalise

# Message types (bot.events.MessageType values) that say nothing about interests or intent.
_SILENT = frozenset(
    {"system", "recall", "sticker", "red_packet", "transfer", "call", "location", "contact_card"}
)
_CONTENT = {"image": "image", "video": "video", "link": "link", "mini_program": "mini_program"}
# Shared media whose text (if any) is a placeholder, not the member's words.
_MEDIA_ONLY = frozenset({"image", "video"})

MAX_KEYWORDS = 6
MAX_SCORE = 3.0

# What `Analyzer._token_info` gives per distinct token: (token for the cue rules, role bits,
# starts with a numeral, question bits).
_TokenInfo = tuple[str, int, bool, int]
# question bits: a question marker or an A-not-A token; starts with a CJK character; starts
# with 不/没 (the middle of a split A-not-A)
_Q_ASKS = 1 << 0
_Q_CJK = 1 << 1
_Q_NOT_START = 1 << 2
# Distinct tokens remembered by `_token_info` / `_can_be_keyword`; then the memo starts over.
_TOKEN_MEMO_MAX = 200_000

# token role bits
_NEG = 1 << 0
_INTEREST = 1 << 1
_MOTIVE = 1 << 2
_COMPLAINT = 1 << 3
_STRONG = 1 << 4
_PRAISE = 1 << 5
_SOFT = 1 << 6
_PURCHASE = 1 << 7
_QMARK = 1 << 8
_ATTR = 1 << 9  # attribute cue word, city spelling or place word
_VERDICT = _COMPLAINT | _STRONG | _PRAISE | _SOFT | _PURCHASE
_NEEDS_NEGATION = _INTEREST | _VERDICT
_TOPICAL = _INTEREST | _MOTIVE

_HOW = frozenset({"怎么", "咋"})
_NOT_PAIR = ("不", "没")  # the middle of an A-not-A question split over tokens
# Single-character verbs that jieba glues to what follows: "吃火锅", "看电影" carry the keyword,
# "不看", "没玩" negate like 不 + verb.
_LIGHT_VERBS = frozenset("吃喝玩看打买学练追听读做去逛养带穿用刷泡")
_KIND_STRENGTH = {"identity": 4, "mine": 3, "kin": 2, "implicit": 1}
_NUMERAL_START = frozenset("0123456789零〇一二三四五六七八九十两几半")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_COHORT_RE = re.compile(r"^([0-9零〇一二三四五六七八九]{2})后$")
# Around a cohort these make it talk about a generation, not the speaker ("现在的00后们").
_GENERIC_BEFORE = frozenset({"的", "这些", "那些", "很多", "好多", "现在", "一群", "都是", "一帮"})
_GENERIC_AFTER = frozenset({"们", "都", "的人", "人"})
_AGE_UNITS = frozenset({"岁", "周岁"})
_AGE_LEAD = frozenset({"今年", "已经", "都", "也", "快", "刚", "满", "刚满", "马上", "才", "虚岁"})
_AGE_TAIL = frozenset({"了", "啦", "咯", "哦"})
_BIRTH_AFTER = frozenset({"的", "生", "出生", "生人"})


def _number(token: str) -> int | None:
    """Arabic digits, or a Chinese numeral with 十 up to 99 ("二十八", "三十")."""
    if token.isascii():
        return int(token) if token.isdigit() and len(token) <= 4 else None
    head, ten, tail = token.partition("十")
    if not ten or len(head) > 1 or len(tail) > 1:
        return None  # "二八" or "两千" are not ages
    tens = _CN_DIGITS.get(head, -1) if head else 1
    ones = _CN_DIGITS.get(tail, -1) if tail else 0
    return tens * 10 + ones if tens > 0 and ones >= 0 else None


def age_bucket(age: int) -> str | None:
    """The age range for an age in years; None under 18 (not recorded) or implausible."""
    if age < 18 or age > 100:
        return None
    if age <= 24:
        return "18-24"
    if age <= 34:
        return "25-34"
    if age <= 44:
        return "35-44"
    if age <= 54:
        return "45-54"
    return "55+"


def _verb_negation(token: str) -> bool:
    """不看 / 没玩 / 不吃: a negated single-character verb, cut as one token."""
    return len(token) == 2 and token[0] in "不没" and token[1] in _LIGHT_VERBS


def _a_not_a(token: str) -> bool:
    """One-token A-not-A question: 喜不喜欢, 去没去, 好不好看."""
    return len(token) >= 3 and token[1] in "不没" and token[2] == token[0]


@dataclass(slots=True)
class _Found:
    """What one message has revealed so far (the working state of `analyse`)."""

    interests: dict[str, set[str]] = field(default_factory=dict)
    motives: dict[str, set[str]] = field(default_factory=dict)
    question: bool = False
    complaint: bool = False
    purchase: bool = False
    praise: bool = False
    negated: bool = False  # a cue the rules saw negated: "不贵", "不想买", "不喜欢旅行"
    # field -> (strength, order, value)
    attrs: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    city: str | None = None
    age: str | None = None
    # the previous clause was about the speaker ("我老家在四川，现在在广州上班"): Chinese drops
    # the repeated subject, so a subjectless "在广州" in this clause is still the speaker
    carry_self: bool = False


class Analyzer:
    """Turns one message into `Signals`; build once, call `analyse` per message."""

    def __init__(self, lexicon: Lexicon, tokenizer: Tokenizer) -> None:
        lx = lexicon
        self._lx = lx
        self._cut = tokenizer.cut

        roles: dict[str, int] = {}

        def mark(words: Iterable[str], bit: int) -> None:
            for w in words:
                roles[w] = roles.get(w, 0) | bit

        mark(lx.negators, _NEG)
        mark(lx.interest_index, _INTEREST)
        mark(lx.motivations, _MOTIVE)
        mark(lx.complaint, _COMPLAINT)
        mark(lx.complaint_strong, _STRONG)
        mark(lx.praise, _PRAISE)
        mark(lx.praise_soft, _SOFT)
        mark(lx.purchase, _PURCHASE)
        mark(lx.question_markers, _QMARK)
        for w in lx.fixed:  # fixed expressions are units with no role at all
            roles.pop(w, None)

        # token -> [(strength, order, kind, field, value)], strongest first
        attr: dict[str, list[tuple[int, int, str, str, str]]] = {}
        for order, v in enumerate(lx.attribute_values):
            for kind in CUE_KINDS:
                for w in getattr(v, kind):
                    attr.setdefault(w, []).append(
                        (_KIND_STRENGTH[kind], -order, kind, v.field, v.value)
                    )
        self._attr = {w: sorted(c, reverse=True) for w, c in attr.items()}
        mark(self._attr, _ATTR)

        # token -> (canonical city, from the bundled list?); "杭州市"/"德清县" included.
        # jieba place words (ns ending in 市/县) are a weaker fallback: strong cues only.
        places: dict[str, tuple[str, bool]] = {}
        for p in getattr(tokenizer, "places", ()):
            if p not in lx.place_exclude:
                places[p] = (p[:-1], False)
        for spelling, canonical in lx.cities.items():
            for form in (spelling, spelling + "市", spelling + "县"):
                places[form] = (canonical, True)
        self._places = places
        self._demonyms = {k + "人": v for k, v in places.items() if v[1]}  # 杭州人
        mark(places, _ATTR)
        mark(self._demonyms, _ATTR)
        self._roles = roles

        self._occupation_words = frozenset(
            w for v in lx.attribute_values if v.field == "occupation" for w in v.identity
        )
        self._self_any = lx.self_words | lx.self_group
        self._not_asking_after = tuple(lx.indefinite_after | lx.exclaim_after) or ("\0",)
        self._non_keywords = lx.stopwords | lx.negators | lx.question_markers | lx.fixed
        # token -> may it be a keyword (`_can_be_keyword`), filled as tokens are met
        self._keyword_ok: dict[str, bool] = {}
        # token -> `_token_info`, filled as tokens are met
        self._token_memo: dict[str, _TokenInfo] = {}

    # ----------------------------------------------------------------------------------------
    def analyse(self, text: str | None, msg_type: str, ts: datetime) -> Signals:
        """Signals of one message; `ts` (timezone-aware) only turns cohorts into ages.

        Only `ts.year` is read, and handlers/ingest.py relies on that: it analyses each
        distinct (text, type, year) once. A rule that needs more of the time must change
        that cache key too.
        """
        if msg_type == "system":
            return Signals(join=parse_join_notice(text or ""))
        if msg_type in _SILENT:
            return Signals()
        content = _CONTENT.get(msg_type)
        if msg_type in _MEDIA_ONLY or not text:
            return Signals(content=content)
        norm = normalise(text)
        if norm.urls and content is None:
            content = "link"
        if not norm.text:
            return Signals(content=content)

        raw = self._cut(norm.text)
        toks = [t.lower() for t in raw]
        lx = self._lx
        memo = self._token_memo
        infos: list[_TokenInfo] = []
        for t in toks:
            info = memo.get(t)
            if info is None:
                if len(memo) >= _TOKEN_MEMO_MAX:
                    memo.clear()
                info = memo[t] = self._token_info(t)
            infos.append(info)
        # Tokens where a question can start (see `_question`): almost always none.
        last = len(infos) - 1
        hot = [i for i, info in enumerate(infos) if info[3] and (
            info[3] & _Q_ASKS
            or (info[3] & _Q_CJK and i < last and infos[i + 1][3] & _Q_NOT_START))]
        found = _Found()
        speaker_clause = False
        for s, e, qmark in self._clauses(toks):
            found.carry_self = speaker_clause
            speaker_clause = self._about_speaker(toks, s, e)
            asked, why, neutral = self._question(toks, s, e, qmark, hot)
            found.question = found.question or asked
            for i in range(s, e):
                t, role, numeral, _q = infos[i]
                if not (role or numeral):
                    continue
                if role & _MOTIVE:
                    for code in lx.motivations[t]:
                        found.motives.setdefault(code, set()).add(t)
                if role & _NEEDS_NEGATION:
                    self._verdicts(toks, s, e, i, t, role, asked, why, neutral, found)
                if role & _ATTR or numeral:
                    self._attribute(toks, s, e, i, ts, found)

        # The rules already know what this message is (a question, an order, praise, a negated
        # cue, an idiom, the speaker saying who they are): the model adds no complaint to it.
        settled = (found.question or found.purchase or found.praise or found.negated
                   or bool(found.attrs) or found.city is not None or found.age is not None
                   or not lx.fixed.isdisjoint(toks))
        return Signals(
            interests={
                c.code: float(min(len(found.interests[c.code]), MAX_SCORE))
                for c in lx.interests
                if c.code in found.interests
            },
            intents=[
                code
                for code, on in (
                    ("question", found.question),
                    ("complaint", complaint_verdict(norm.text, found.complaint, settled,
                                                    bool(found.interests or found.motives))),
                    ("purchase_intent", found.purchase),
                    ("praise", found.praise),
                )
                if on
            ],
            motivations={
                code: float(min(len(found.motives[code]), MAX_SCORE))
                for code in ("price", "quality", "service")
                if code in found.motives
            },
            content=content,
            attributes=self._attribute_dict(found),
            keywords=self._keywords(raw, toks),
        )

    # ----------------------------------------------------------------------------------------
    @staticmethod
    def _clauses(toks: list[str]) -> list[tuple[int, int, bool]]:
        """(start, end, followed by "?") for each run of tokens between punctuation/spaces.

        jieba emits every punctuation mark and space as a one-character token, so a break is
        a one-character token that is not a letter, digit or CJK character.
        """
        clauses: list[tuple[int, int, bool]] = []
        start = -1
        for i, t in enumerate(toks):
            if len(t) == 1 and not t.isalnum():
                if start >= 0:
                    clauses.append((start, i, False))
                    start = -1
                if t == "?" and clauses and not clauses[-1][2]:
                    clauses[-1] = (clauses[-1][0], clauses[-1][1], True)
            elif start < 0:
                start = i
        if start >= 0:
            clauses.append((start, len(toks), False))
        return clauses

    def _token_info(self, token: str) -> _TokenInfo:
        """What the analyser needs of one (lower-cased) token wherever it stands: a pure
        function of the token and the lexicon, so `analyse` works it out once per distinct
        token instead of at every occurrence.

        (the token as the cue rules see it, its role bits, whether that starts with a
        numeral, the token's question bits). A token without a role may still name an
        interest through its stem: "iphone15" → "iphone", "吃火锅" → "火锅".
        """
        roles = self._roles
        t, role = token, roles.get(token, 0)
        if not role:
            stem = ""
            if t.isascii() and t[-1].isdigit():
                stem = t.rstrip("0123456789")  # "iphone15" → "iphone"
            elif len(t) >= 3 and t[0] in _LIGHT_VERBS:
                stem = t[1:]  # "吃火锅" → "火锅"
            if stem and roles.get(stem, 0) & _INTEREST:
                t, role = stem, _INTEREST
        q = 0
        if roles.get(token, 0) & _QMARK:
            q |= _Q_ASKS
        if "\u4e00" <= token[0] <= "\u9fff":
            q |= _Q_CJK
            if _a_not_a(token):  # 喜不喜欢
                q |= _Q_ASKS
            if token[0] in _NOT_PAIR:
                q |= _Q_NOT_START
        return (t, role, t[0] in _NUMERAL_START, q)

    def _question(
        self, toks: list[str], s: int, e: int, qmark: bool, hot: list[int]
    ) -> tuple[bool, bool, set[int]]:
        """(asks something, presupposes it as in "为什么还没到", indices of A-not-A 不/没).

        `hot` holds the message's tokens where the loop below can do anything (a question
        marker, an A-not-A token, a CJK token before one starting with 不/没; see `analyse`):
        every other token would only be skipped.
        """
        lx = self._lx
        roles = self._roles
        asked = qmark
        why = False
        neutral: set[int] = set()
        for i in hot:
            if i < s or i >= e:
                continue
            t = toks[i]
            nxt = toks[i + 1] if i + 1 < e else ""
            if roles.get(t, 0) & _QMARK:
                if nxt.startswith(self._not_asking_after):
                    continue  # 什么都行 / 怎么这么贵: not a question
                asked = True
                if t in lx.presupposing or (t in _HOW and nxt.startswith(lx.presupposing_after)):
                    why = True
            elif not ("\u4e00" <= t[0] <= "\u9fff"):
                continue
            elif len(t) >= 3 and t[1] in "不没" and t[2] == t[0]:  # _a_not_a: 喜不喜欢
                asked = True
            elif nxt[:1] not in _NOT_PAIR:
                continue
            elif len(nxt) == 1:
                if i + 2 < e and toks[i + 2].startswith(t):
                    asked = True  # 好 不 好用 / 贵 不 贵
                    neutral.add(i + 1)
            elif nxt.startswith(t, 1):
                asked = True  # 会 不会 / 好 不好用
                neutral.add(i + 1)
        if not asked:
            last = toks[e - 1]
            if last in lx.question_particles or (len(last) > 1 and last[-1] == "吗"):
                asked = True
            elif last in lx.soft_particles:
                blockers = lx.soft_blockers
                asked = not any(
                    toks[j] in blockers or toks[j][0] in blockers for j in range(s, e - 1)
                )  # "还没到呢", "我在上班呢": statements in progress
        return asked, why, neutral

    def _negated(self, toks: list[str], s: int, i: int, neutral: set[int]) -> bool:
        """A negator within the window before token i (degree adverbs are free)?"""
        lx = self._lx
        budget = lx.negation_window
        j = i - 1
        while j >= s and budget > 0:
            t = toks[j]
            if (t in lx.negators or _verb_negation(t)) and j not in neutral:
                return True
            if t not in lx.negation_skip:
                budget -= 1
            j -= 1
        return False

    def _verdicts(
        self,
        toks: list[str],
        s: int,
        e: int,
        i: int,
        t: str,
        role: int,
        asked: bool,
        why: bool,
        neutral: set[int],
        found: _Found,
    ) -> None:
        """Interest keywords and intent cues, which negation (and questions) can cancel."""
        lx = self._lx
        neg = self._negated(toks, s, i, neutral)
        found.negated = found.negated or neg
        # "宝宝们晚上好" / "宝宝，这款适合你": a seller's form of address, not a baby
        vocative = (i + 1 < e and toks[i + 1] == "们") or (e - s == 1 and t in lx.others)
        if role & _INTEREST and not neg and not vocative:
            for code in lx.interest_index[t]:
                found.interests.setdefault(code, set()).add(t)
        if role & _PURCHASE and not neg:
            found.purchase = True
        if role & _STRONG and not neg:
            found.complaint = True
        if role & _COMPLAINT and not neg and (why or not asked):
            found.complaint = True
        if role & _PRAISE and not asked:
            if neg:
                found.complaint = True  # 不满意 / 不好用 / 不推荐
            else:
                found.praise = True
        # "我喜欢旅行" states an interest, not a verdict on a product; "不喜欢" is taste
        if (
            role & _SOFT
            and not neg
            and not asked
            and not any(toks[j] in lx.interest_index for j in range(i + 1, e))
        ):
            found.praise = True

    # ----------------------------------------------------------------------------------------
    def _keywords(self, raw: list[str], toks: list[str]) -> list[str]:
        """Content words in order of appearance: topics, not verdicts, quantities or fillers."""
        seen: set[str] = set()
        words: list[str] = []
        eligible = self._keyword_ok
        for original, t in zip(raw, toks, strict=True):
            ok = eligible.get(t)
            if ok is None:
                if len(eligible) >= _TOKEN_MEMO_MAX:
                    eligible.clear()
                ok = eligible[t] = self._can_be_keyword(t)
            if not ok or t in seen:
                continue
            seen.add(t)
            words.append(original)
            if len(words) == MAX_KEYWORDS:
                break
        return words

    def _can_be_keyword(self, t: str) -> bool:
        """Whether a (lower-cased) token may be a keyword at all: a pure function of the token
        and the lexicon, so `_keywords` asks it once per distinct token, not per occurrence."""
        if len(t) < 2 or t in self._non_keywords:
            return False
        role = self._roles.get(t, 0)
        return bool(role & _TOPICAL or t in self._places) or not (
            role & _VERDICT  # 想买, 不满意, 好用: already in `intents`
            or (t[0] in _NUMERAL_START and not _COHORT_RE.match(t))  # 两盒, 三次, 一枚
            or not any(ch.isalpha() for ch in t)  # 3.5, +1
            or _a_not_a(t)
            or _verb_negation(t)
            or t[-1] in "吗呢嘛"  # 有用吗
        )

    # ----------------------------------------------------------------------------------------
    # attributes
    def _others_before(self, toks: list[str], s: int, i: int, spouse_ok: bool = False) -> bool:
        """Is someone other than the speaker mentioned before position i in the clause?"""
        others = self._lx.others
        household = self._lx.household if spouse_ok else frozenset()
        for j in range(s, i):
            t = toks[j]
            if t in others and not (
                t in household and (j == s or self._subject_is_self(toks, s, j - 1))
            ):
                return True
        return False

    def _subject_is_self(self, toks: list[str], s: int, j: int, carry: bool = False) -> bool:
        """Is the nearest non-filler token at or before j a first-person word?

        With `carry`, a clause with no subject at all inherits the previous clause's speaker.
        """
        fillers = self._lx.fillers
        while j >= s and toks[j] in fillers:
            j -= 1
        return toks[j] in self._self_any if j >= s else carry

    def _about_speaker(self, toks: list[str], s: int, e: int) -> bool:
        """Does the clause open with the speaker as subject and mention nobody else?"""
        fillers = self._lx.fillers
        j = s
        while j < e and toks[j] in fillers:
            j += 1
        return j < e and toks[j] in self._self_any and not self._others_before(toks, s, e)

    def _identity(self, toks: list[str], s: int, e: int, i: int) -> bool:
        """Is token i the speaker's identity: "我是X", "我当X", "作为X", "本人X", "X一枚"?"""
        lx = self._lx
        if i + 1 < e and toks[i + 1] in lx.identity_after:
            return not self._others_before(toks, s, i)
        for j in range(i - 1, max(s, i - lx.attribute_window) - 1, -1):
            t = toks[j]
            if t in lx.identity_markers:
                return True
            if t in lx.copulas:
                return self._subject_is_self(toks, s, j - 1)
        return False

    def _cue_holds(self, kind: str, fld: str, toks: list[str], s: int, e: int, i: int) -> bool:
        """Does the attribute cue at i meet the self-reference its kind requires?"""
        if kind == "identity":
            return self._identity(toks, s, e, i)
        if kind == "implicit":
            # "我老婆怀孕了": the spouse's pregnancy is the household's life stage too
            return not self._others_before(toks, s, i, spouse_ok=fld == "life_stage")
        if self._subject_is_self(toks, s, i - 1):  # mine: "我X", "我家的X", "我们X"
            return True
        # kin: a clause that opens with the word and goes on ("孩子的老师说…"), not a vocative
        return kind == "kin" and i == s and i + 1 < e and toks[i + 1] != "们"

    def _city_at(self, toks: list[str], s: int, e: int, i: int, listed: bool, carry: bool) -> bool:
        lx = self._lx
        prev = toks[i - 1] if i > s else ""
        nxt = toks[i + 1] if i + 1 < e else ""
        if prev in lx.city_before and not self._others_before(toks, s, i - 1):
            return True  # 坐标杭州 / 来自杭州
        if prev in lx.city_after_self and self._subject_is_self(toks, s, i - 2, carry):
            return True  # 我在杭州 / 我们住在杭州
        if nxt in ("人", "的") and self._identity(toks, s, e, i):
            return True  # 我是杭州人 / 我是上海的
        if not listed:
            return False  # jieba place words only with the strong cues above
        if prev in lx.self_group:
            return True  # 我们杭州…
        return nxt in lx.city_suffix and (i == s or prev in self._self_any)  # 杭州这边…

    def _attribute(
        self, toks: list[str], s: int, e: int, i: int, ts: datetime, found: _Found
    ) -> None:
        t = toks[i]
        cues = self._attr.get(t)
        if cues is not None:
            if i + 1 < e and toks[i + 1] in self._occupation_words:
                # "幼儿园老师": a workplace, not a family fact
                cues = [c for c in cues if c[3] == "occupation"]
            for strength, order, kind, fld, value in cues:
                held = found.attrs.get(fld)
                if held is not None and (held[0], held[1]) >= (strength, order):
                    continue
                if self._negated(toks, s, i, set()):
                    break  # 我不是宝妈 / 还没退休
                if self._cue_holds(kind, fld, toks, s, e, i):
                    found.attrs[fld] = (strength, order, value)

        if found.city is None:
            place = self._places.get(t)
            if place is not None and self._city_at(toks, s, e, i, place[1], found.carry_self):
                found.city = place[0]
            demonym = self._demonyms.get(t)
            if demonym is not None and self._identity(toks, s, e, i):
                found.city = demonym[0]

        if found.age is None and t[0] in _NUMERAL_START:
            found.age = self._age(toks, s, e, i, ts)

    def _attribute_dict(self, found: _Found) -> dict[str, str]:
        out: dict[str, str] = {}
        if found.city is not None:
            out["city"] = found.city
        if found.age is not None:
            out["age_range"] = found.age
        for fld in ("gender", "life_stage", "occupation"):
            if fld in found.attrs:
                out[fld] = found.attrs[fld][2]
        return out

    def _age(self, toks: list[str], s: int, e: int, i: int, ts: datetime) -> str | None:
        t = toks[i]
        prev = toks[i - 1] if i > s else ""
        nxt = toks[i + 1] if i + 1 < e else ""
        m = _COHORT_RE.match(t)
        digits = m.group(1) if m else (t if nxt == "后" and len(t) == 2 else None)
        if digits is not None:  # 90后 / 九零后
            if nxt in _GENERIC_AFTER or prev in _GENERIC_BEFORE or self._others_before(toks, s, i):
                return None
            if not all(ch.isdigit() or ch in _CN_DIGITS for ch in digits):
                return None
            n = int("".join(str(_CN_DIGITS.get(ch, ch)) for ch in digits))
            if n % 5:
                return None  # cohorts are decades (90后) or half decades (95后)
            born = (1900 if n >= 30 else 2000) + n
            midpoint = born + (5 if n % 10 == 0 else 2)
            return age_bucket(ts.year - midpoint) if born <= ts.year else None

        if len(t) > 1 and t[-1] == "岁":  # "28岁" / "三十岁" cut as one token
            t, nxt = t[:-1], "岁"
        n = _number(t)
        if n is None or self._others_before(toks, s, i):
            return None
        if nxt == "年" and i + 2 < e and toks[i + 2] in _BIRTH_AFTER:  # 我是90年的
            if not any(toks[j] in self._self_any for j in range(s, i)):
                return None
            year = n if len(t) == 4 else (1900 if n >= 30 else 2000) + n
            return age_bucket(ts.year - year) if 1920 <= year <= ts.year else None
        if not (nxt in _AGE_UNITS or (prev == "今年" and (not nxt or nxt in _AGE_TAIL))):
            return None
        before = toks[s:i]
        if any(b in self._self_any for b in before) or all(b in _AGE_LEAD for b in before):
            return age_bucket(n)
        return None


# WeChat's own join notices, as exports keep them: '"小禾助手"邀请"王丽"加入了群聊' and
# '"陈晨"通过扫描"小禾助手"分享的二维码加入群聊' (quotes straight or curly).
_JOIN_INVITE = re.compile(r'^["“]?(?P<inviter>[^"”]+)["”]?邀请["“]?(?P<member>.+?)["”]?加入了群聊')
_JOIN_QR = re.compile(
    r'^["“]?(?P<member>[^"”]+)["”]?通过扫描["“]?(?P<inviter>[^"”]+?)["”]?分享的二维码加入群聊')


def parse_join_notice(text: str) -> dict[str, str] | None:
    """The join channel a system notice states, or None for any other notice."""
    m = _JOIN_QR.match(text.strip())
    if m:
        return {"channel": "qrcode", "inviter": m.group("inviter")}
    m = _JOIN_INVITE.match(text.strip())
    if m:
        return {"channel": "invite", "inviter": m.group("inviter")}
    return None
