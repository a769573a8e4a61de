"""Suggestions: which moments deserve a reply script, and which script fits this member.

Pure: messages, personas and the playbook come in, drafts go out; storage, de-duplication,
rate limits and delivery belong to handlers/ (triggers.py, live.py, suggest.py).

A trigger is one moment worth the operator's attention:
- a member's message with a question, complaint or buying intent (one scenario per message,
  the most urgent: a complaint outranks a purchase, a purchase outranks a question);
- a newcomer: a join notice in a group, or a member whose lifecycle is "new";
- a member turning "declining" (silent for `declining_days`).

A draft fills the scenario's best-matching playbook variant for the member: the persona's
motivation (or, when the persona has none yet, the motivation the message itself shows),
lifecycle, value, layer and interests pick the variant, and what the message is about
(persona/phrases.py: a quality, delivery, service or price complaint or question) picks it
first; the product the message names fills {topic}.
Every draft says why, as reasons that carry a Chinese sentence for the operator and a code for
machines, so an operator can see at a glance why 朵朵妈 gets the coupon script and 老周 the
after-sales one.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from persona.persona import (
    LAYER_LABELS,
    LIFECYCLE_LABELS,
    MOTIVATION_SEGMENT_LABELS,
    SILENT_TYPES,
    VALUE_LABELS,
    MessageRecord,
    Persona,
    Tag,
)
from persona.phrases import About, about
from persona.playbook import ABOUT_CATEGORIES, ABOUT_LABELS, NEXT_ACTIONS, SCENARIO_LABELS, Playbook
from persona.scripts import Script, choose_topic, pick_scripts, variant_label
from persona.signals import Signals

# Most urgent first: this is the order of `siyu suggest` output and of the notify queue.
PRIORITY = ("complaint", "purchase_intent", "question", "reactivate", "welcome", "invite")
MESSAGE_SCENARIOS = ("complaint", "purchase_intent", "question")
INTENT_LABELS = {"question": "提问", "complaint": "抱怨投诉", "purchase_intent": "购买意向"}
SEGMENT_DIMENSIONS = {
    "value": VALUE_LABELS, "lifecycle": LIFECYCLE_LABELS,
    "motivation": MOTIVATION_SEGMENT_LABELS, "layer": LAYER_LABELS,
}
_CLUSTER_RE = re.compile(r"^c\d+$")
# WeChat's join notices: '"小禾助手"邀请"奶茶续命"加入了群聊', '"X"通过扫描二维码加入群聊'.
_JOIN_RE = re.compile(r"加入了?(?:群聊|本群|群)|进群了|joined (?:the )?group", re.IGNORECASE)
# A reply that signs up for an activity ("报名", "算我一个", "+1").
_SIGNUP_RE = re.compile(r"报名|参加|参与|接龙|算我一个|我要去|我去|预约|\+\s*1|＋1")
QUOTE_CHARS = 40


@dataclass(frozen=True, slots=True)
class Reason:
    """One ground for a suggestion: a code for machines, a sentence for the operator."""

    # intent | event | lifecycle | motivation | interest | value | layer | segment | aspect |
    # variant
    code: str
    value: str
    label: str
    evidence: tuple[str, ...] = ()

    def why(self) -> str:
        return f"{self.label} [{self.code}={self.value}]"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "value": self.value, "label": self.label,
                "evidence": list(self.evidence)}


@dataclass(frozen=True, slots=True)
class Trigger:
    """A moment that deserves a script.

    `key` identifies the moment within (member, scenario): a message id, "welcome" (once per
    member), "declining:<last active>" (once per silence), "activity:<name>" (once per
    activity). Storage keeps one open suggestion per member and scenario, and a trigger it
    has already seen never makes a second one.
    """

    scenario: str
    key: str
    ts: datetime
    reason: Reason
    message_id: str | None = None
    chat_id: str | None = None
    quote: str | None = None
    signals: Signals = field(default_factory=Signals)
    # what the message is about: its first pain or need, and the products it names
    about: About = field(default_factory=About)


@dataclass(frozen=True)
class Drafting:
    """What drafting needs besides the member: the playbook, labels and topic words."""

    playbook: Playbook
    labels: Mapping[str, str]
    # Words that can be a message's {topic}: products and things (taxonomy keywords), and
    # concerns (motivation cues such as 快递, 优惠, 成分). Other keywords are too often
    # fillers ("同问", "分享") to put into a script.
    products: Container[str] = frozenset()
    concerns: Container[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Draft:
    member_id: str
    name: str
    scenario: str
    trigger: Trigger
    variant: str
    scripts: tuple[Script, ...]
    reasons: tuple[Reason, ...]
    next_action: str
    segments: Mapping[str, str | None]
    activity: str | None = None

    @property
    def text(self) -> str:
        return self.scripts[0].text

    @property
    def alternatives(self) -> list[str]:
        return [s.text for s in self.scripts[1:]]

    def why(self) -> list[str]:
        return [r.why() for r in self.reasons]


# ---- triggers ----------------------------------------------------------------------------
def clip(text: str | None, n: int = QUOTE_CHARS) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def message_scenario(signals: Signals) -> str | None:
    """The one scenario a message calls for, most urgent first; None for small talk."""
    return next((s for s in MESSAGE_SCENARIOS if s in signals.intents), None)


def is_join(msg_type: str, text: str | None) -> bool:
    return msg_type == "system" and bool(text) and _JOIN_RE.search(text or "") is not None


def is_signup(text: str | None, activity: str) -> bool:
    """Does a later message sign up for the activity ("报名", "+1", or names it)?"""
    if not text:
        return False
    return activity in text or _SIGNUP_RE.search(text) is not None


def join_trigger(ts: datetime, chat_id: str | None, message_id: str | None = None,
                 quote: str | None = None) -> Trigger:
    """A join (a notice in an export, or a live join event): welcome once per member."""
    return Trigger("welcome", "welcome", ts,
                   Reason("event", "join", "新成员入群", (message_id,) if message_id else ()),
                   message_id, chat_id, quote)


def message_trigger(rec: MessageRecord, text: str | None) -> Trigger | None:
    """The trigger one stored message makes, if any (a join notice makes a welcome)."""
    if is_join(rec.type, text):
        return join_trigger(rec.ts, rec.chat_id, rec.id, clip(text))
    scenario = message_scenario(rec.signals)
    if scenario is None:
        return None
    label = f"{INTENT_LABELS[scenario]}：「{clip(text)}」" if text else INTENT_LABELS[scenario]
    return Trigger(scenario, rec.id, rec.ts, Reason("intent", scenario, label, (rec.id,)),
                   rec.id, rec.chat_id, clip(text), rec.signals,
                   about(text, complaint=scenario == "complaint"))


def welcome_trigger(persona: Persona, first: MessageRecord | None, as_of: datetime
                    ) -> Trigger:
    """A newcomer by lifecycle (no join notice seen): welcome once."""
    since = persona.stats.get("first_seen")
    days = max(0, (as_of - since).days) if since else 0
    label = f"新用户：首次发言于 {days} 天前" if since else "新成员"
    ev = (first.id,) if first else ()
    return Trigger("welcome", "welcome", since or as_of,
                   Reason("lifecycle", persona.segments.get("lifecycle") or "new", label, ev),
                   signals=first.signals if first else Signals())


def reactivate_trigger(persona: Persona, last: MessageRecord | None, last_text: str | None,
                       as_of: datetime) -> Trigger:
    """A member gone quiet: once per silence, keyed by when they last spoke.

    The last thing they said fills {topic} ("上次聊到的辅食"), so the nudge picks up their
    own thread instead of a generic "好久不见". The trigger's time is `as_of`, the moment the
    silence was noticed: that is when it became worth the operator's attention.
    """
    last_active: datetime | None = persona.stats.get("last_active")
    days = (as_of - last_active).days if last_active else 0
    key = f"declining:{last_active.isoformat() if last_active else 'never'}"
    return Trigger("reactivate", key, as_of,
                   Reason("lifecycle", "declining", f"衰退用户：已 {days} 天未发言",
                          (last.id,) if last else ()),
                   quote=clip(last_text) if last_text else None,
                   signals=last.signals if last else Signals())


def invite_trigger(activity: str, as_of: datetime, reason: Reason) -> Trigger:
    return Trigger("invite", f"activity:{activity}", as_of, reason)


def member_triggers(persona: Persona, records: Sequence[MessageRecord],
                    texts: Mapping[str, str | None], as_of: datetime,
                    intent_ttl: timedelta, new_window: timedelta) -> list[Trigger]:
    """What `siyu suggest MEMBER` answers: the latest triggering message, plus welcome or
    reactivate when the member's lifecycle calls for it. Most urgent first.

    A question older than the intent tags' lifetime is no longer worth answering, so only
    messages within `intent_ttl` of `as_of` count.
    """
    recs = sorted((r for r in records if r.ts <= as_of), key=lambda r: (r.ts, r.id))
    out: list[Trigger] = []
    for rec in reversed(recs):
        if as_of - rec.ts > max(intent_ttl, new_window):
            break
        trig = message_trigger(rec, texts.get(rec.id))
        if trig is None:
            continue
        if trig.scenario == "welcome":
            if as_of - rec.ts <= new_window and not any(t.scenario == "welcome" for t in out):
                out.append(trig)
        elif as_of - rec.ts <= intent_ttl and not any(t.scenario in MESSAGE_SCENARIOS
                                                      for t in out):
            out.append(trig)
    lifecycle = persona.segments.get("lifecycle")
    if lifecycle == "new" and not any(t.scenario == "welcome" for t in out):
        first = next((r for r in recs if r.type not in SILENT_TYPES), None)
        out.append(welcome_trigger(persona, first, as_of))
    if lifecycle == "declining":
        last = last_words(recs)
        out.append(reactivate_trigger(persona, last, texts.get(last.id) if last else None,
                                      as_of))
    return sorted(out, key=lambda t: PRIORITY.index(t.scenario))


def last_words(records: Iterable[MessageRecord]) -> MessageRecord | None:
    """The member's latest message with content words: what a reactivation picks up on."""
    said = [r for r in records if r.type not in SILENT_TYPES and r.signals.keywords]
    return max(said, key=lambda r: (r.ts, r.id)) if said else None


# ---- drafting ----------------------------------------------------------------------------
def _interest_order(persona: Persona, trigger: Trigger) -> list[str]:
    """The interests a script may speak to, most relevant first.

    A message that names an interest is about that: a 宝妈 asking about 面霜 gets the beauty
    angle, not the parenting one. Otherwise (small talk, welcome, reactivate, invite) the
    persona's interests by score.
    """
    sig = trigger.signals
    if trigger.scenario in MESSAGE_SCENARIOS and sig.interests:
        return [c for c, _ in sorted(sig.interests.items(), key=lambda kv: (-kv[1], kv[0]))]
    return [t.code for t in persona.tags if t.kind == "interest"]


def draft(persona: Persona, trigger: Trigger, env: Drafting, activity: str | None = None,
          extra: Sequence[Reason] = ()) -> Draft:
    """Fill the scenario's best-matching variant for this member and say why."""
    scenario = env.playbook.scenario(trigger.scenario)
    seg = persona.segments
    sig = trigger.signals
    tags = {t.code: t for t in persona.tags}
    reasons: list[Reason] = [trigger.reason, *extra]

    motivation = _motivation(persona, trigger, env, tags, reasons)
    category = trigger.about.category
    facts = {"motivation": motivation, "lifecycle": seg.get("lifecycle"),
             "value": seg.get("value"), "layer": seg.get("layer"),
             "about": f"about_{category}" if category in ABOUT_CATEGORIES else None}
    interests = _interest_order(persona, trigger)
    ranked = scenario.ranked(facts, interests)
    best = ranked[0]

    # {interest}: the one the variant is written for, else the message's, else the persona's.
    interest = next((c for d, c in best.conditions if d == "interest"),
                    interests[0] if interests else None)
    if interest:
        itag = tags.get(interest)
        source = "本条消息提到" if interest in sig.interests else "兴趣"
        score = f"（{itag.score:.2f}）" if itag else ""
        reasons.append(Reason("interest", interest,
                              f"{source}：{env.labels.get(interest, interest)}{score}",
                              tuple(itag.evidence[:3]) if itag else ()))
    if any(d == "about" for d, _ in best.conditions) and category:
        reasons.append(Reason("aspect", category,
                              f"本条消息说的是{ABOUT_LABELS[f'about_{category}']}：「{trigger.about.phrase}」",
                              (trigger.message_id,) if trigger.message_id else ()))
    _segment_reasons(facts, best.conditions, reasons)
    reasons.append(Reason("variant", f"{trigger.scenario}/{best.key}",
                          f"话术：{scenario.label} · {variant_label(best.key, env.labels)}"))

    topic = choose_topic(sig.keywords, trigger.scenario, trigger.about.products, env.products,
                         env.concerns if not any(d == "about" for d, _ in best.conditions)
                         else frozenset(),
                         pinned=trigger.scenario == "complaint" and bool(trigger.about.phrase))
    values = {"name": persona.name, "topic": topic,
              "interest": env.labels.get(interest, interest) if interest else None,
              "activity": activity}
    scripts = pick_scripts(ranked, values, env.playbook.fallbacks,
                           salt=f"{persona.member_id}/{trigger.scenario}")
    next_action = best.next_action or scenario.next_action
    return Draft(persona.member_id, persona.name, trigger.scenario, trigger, best.key,
                 tuple(scripts), tuple(reasons), next_action, dict(seg), activity)


def _motivation(persona: Persona, trigger: Trigger, env: Drafting, tags: Mapping[str, Tag],
                reasons: list[Reason]) -> str | None:
    """The motivation the script is chosen for: the persona's, else the message's; its reason
    is appended to `reasons`."""
    motivation = persona.segments.get("motivation")
    sig = trigger.signals
    if motivation:
        mtag = tags.get(motivation)
        n = len(mtag.evidence) if mtag else 0
        reasons.append(Reason("motivation", motivation,
                              f"画像：{MOTIVATION_SEGMENT_LABELS[motivation]}（{n} 条证据）",
                              tuple(mtag.evidence) if mtag else ()))
    elif sig.motivations:
        motivation = max(sig.motivations.items(), key=lambda kv: (kv[1], kv[0]))[0]
        reasons.append(Reason("motivation", motivation,
                              f"本条消息关注{env.labels.get(motivation, motivation)}",
                              (trigger.message_id,) if trigger.message_id else ()))
    return motivation


def _segment_reasons(facts: Mapping[str, str | None],
                     conditions: Sequence[tuple[str, str]], reasons: list[Reason]) -> None:
    """The lifecycle always, value and layer when the variant is written for them: appended
    to `reasons` unless a reason already says so."""
    for dim in ("lifecycle", "value", "layer"):
        code = facts[dim]
        used = dim == "lifecycle" or any(d == dim for d, _ in conditions)
        said = any(r.value == code and r.code in (dim, "segment") for r in reasons)
        if code and used and not said:
            reasons.append(Reason(dim, code, SEGMENT_DIMENSIONS[dim][code]))


# ---- invites -----------------------------------------------------------------------------
def segment_codes() -> dict[str, str]:
    """Every segment value code → its dimension (cluster codes c1… are matched apart)."""
    return {code: dim for dim, labels in SEGMENT_DIMENSIONS.items() for code in labels}


def segment_label(code: str) -> str:
    """Chinese name of a segment code: "new" → "新用户", "c2" → "兴趣圈 c2"."""
    dim = segment_codes().get(code)
    return SEGMENT_DIMENSIONS[dim][code] if dim else f"兴趣圈 {code}"


def is_segment_code(code: str) -> bool:
    return code in segment_codes() or _CLUSTER_RE.match(code) is not None


def segment_reason(persona: Persona, code: str) -> Reason | None:
    """Why this member belongs to segment `code`, or None when they do not."""
    for value in persona.segments.values():
        if value == code:
            return Reason("segment", code, f"属于分群：{segment_label(code)}")
    return None


def draft_invite(persona: Persona, activity: str, segment: str, as_of: datetime,
                 env: Drafting) -> Draft | None:
    """A per-member invite draft for a segment member; None when not in the segment."""
    why = segment_reason(persona, segment)
    if why is None:
        return None
    return draft(persona, invite_trigger(activity, as_of, why), env, activity=activity)


def next_action_label(code: str) -> str:
    return NEXT_ACTIONS.get(code, code)


def scenario_label(code: str) -> str:
    return SCENARIO_LABELS.get(code, code)
