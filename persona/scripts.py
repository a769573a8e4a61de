"""Filling in a playbook: templates → the scripts (话术) a suggestion offers.

A template's placeholders take the member's values, else the template's own fallback
(`{topic|这款}`), else the playbook's; what a blank value leaves behind (doubled or leading
punctuation) is cleaned, so no member ever sees "{topic}" or "，，". Which variants apply is
the playbook's business (persona/playbook.py); this module picks and fills their templates.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    MOTIVATION_SEGMENT_LABELS,
    VALUE_LABELS,
)
from persona.playbook import ABOUT_LABELS, DEFAULT_FALLBACKS, FIELD_RE, Variant

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


def variant_label(key: str, labels: Mapping[str, str]) -> str:
    """Chinese name of a variant key: "price+new" → "价格敏感型+新用户"."""
    if key == "default":
        return "通用"
    names = {**labels, **ABOUT_LABELS, **MOTIVATION_SEGMENT_LABELS, **LIFECYCLE_LABELS,
             **VALUE_LABELS, **LAYER_LABELS}
    return "+".join(names.get(c, c) for c in key.split("+"))
