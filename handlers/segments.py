"""Segmentation runs: gather every member's persona and business facts, run, store, compare.

`persona/segment.py` does the thinking (pure); this module only collects its inputs from
storage, hands it the previous run so cluster codes stay stable and changes can be reported,
and stores the result so the next run, `siyu report` and the bot can use it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.config import Settings
from handlers.personas import persona_settings, tag_from_row, to_record
from persona.persona import build_persona
from persona.segment import MemberInput, Quote, SegmentParams, SegmentResult, run_segmentation
from storage.business import BusinessStore
from storage.repo import MemberRow, Store
from storage.segments import SegmentStore, StoredRun

QUOTE_INTENTS = frozenset({"question", "complaint", "purchase_intent", "praise"})
MAX_QUOTES = 10
MAX_KEYWORDS = 30


@dataclass(frozen=True, slots=True)
class SegmentOutcome:
    run_id: int
    result: SegmentResult
    previous: StoredRun | None


def segment_params(settings: Settings) -> SegmentParams:
    """Run parameters from siyu.toml: the shared lifecycle thresholds and goal, plus any
    `[segment]` overrides (k_min, k_max, min_support …)."""
    from bot.config import ConfigError, section

    base: dict[str, Any] = {"new_days": settings.new_days,
                            "declining_days": settings.declining_days,
                            "goal": settings.goal, "timezone": settings.timezone}
    overrides = section(settings, "segment")
    known = set(SegmentParams.__dataclass_fields__)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"{settings.source}: [segment] 未知配置项 {unknown[0]}")
    try:
        return SegmentParams(**{**base, **overrides})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{settings.source}: [segment] {exc}") from exc


def gather_inputs(store: Store, settings: Settings, labels: Mapping[str, str],
                  as_of: datetime) -> tuple[list[MemberRow], list[MemberInput]]:
    """Every member's persona as of `as_of`, with orders, events, chats, quotes, keywords."""
    business = BusinessStore(store.engine)
    members = store.members()
    messages = store.messages_for(None, until=as_of)
    orders = business.orders_for(None, until=as_of)
    events = business.events_for(None, until=as_of)
    manual = store.tags_for([m.pk for m in members], source="manual")
    chat_names = store.chat_names()
    ps = persona_settings(settings)
    inputs: list[MemberInput] = []
    for m in members:
        stored = messages.get(m.pk, [])
        records = [to_record(msg) for msg in stored]
        persona = build_persona(m.member_id, m.name, records, as_of, ps, labels,
                                manual_tags=[tag_from_row(r) for r in manual.get(m.pk, ())],
                                orders=orders.get(m.pk, ()), events=events.get(m.pk, ()))
        chats = Counter(chat_names.get(msg.chat_id) or msg.chat_id for msg in stored
                        if msg.type != "system")
        words: Counter[str] = Counter()
        quotes: list[Quote] = []
        for rec, msg in sorted(zip(records, stored, strict=True), key=lambda p: p[0].ts,
                               reverse=True):
            words.update(rec.signals.keywords)
            hit = tuple(i for i in rec.signals.intents if i in QUOTE_INTENTS)
            if hit and msg.text and len(quotes) < MAX_QUOTES:
                quotes.append(Quote(msg.id, msg.ts, msg.text, hit,
                                    chat_names.get(msg.chat_id) or msg.chat_id))
        inputs.append(MemberInput(
            persona=persona, orders=tuple(orders.get(m.pk, ())),
            events=tuple(events.get(m.pk, ())),
            chats=tuple(name for name, _ in chats.most_common()),
            quotes=tuple(quotes),
            keywords=tuple(w for w, _ in words.most_common(MAX_KEYWORDS))))
    return members, inputs


def run_and_store(store: Store, settings: Settings, labels: Mapping[str, str],
                  as_of: datetime) -> SegmentOutcome:
    """Run segmentation as of `as_of` against the previous run, and store it."""
    params = segment_params(settings)
    runs = SegmentStore(store.engine)
    previous = runs.latest_run(until=as_of)
    members, inputs = gather_inputs(store, settings, labels, as_of)
    prev_result = SegmentResult.from_json(previous.result) if previous else None
    result = run_segmentation(inputs, as_of, params, previous=prev_result)
    assignments: dict[int, Mapping[str, str | None]] = {}
    for m in members:
        seg = result.assignment(m.member_id)
        if seg is not None:
            assignments[m.pk] = seg
    run_id = runs.save_run(as_of, datetime.now(UTC), params.to_json(), result.to_json(),
                           assignments)
    return SegmentOutcome(run_id, result, previous)


def latest_or_new(store: Store, settings: Settings, labels: Mapping[str, str],
                  as_of: datetime) -> tuple[StoredRun, StoredRun | None]:
    """The newest stored run up to `as_of` (running one first when there is none), and the
    run before it, for reports."""
    runs = SegmentStore(store.engine)
    latest = runs.latest_run(until=as_of)
    if latest is None:
        run_and_store(store, settings, labels, as_of)
        latest = runs.latest_run(until=as_of)
        assert latest is not None
    return latest, runs.latest_run(until=latest.as_of, before_id=latest.id)
