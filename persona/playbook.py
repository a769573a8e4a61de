"""Playbooks: the operator-edited reply scripts (话术) behind every suggestion and invite.

Scripts are data, not code, because the people who know how to talk to a 宝妈 who is cross
about a late parcel are the operators, not us. `persona/data/playbooks.toml` ships a warm
default; `[suggest] playbooks = "file"` in siyu.toml points at an operator's copy, whose
scenarios replace the bundled ones of the same name (scenarios it leaves out keep the bundled
scripts, so a small override file stays small).

Shape of the file::

    [fallbacks]                  # what a placeholder becomes when the value is unknown
    topic = "这个问题"

    [question]                   # one table per scenario (SCENARIOS)
    label = "答疑"
    next_action = "private_chat" # a NEXT_ACTIONS code

    [question.default]           # every scenario needs a default variant
    templates = ["{name}，……", "……"]

    [question."price+new"]       # a variant: codes joined by "+", at most one per dimension
    next_action = "coupon"       # optional, overrides the scenario's
    templates = ["……"]

A variant matches a member when each of its codes does (what the message is about —
about_quality, about_delivery, about_service, about_price —, motivation, lifecycle, value, layer
or an interest of the taxonomy); a variant for what the message is about wins, then the most
specific match, so "price+new+parenting" beats "price" beats "default". Templates fill
`{name}`, `{topic}`, `{interest}` and `{activity}`;
`{topic|这款}` carries its own fallback. Nothing here ever shows a literal "{topic}" to a
member: an unknown value falls back, and a template that names an unknown placeholder is
refused when the file is read, with the file, line and key in the message.

Pure: parsing takes the text. `default_playbook_text()` reads the bundled copy through
importlib.resources, the same way `persona.resources` reads the lexicon.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    MOTIVATION_SEGMENT_LABELS,
    VALUE_LABELS,
)

PLAYBOOK_FILE = "playbooks.toml"
# The aspect categories a variant can answer ("about_delivery"); "other" has no script.
ABOUT_CATEGORIES = ("quality", "delivery", "service", "price")
ABOUT_LABELS = {"about_quality": "品质问题", "about_delivery": "物流问题",
                "about_service": "服务问题", "about_price": "价格问题"}

SCENARIOS = ("question", "complaint", "purchase_intent", "welcome", "reactivate", "invite")
SCENARIO_LABELS = {
    "question": "答疑", "complaint": "服务补救", "purchase_intent": "购买意向",
    "welcome": "新人欢迎", "reactivate": "沉默唤醒", "invite": "活动邀请",
}
# What the operator should do after sending the script. Codes in JSON, labels for people.
NEXT_ACTIONS = {
    "private_chat": "私聊跟进",
    "after_sales": "转售后",
    "coupon": "发优惠券",
    "product_info": "发产品资料",
    "order_help": "协助下单",
    "welcome_gift": "发新人礼",
    "invite": "发活动邀请",
    "callback": "电话回访",
}
PLACEHOLDERS = {"name": "称呼", "topic": "话题", "interest": "兴趣", "activity": "活动"}
DEFAULT_FALLBACKS = {"name": "亲", "topic": "这个问题", "interest": "咱们群里的好物",
                     "activity": "近期的活动"}
# The segment dimensions a variant can name, with their codes (DESIGN.md, persona JSON).
DIMENSIONS: dict[str, tuple[str, ...]] = {
    # what the triggering message is about (persona/phrases.py): a quality complaint gets the
    # quality-recovery script whoever sends it
    "about": tuple(f"about_{c}" for c in ABOUT_CATEGORIES),
    "motivation": tuple(MOTIVATION_SEGMENT_LABELS),
    "lifecycle": tuple(LIFECYCLE_LABELS),
    "value": tuple(VALUE_LABELS),
    "layer": tuple(LAYER_LABELS),
}
# How much a matched condition says about the member, for ties between equally long keys:
# what the message is about decides what to answer, motivation how to talk, lifecycle and
# interest what else to talk about.
DIMENSION_WEIGHT = {"about": 4, "motivation": 3, "lifecycle": 2, "interest": 2, "value": 1,
                    "layer": 1}
DEFAULT_INTERESTS = (
    "travel", "digital", "reading", "parenting", "beauty", "fitness", "food", "fashion", "home",
    "pets", "education", "finance", "auto", "entertainment", "games", "health",
)

_SCENARIO_KEYS = ("label", "next_action")
_VARIANT_KEYS = ("templates", "next_action")
# A placeholder: {name}, or {name|its own fallback}.
FIELD_RE = re.compile(r"\{([^{}|]*)(?:\|([^{}]*))?\}")
_TOML_POS_RE = re.compile(r"at line (\d+)")
_HEADER_RE = re.compile(r"^\s*\[\[?([^\[\]]+)\]\]?\s*(?:#.*)?$")
_PART_RE = re.compile(r"\"[^\"]*\"|'[^']*'|[^.\s]+")


class PlaybookError(ValueError):
    """A playbook file that cannot be used; one line naming the file, line and key."""

    def __init__(self, file: str, message: str, *, line: int | None = None,
                 key: str | None = None) -> None:
        self.file, self.line, self.key = file, line, key
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Variant:
    """One set of templates and the member it is written for."""

    key: str
    # (dimension, code) pairs that must all hold; empty for the default variant
    conditions: tuple[tuple[str, str], ...]
    templates: tuple[str, ...]
    next_action: str | None = None

    @property
    def specificity(self) -> tuple[int, int, int]:
        """A variant written for what the message is about first (a delivery complaint is
        answered as one, whatever the member's segments); then more conditions; among equals,
        the weightier dimensions."""
        return (int(any(d == "about" for d, _ in self.conditions)), len(self.conditions),
                sum(DIMENSION_WEIGHT[d] for d, _ in self.conditions))

    def matches(self, facts: Mapping[str, str | None], interests: Iterable[str]) -> bool:
        have = set(interests)
        for dim, code in self.conditions:
            if dim == "interest":
                if code not in have:
                    return False
            elif facts.get(dim) != code:
                return False
        return True


@dataclass(frozen=True, slots=True)
class Scenario:
    code: str
    label: str
    next_action: str
    variants: tuple[Variant, ...]

    def ranked(self, facts: Mapping[str, str | None], interests: Iterable[str]
               ) -> list[Variant]:
        """Matching variants, most specific first (file order breaks ties)."""
        have = list(interests)
        found = [v for v in self.variants if v.matches(facts, have)]
        return sorted(found, key=lambda v: v.specificity, reverse=True)


@dataclass(frozen=True)
class Playbook:
    scenarios: Mapping[str, Scenario]
    fallbacks: Mapping[str, str]
    source: str = PLAYBOOK_FILE

    def scenario(self, code: str) -> Scenario:
        return self.scenarios[code]


# ---- reading -----------------------------------------------------------------------------
def default_playbook_text() -> str:
    """The bundled persona/data/playbooks.toml."""
    return files("persona").joinpath("data").joinpath(PLAYBOOK_FILE).read_text(encoding="utf-8")


@cache
def default_playbook() -> Playbook:
    """The bundled playbook with the default taxonomy, parsed once per process."""
    return parse_playbook(default_playbook_text())


def parse_playbook(text: str, source: str = PLAYBOOK_FILE,
                   interests: Iterable[str] = DEFAULT_INTERESTS,
                   base: Playbook | None = None) -> Playbook:
    """Parse and validate a playbook text; with `base`, its scenarios override base's.

    `interests` are the taxonomy's interest codes (an operator's taxonomy may add some), so
    a variant keyed on a code nobody can have is an error, not a silent dead script.
    """
    codes = frozenset(interests)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS_RE.search(str(exc))
        raise PlaybookError(source, f"TOML 语法错误 (syntax error): {exc}",
                            line=int(m.group(1)) if m else None) from None
    doc = _Doc(source, text)
    fallbacks = dict(base.fallbacks if base else DEFAULT_FALLBACKS)
    scenarios: dict[str, Scenario] = dict(base.scenarios) if base else {}
    for key, value in data.items():
        if key == "fallbacks":
            fallbacks.update(_parse_fallbacks(doc, value))
        elif key in SCENARIOS:
            scenarios[key] = _parse_scenario(doc, key, value, codes)
        else:
            raise doc.error((), key, "未知场景，可用: " + ", ".join(("fallbacks", *SCENARIOS))
                            + " (unknown scenario)")
    missing = [s for s in SCENARIOS if s not in scenarios]
    if missing:
        raise PlaybookError(source, "缺少场景 " + ", ".join(missing) + " (missing scenario)")
    return Playbook(MappingProxyType(scenarios), MappingProxyType(fallbacks), source)


class _Doc:
    def __init__(self, name: str, text: str) -> None:
        self.name, self.text = name, text

    def error(self, path: tuple[str, ...], key: str | None, message: str,
              needle: str | None = None) -> PlaybookError:
        line = _line_of(self.text, path, key)
        if needle and line:
            # Point at the very template, not just at `templates = [`.
            for n, content in enumerate(self.text.splitlines()[line - 1:], start=line):
                if needle in content:
                    line = n
                    break
        label = "[" + ".".join(_quote(p) for p in path) + "]" if path else ""
        full = " ".join(p for p in (label, key or "") if p) or None
        return PlaybookError(self.name, message, line=line, key=full)


def _header_parts(line: str) -> tuple[str, ...] | None:
    m = _HEADER_RE.match(line)
    if not m:
        return None
    return tuple(p.strip("\"'") for p in _PART_RE.findall(m.group(1)))


def _line_of(text: str, path: tuple[str, ...], key: str | None) -> int | None:
    """Best-effort line of `key` in table `path`: a `key =` line, else a `[path.key…]` header.

    tomllib gives positions only for syntax errors; for a well-formed file with a wrong value
    we find the line ourselves, so the operator can jump straight to it.
    """
    lines = text.splitlines()
    current: tuple[str, ...] = ()
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=") if key else None
    header_line = None
    for n, line in enumerate(lines, start=1):
        parts = _header_parts(line)
        if parts is not None:
            current = parts
            if parts == path and header_line is None:
                header_line = n
            continue
        if key_re and current == path and key_re.match(line):
            return n
    want = (*path, key) if key else path
    for n, line in enumerate(lines, start=1):
        parts = _header_parts(line)
        if parts is not None and parts[: len(want)] == want:
            return n
    return header_line


def _quote(part: str) -> str:
    return part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'


def _parse_fallbacks(doc: _Doc, table: Any) -> dict[str, str]:
    if not isinstance(table, dict):
        raise doc.error((), "fallbacks", "必须是表 (must be a table)")
    out: dict[str, str] = {}
    for key, value in table.items():
        if key not in PLACEHOLDERS:
            raise doc.error(("fallbacks",), key, "未知占位符，可用: " + ", ".join(PLACEHOLDERS)
                            + " (unknown placeholder)")
        if not isinstance(value, str):
            raise doc.error(("fallbacks",), key, "必须是字符串 (must be a string)")
        out[key] = value
    return out


def _parse_scenario(doc: _Doc, code: str, table: Any, interests: frozenset[str]) -> Scenario:
    if not isinstance(table, dict):
        raise doc.error((), code, "场景必须是表 [scenario] (must be a table)")
    path = (code,)
    label = table.get("label", SCENARIO_LABELS[code])
    if not isinstance(label, str) or not label.strip():
        raise doc.error(path, "label", "必须是非空字符串 (must be a non-empty string)")
    next_action = _next_action(doc, path, table.get("next_action", "private_chat"))
    variants: list[Variant] = []
    for key, value in table.items():
        if key in _SCENARIO_KEYS:
            continue
        if not isinstance(value, dict):
            raise doc.error(path, key, "未知字段，可用: label, next_action 或话术变体表"
                            " (unknown key)")
        variants.append(_parse_variant(doc, code, key, value, interests))
    if not any(v.key == "default" for v in variants):
        raise doc.error((), code, f"缺少默认话术 [{code}.default] (missing default variant)")
    return Scenario(code, label.strip(), next_action or "private_chat", tuple(variants))


def _next_action(doc: _Doc, path: tuple[str, ...], value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in NEXT_ACTIONS:
        raise doc.error(path, "next_action", "未知动作，可用: " + ", ".join(NEXT_ACTIONS)
                        + " (unknown next action)")
    return value


def variant_conditions(key: str, interests: Iterable[str] = DEFAULT_INTERESTS
                       ) -> tuple[tuple[str, str], ...]:
    """"price+new+parenting" → (("motivation","price"), ("lifecycle","new"), ("interest",…)).

    Raises ValueError with a Chinese reason for an unknown code or two codes of one dimension.
    """
    if key == "default":
        return ()
    have = set(interests)
    out: list[tuple[str, str]] = []
    for code in (c.strip() for c in key.split("+")):
        dim = next((d for d, cs in DIMENSIONS.items() if code in cs), None)
        if dim is None and code in have:
            dim = "interest"
        if dim is None:
            known = [c for cs in DIMENSIONS.values() for c in cs]
            raise ValueError(f"未知话术变体代码 {code!r}，可用: default 或 "
                             + ", ".join(known) + " 及兴趣代码 (unknown variant key)")
        if any(d == dim for d, _ in out):
            raise ValueError(f"同一维度 {dim} 出现两次，变体无法同时满足 (two {dim} codes)")
        out.append((dim, code))
    return tuple(out)


def _parse_variant(doc: _Doc, scenario: str, key: str, table: dict[str, Any],
                   interests: frozenset[str]) -> Variant:
    path = (scenario, key)
    try:
        conditions = variant_conditions(key, interests)
    except ValueError as exc:
        raise doc.error(path, None, str(exc)) from None
    for k in table:
        if k not in _VARIANT_KEYS:
            raise doc.error(path, k, "未知字段，可用: templates, next_action (unknown key)")
    templates = table.get("templates")
    if (not isinstance(templates, list) or not templates
            or not all(isinstance(t, str) and t.strip() for t in templates)):
        raise doc.error(path, "templates",
                        "必须是非空的字符串列表 (must be a non-empty list of strings)")
    for t in templates:
        problem = template_problem(t)
        if problem:
            raise doc.error(path, "templates", problem, needle=_needle(t))
    return Variant(key, conditions, tuple(t.strip() for t in templates),
                   _next_action(doc, path, table.get("next_action")))


def _needle(template: str) -> str:
    """A piece of the template likely to be on one line of the file."""
    for m in FIELD_RE.finditer(template):
        if m.group(1).strip() not in PLACEHOLDERS:
            return m.group(0)
    return template.strip()[:12]


def template_problem(template: str) -> str | None:
    """Why a template cannot be filled in, or None when it is fine."""
    for m in FIELD_RE.finditer(template):
        name = m.group(1).strip()
        if name not in PLACEHOLDERS:
            return (f"未知占位符 {{{name}}}，可用: "
                    + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS) + " (unknown placeholder)")
    rest = FIELD_RE.sub("", template)
    if "{" in rest or "}" in rest:
        return "花括号不成对，占位符写法如 {name} 或 {topic|这款} (unbalanced brace)"
    return None
