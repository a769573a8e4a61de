"""Self-referenced attributes: city, age range, gender, life stage and occupation.

A member's profile must only hold what they said about themselves, so an attribute cue
counts only with the self-reference its kind requires (see cues.toml): "我是宝妈" sets a life
stage, "我朋友是宝妈" does not; talk about others never sets anything.

* City: a place after "坐标" / "来自", after "我在" / "我们住在", "我是杭州人"; the bundled
  city list also takes "我们杭州…" and "杭州这边…"; jieba's own place words only the strong
  cues. A clause about the speaker lends its subject to the next, subjectless one
  ("我老家在四川，现在在广州上班").
* Age: "我今年28" / "28岁" → that age; "90后" → born 1990–1999, taken at the cohort midpoint
  1995 (a "95后" at 1997), aged at the message's year; "我是90年的" → born 1990. Ages under 18
  are not recorded (minors are not profiled); buckets are 18-24, 25-34, 35-44, 45-54, 55+.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from persona.lexicon import CUE_KINDS, Lexicon
from persona.token_roles import NUMERAL_START

_KIND_STRENGTH = {"identity": 4, "mine": 3, "kin": 2, "implicit": 1}
# From this strength up the speaker says who they are ("我是宝妈", "我家宝宝"); below it an
# attribute is only inferred from what they talk about ("孩子喝完就吐了", "奶粉结块了").
SAID_OF_SELF = _KIND_STRENGTH["mine"]
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
COHORT_RE = re.compile(r"^([0-9零〇一二三四五六七八九]{2})后$")
# Around a cohort these make it talk about a generation, not the speaker ("现在的00后们").
_GENERIC_BEFORE = frozenset({"的", "这些", "那些", "很多", "好多", "现在", "一群", "都是", "一帮"})
_GENERIC_AFTER = frozenset({"们", "都", "的人", "人"})
_AGE_UNITS = frozenset({"岁", "周岁"})
_AGE_LEAD = frozenset({"今年", "已经", "都", "也", "快", "刚", "满", "刚满", "马上", "才", "虚岁"})
_AGE_TAIL = frozenset({"了", "啦", "咯", "哦"})
_BIRTH_AFTER = frozenset({"的", "生", "出生", "生人"})

# (strength, order, kind, field, value) of one attribute cue
_Cue = tuple[int, int, str, str, str]
Negated = Callable[[list[str], int, int, set[int]], bool]


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


@dataclass(slots=True)
class SelfFacts:
    """What one message has revealed about the speaker so far."""

    # field -> (strength, order, value)
    attrs: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    city: str | None = None
    age: str | None = None
    # the previous clause was about the speaker ("我老家在四川，现在在广州上班"): Chinese drops
    # the repeated subject, so a subjectless "在广州" in this clause is still the speaker
    carry_self: bool = False

    def as_dict(self) -> dict[str, str]:
        """The Signals' attributes."""
        out: dict[str, str] = {}
        if self.city is not None:
            out["city"] = self.city
        if self.age is not None:
            out["age_range"] = self.age
        for fld in ("gender", "life_stage", "occupation"):
            if fld in self.attrs:
                out[fld] = self.attrs[fld][2]
        return out


class AttributeRules:
    """The self-reference rules over one lexicon; build once per analyser.

    `cues`, `places` and `demonyms` are the tokens these rules care about: the analyser marks
    them with the ATTR role so its loop calls `attribute` only for them (and for numerals).
    """

    def __init__(self, lexicon: Lexicon, places: frozenset[str] | tuple[str, ...],
                 negated: Negated) -> None:
        lx = lexicon
        self._lx = lx
        self._negated = negated
        # token -> [(strength, order, kind, field, value)], strongest first
        attr: dict[str, list[_Cue]] = {}
        for order, v in enumerate(lx.attribute_values):
            for kind in CUE_KINDS:
                for w in getattr(v, kind):
                    attr.setdefault(w, []).append(
                        (_KIND_STRENGTH[kind], -order, kind, v.field, v.value)
                    )
        self.cues = {w: sorted(c, reverse=True) for w, c in attr.items()}

        # token -> (canonical city, from the bundled list?); "杭州市"/"德清县" included.
        # jieba place words (ns ending in 市/县) are a weaker fallback: strong cues only.
        table: dict[str, tuple[str, bool]] = {}
        for p in places:
            if p not in lx.place_exclude:
                table[p] = (p[:-1], False)
        for spelling, canonical in lx.cities.items():
            for form in (spelling, spelling + "市", spelling + "县"):
                table[form] = (canonical, True)
        self.places = table
        self.demonyms = {k + "人": v for k, v in table.items() if v[1]}  # 杭州人
        self._occupation_words = frozenset(
            w for v in lx.attribute_values if v.field == "occupation" for w in v.identity
        )
        self.self_any = lx.self_words | lx.self_group

    def attribute(
        self, toks: list[str], s: int, e: int, i: int, ts: datetime, facts: SelfFacts
    ) -> None:
        """What token i (a cue word, a place or a numeral) says about the speaker."""
        t = toks[i]
        cues = self.cues.get(t)
        if cues is not None:
            if i + 1 < e and toks[i + 1] in self._occupation_words:
                # "幼儿园老师": a workplace, not a family fact
                cues = [c for c in cues if c[3] == "occupation"]
            for strength, order, kind, fld, value in cues:
                held = facts.attrs.get(fld)
                if held is not None and (held[0], held[1]) >= (strength, order):
                    continue
                if self._negated(toks, s, i, set()):
                    break  # 我不是宝妈 / 还没退休
                if self._cue_holds(kind, fld, toks, s, e, i):
                    facts.attrs[fld] = (strength, order, value)

        if facts.city is None:
            place = self.places.get(t)
            if place is not None and self._city_at(toks, s, e, i, place[1], facts.carry_self):
                facts.city = place[0]
            demonym = self.demonyms.get(t)
            if demonym is not None and self._identity(toks, s, e, i):
                facts.city = demonym[0]

        if facts.age is None and t[0] in NUMERAL_START:
            facts.age = self._age(toks, s, e, i, ts)

    def about_speaker(self, toks: list[str], s: int, e: int) -> bool:
        """Does the clause open with the speaker as subject and mention nobody else?"""
        fillers = self._lx.fillers
        j = s
        while j < e and toks[j] in fillers:
            j += 1
        return j < e and toks[j] in self.self_any and not self._others_before(toks, s, e)

    # ----------------------------------------------------------------------------------------
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
        return toks[j] in self.self_any if j >= s else carry

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
        return nxt in lx.city_suffix and (i == s or prev in self.self_any)  # 杭州这边…

    # ----------------------------------------------------------------------------------------
    # age
    def _age(self, toks: list[str], s: int, e: int, i: int, ts: datetime) -> str | None:
        """The age range token i gives the speaker, from a cohort ("90后") or a number."""
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < e else ""
        m = COHORT_RE.match(t)
        digits = m.group(1) if m else (t if nxt == "后" and len(t) == 2 else None)
        if digits is not None:  # 90后 / 九零后
            return self._cohort_age(toks, s, i, nxt, digits, ts)
        if len(t) > 1 and t[-1] == "岁":  # "28岁" / "三十岁" cut as one token
            t, nxt = t[:-1], "岁"
        n = _number(t)
        if n is None or self._others_before(toks, s, i):
            return None
        if nxt == "年" and i + 2 < e and toks[i + 2] in _BIRTH_AFTER:  # 我是90年的
            return self._birth_year_age(toks, s, i, t, n, ts)
        return self._stated_age(toks, s, i, nxt, n)

    def _cohort_age(self, toks: list[str], s: int, i: int, nxt: str, digits: str,
                    ts: datetime) -> str | None:
        """"90后" / "九零后" about the speaker, aged at the cohort's midpoint."""
        prev = toks[i - 1] if i > s else ""
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

    def _birth_year_age(self, toks: list[str], s: int, i: int, t: str, n: int,
                        ts: datetime) -> str | None:
        """"我是90年的" / "1990年生": a birth year, only with a first-person word before it."""
        if not any(toks[j] in self.self_any for j in range(s, i)):
            return None
        year = n if len(t) == 4 else (1900 if n >= 30 else 2000) + n
        return age_bucket(ts.year - year) if 1920 <= year <= ts.year else None

    def _stated_age(self, toks: list[str], s: int, i: int, nxt: str, n: int) -> str | None:
        """"我28岁" / "今年28了": an age in years, said of the speaker."""
        prev = toks[i - 1] if i > s else ""
        if not (nxt in _AGE_UNITS or (prev == "今年" and (not nxt or nxt in _AGE_TAIL))):
            return None
        before = toks[s:i]
        if any(b in self.self_any for b in before) or all(b in _AGE_LEAD for b in before):
            return age_bucket(n)
        return None
