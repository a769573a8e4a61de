"""Filling in a playbook: templates → the scripts (话术) a suggestion offers.

A template's placeholders take the member's values, else the template's own fallback
(`{topic|这款}`), else the playbook's; what a blank value leaves behind (doubled or leading
punctuation) is cleaned, so no member ever sees "{topic}" or "，，". `choose_topic` decides
which thing a message names fills {topic}. Which variants apply is
the playbook's business (persona/playbook.py); this module picks and fills their templates.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass

from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    MOTIVATION_SEGMENT_LABELS,
    VALUE_LABELS,
)
from persona.playbook import ABOUT_LABELS, DEFAULT_FALLBACKS, FIELD_RE, Variant

# Keywords that are people or fillers rather than what the member is talking about.
_NOT_TOPIC = frozenset({
    "宝宝", "孩子", "娃", "小孩", "宝妈", "宝爸", "老公", "老婆", "家里", "大家", "姐妹",
    "亲们", "群里", "同问",
    "最近", "今天", "昨天", "明天", "现在", "上次", "这次", "下次", "时候", "一下", "东西",
    "能用", "真实", "其他", "感觉", "还没到", "一直", "这款", "那款", "这个", "那个",
})
# What a blank value can leave behind: doubled or leading punctuation, stray spaces.
_DOUBLE_PUNCT_RE = re.compile(r"([，、。！？,])\1+")
_LEAD_PUNCT_RE = re.compile(r"^[\s，、。！？,]+")


@dataclass(frozen=True, slots=True)
class Script:
    """A filled-in template and the variant it came from."""

    text: str
    variant: str


def unfilled(template: str, values: Mapping[str, str | None]) -> int:
    """How many placeholders would need the file-wide fallback (no value, no inline one)."""
    return sum(1 for m in FIELD_RE.finditer(template)
               if not values.get(m.group(1).strip()) and m.group(2) is None)


def render(template: str, values: Mapping[str, str | None],
           fallbacks: Mapping[str, str] = DEFAULT_FALLBACKS) -> str:
    """Fill a template; an unknown value falls back, so no "{topic}" ever shows."""

    def fill(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        value = values.get(name)
        if value:
            return value
        if m.group(2) is not None:
            return m.group(2)
        return fallbacks.get(name, DEFAULT_FALLBACKS.get(name, ""))

    text = FIELD_RE.sub(fill, template)
    text = _DOUBLE_PUNCT_RE.sub(r"\1", text)
    return _LEAD_PUNCT_RE.sub("", text).strip()


def pick_scripts(ranked: Sequence[Variant], values: Mapping[str, str | None],
                 fallbacks: Mapping[str, str], salt: str, limit: int = 3) -> list[Script]:
    """Up to `limit` distinct scripts, best first.

    The best variant gives the main script and one alternative; each next-best variant adds
    one, so alternatives offer another angle rather than a reworded twin. Within a variant the
    starting template rotates with `salt` (member and scenario), so two members of one
    segment do not get word-for-word the same message in the same group, and templates whose
    placeholders all have values come before those that need a fallback.
    """
    if not ranked:
        return []
    start = zlib.crc32(salt.encode("utf-8"))
    per_variant: list[list[Script]] = []
    for v in ranked:
        n = len(v.templates)
        rotated = [v.templates[(start + i) % n] for i in range(n)]
        rotated.sort(key=lambda t: unfilled(t, values))
        per_variant.append([Script(render(t, values, fallbacks), v.key) for t in rotated])
    order = per_variant[0][:2] if len(ranked) > 1 else per_variant[0][:limit]
    order += [scripts[0] for scripts in per_variant[1:]]
    order += [s for scripts in per_variant for s in scripts]
    out: list[Script] = []
    seen: set[str] = set()
    for s in order:
        if s.text and s.text not in seen:
            seen.add(s.text)
            out.append(s)
        if len(out) == limit:
            break
    return out


def choose_topic(keywords: Iterable[str], scenario: str, named: Sequence[str],
                 products: Container[str], concerns: Container[str],
                 pinned: bool = False) -> str | None:
    """The thing the member talked about, or None to let the template's fallback speak.

    A product the message names (`named`, persona/phrases.py), as it names it: the run of
    nouns holding a taxonomy product (`products`; "手机散热器", not "手机"), else a taxonomy
    product among the keywords ("奶粉"), else any product noun the message names ("NAS";
    persona/phrases.py never takes an opinion word or a fragment for one). A concern word
    (`concerns`: "快递", "优惠") only where a script talks about a concern (a question or
    complaint) that does not already say what it is about (the caller passes none then):
    "想要快递的话" would be nonsense, and so would "客服从现在起我负责到底". One thing reads
    naturally in "你问的{topic}"; a list would not.
    `pinned`: `named` already holds only what a complaint's pain is about (persona/phrases.py
    `about`), so a keyword elsewhere in the message ("看网课很受影响") is no topic.
    """
    kept = [p for p in named if p not in _NOT_TOPIC]
    known = next((p for p in kept if _holds_product(p, products)), None)
    if known:
        return known
    if pinned:
        return next(iter(kept), None)
    words = [k for k in keywords if len(k) >= 2 and k not in _NOT_TOPIC]
    product = next((k for k in words if k in products), None) or next(iter(kept), None)
    if product or scenario not in ("question", "complaint"):
        return product
    return next((k for k in words if k in concerns), None)


def _holds_product(run: str, products: Container[str]) -> bool:
    """Does a run of nouns hold a taxonomy product word ("手机散热器" holds "手机")?"""
    return any(run[i:j] in products for i in range(len(run))
               for j in range(i + 2, len(run) + 1))


def variant_label(key: str, labels: Mapping[str, str]) -> str:
    """Chinese name of a variant key: "price+new" → "价格敏感型+新用户"."""
    if key == "default":
        return "通用"
    names = {**labels, **ABOUT_LABELS, **MOTIVATION_SEGMENT_LABELS, **LIFECYCLE_LABELS,
             **VALUE_LABELS, **LAYER_LABELS}
    return "+".join(names.get(c, c) for c in key.split("+"))
