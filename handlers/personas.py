"""Reading personas: stored signals → `persona.build_persona` → what the CLI and chat show.

Personas shown to people are always computed fresh from stored signals as of the requested
moment, so `--as-of` is reproducible. The `tag` table keeps the latest derived tags for
consumers that need them without recomputing (segmentation, the live bot); it is rebuilt for
every member whose messages, orders or content events changed, as of the newest message,
order or event in the database, which keeps re-imports byte-for-byte idempotent.

Orders and content events (storage/business.py) are loaded beside the messages and passed
to `build_persona`, so spend, AOV, coupon use, recent purchases and content preference are
part of every persona shown or stored.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.bulk import paused_gc
from handlers.learn import learned_words
from handlers.lexicon import load_lexicon
from handlers.settings import SEGMENT_STORE_KEYS, ConfigError, Settings, section
from handlers.staff import staff_of
from persona.aggregate import build_persona
from persona.kept import (
    KeptActivity,
    KeptKeywords,
    KeptTags,
    kept_activity,
    kept_keywords,
    kept_tags,
)
from persona.persona import (
    VALUE_LABELS,
    MessageRecord,
    Persona,
    PersonaSettings,
    Tag,
)
from persona.segment_params import SegmentParams
from persona.segment_rules import member_segments
from persona.signals import Signals
from persona.suggest import is_segment_code, segment_codes
from storage.business import BusinessStore
from storage.members import MemberRow
from storage.messages import HistoryRow, StoredMessage
from storage.repo import Store
from storage.segment_kept import KEPT_KEYWORDS, keep_member_activity, keep_member_keywords
from storage.segments import SegmentStore
from storage.tags import TagRow


def segment_params(settings: Settings) -> SegmentParams:
    """Run parameters from siyu.toml: the shared lifecycle thresholds and goal, plus any
    `[segment]` overrides (k_min, k_max, min_support …)."""
    base: dict[str, Any] = {"new_days": settings.new_days,
                            "declining_days": settings.declining_days,
                            "goal": settings.goal, "timezone": settings.timezone}
    overrides = {k: v for k, v in section(settings, "segment").items()
                 if k not in SEGMENT_STORE_KEYS}
    known = set(SegmentParams.__dataclass_fields__)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"{settings.source}: [segment] 未知配置项 {unknown[0]}")
    try:
        return SegmentParams(**{**base, **overrides})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{settings.source}: [segment] {exc}") from exc


def persona_settings(settings: Settings, learned: Mapping[str, str] | None = None
                     ) -> PersonaSettings:
    """The persona's settings, with the segment rules' thresholds of the runs (a `[segment]`
    override included), so a persona and a run put a member in the same segments, and the
    interest words learned from the community (handlers/learn.py: `learned_words`)."""
    return PersonaSettings(
        tz=settings.tz,
        half_life_days=settings.half_life_days,
        new_days=settings.new_days,
        declining_days=settings.declining_days,
        intent_ttl_days=settings.intent_ttl_days,
        rules=segment_params(settings).rules,
        learned=dict(learned or {}),
        interest_keywords=interest_keywords(settings),
    )


def category_namer(settings: Settings) -> Callable[[str], tuple[str, ...]]:
    """The interests an order category names (persona/commerce.py: category_interests), for
    segmentation's patterns; remembered per label like the persona's."""
    return PersonaSettings(tz=settings.tz,
                           interest_keywords=interest_keywords(settings)).category_codes


def interest_keywords(settings: Settings) -> Mapping[str, tuple[str, ...]]:
    """The words an order category is read with (word → codes): the taxonomy's keywords and
    its category names (persona/lexicon.py: category_index), the lexicon's own index, not a
    copy (the bundled lexicon is loaded once per process)."""
    return load_lexicon(settings).category_index


def to_record(msg: StoredMessage) -> MessageRecord:
    return MessageRecord(msg.id, msg.ts, msg.chat_id, msg.type, Signals.from_json(msg.signals))


def tag_from_row(row: TagRow) -> Tag:
    return Tag(row.code, row.label, row.kind, row.score, list(row.evidence), row.expires_at)


@dataclass(frozen=True, slots=True)
class PersonaView:
    member: MemberRow
    persona: Persona


def build_personas(store: Store, settings: Settings, labels: Mapping[str, str],
                   as_of: datetime, pks: Iterable[int] | None = None) -> list[PersonaView]:
    """Personas for the given members (every customer when None: staff are never listed,
    handlers/staff.py), in member order.

    Listing everyone as of a past moment leaves out members with nothing up to then (no
    message or join notice, order or content event): they had not joined yet, and were
    shown as 潜在用户. A run leaves them out by the same rule
    (handlers/segments.py: not_yet_rows). Asked for by pk, a member is always shown.
    """
    members = store.members(pks)
    if pks is None:
        staff = staff_of(store, settings)
        members = [m for m in members if m not in staff]
    wanted = [m.pk for m in members]
    scope = None if pks is None else wanted
    messages = store.messages_for(scope, until=as_of)
    business = BusinessStore.of(store)
    orders = business.orders_for(scope, until=as_of)
    events = business.events_for(scope, until=as_of)
    manual = store.tags_for(wanted, source="manual")
    run = SegmentStore(store.engine).latest_run(until=as_of)
    ranked = (SegmentStore(store.engine).member_segments(run.id, wanted) if run else {})
    ps = persona_settings(settings, learned_words(store, settings, as_of))
    out = []
    for m in members:
        records = [to_record(msg) for msg in messages.get(m.pk, ())]
        persona = build_persona(m.member_id, m.name, records, as_of, ps, labels,
                                manual_tags=[tag_from_row(r) for r in manual.get(m.pk, ())],
                                orders=orders.get(m.pk, ()), events=events.get(m.pk, ()))
        if scope is None and not joined(persona, bool(events.get(m.pk)), m, as_of):
            continue
        if m.pk in ranked:
            apply_run_segments(persona, ranked[m.pk])
        out.append(PersonaView(m, persona))
    return out


def joined(persona: Persona, has_events: bool, member: MemberRow, as_of: datetime) -> bool:
    """Whether the member existed as of `as_of`: a message or join notice, an order or a
    content event up to then, or a first appearance no later (a member the store has no
    time for is kept). The rule of handlers/segments.py: not_yet_rows."""
    if persona.stats.get("first_seen") or persona.stats.get("orders") or has_events:
        return True
    return member.first_seen is None or member.first_seen <= as_of


class SegmentCodeError(ValueError):
    """A segment code nobody has: str() lists the codes there are."""


def in_segment(views: Iterable[PersonaView], code: str) -> list[PersonaView]:
    """The members of segment `code` (any value, lifecycle, motivation or layer code, or a
    circle c1 …), by the segments every persona carries: the rules of
    persona/segment_rules.py and the latest run's high tier and circles, so the list counts
    what `siyu segment` counts as of the same moment."""
    if not is_segment_code(code):
        raise SegmentCodeError(f"未知分群代码 {code!r}，可用: " + ", ".join(segment_codes())
                               + " 或兴趣圈代码 c1、c2…")
    dim = segment_codes().get(code, "cluster")
    return [v for v in views if v.persona.segments.get(dim) == code]


def circle_labels(store: Store, as_of: datetime) -> dict[str, str]:
    """Each interest circle's name in the newest run as of `as_of` (c1 → 母婴育儿·宝宝·儿童).

    A circle's code alone means nothing to a person ("兴趣圈 c1"), and the names live only
    in the run that cut the circles. Read when a persona is shown to a person, never per
    message; only the names are read, not the run's document."""
    return SegmentStore(store.engine).circle_names(as_of)


def apply_run_segments(persona: Persona, seg: Mapping[str, str | None]) -> None:
    """Take the population-relative segments from the latest segmentation run.

    The high value tier and the interest circles only exist relative to everyone else, so
    they come from the stored run; value (growth / general), lifecycle, motivation and layer
    are the member's own, decided by the rules every run uses (persona/segment_rules.py) as
    of the requested moment, which is never staler than the run. A run's high tier makes
    the member core, by the same rules.
    """
    if seg.get("value") == "high" and persona.facts is not None and persona.rules is not None:
        decided = member_segments(persona.facts, persona.rules, high=True)
        persona.segments["value"], persona.segments["layer"] = decided["value"], decided["layer"]
        for tag in persona.tags:
            if tag.kind == "value" and tag.code in VALUE_LABELS:
                tag.code, tag.label = "high", VALUE_LABELS["high"]
    persona.segments["cluster"] = seg.get("cluster")


def refresh_stale_tags(store: Store, settings: Settings, labels: Mapping[str, str]) -> int:
    """Rebuild the stored derived tags of every member whose messages, orders or events changed.

    Judged as of the newest fact in the database (message, order or content event), so a
    re-run computes the same tags and an order newer than the last chat message still counts.

    The stale members are claimed first (`Store.stale_members`), and only then is anything
    read: a batch another process stores meanwhile marks its members stale again, and that
    mark survives this rebuild. After a first import this reads every stored message back, so
    it loads only what `build_persona` uses and decodes each distinct signals document once.
    """
    return sum(refresh_steps(store, settings, labels))


def refresh_steps(store: Store, settings: Settings, labels: Mapping[str, str], *,
                  chunk_messages: int | None = None, chunk_members: int | None = None
                  ) -> Iterator[int]:
    """`refresh_stale_tags` one chunk at a time: yields how many members each chunk rebuilt.

    The live bot runs its minutely refresh on the event loop that handles messages; done in
    one go it held the loop for the whole rebuild (318 ms for 600 members in bench_live, a
    backlog of 64 messages), so it takes small chunks and lets the loop run between them.
    Stopping between chunks loses nothing: the members not reached yet stay claimed, and a
    claim is taken again by the next refresh (`Store.stale_members`). The chunk limits
    default to the bulk ones (REBUILD_CHUNK_MESSAGES / _MEMBERS).
    """
    stale = store.stale_members()
    times = [t for t in (store.latest_message_ts(), BusinessStore.of(store).latest_ts())
             if t is not None]
    if not stale or not times:
        return  # no facts at all to judge from: the claims wait for the first ones
    as_of = max(times)
    ps = persona_settings(settings, learned_words(store, settings, as_of))
    decoded: dict[str, Signals] = {}
    sizes = store.history_sizes(stale)
    yield 0  # the claims are taken: a step of their own
    for part in _rebuild_chunks(stale, sizes, chunk_messages, chunk_members):
        with paused_gc():
            done = _rebuild(store, part, as_of, ps, labels, decoded)
        gc.collect(1)  # what this chunk made and dropped (see paused_gc)
        yield done


def _rebuild(store: Store, part: list[int], as_of: datetime, ps: PersonaSettings,
             labels: Mapping[str, str], decoded: dict[str, Signals]) -> int:
    """Rebuild and store one chunk of members' derived tags, and, from the history loaded
    anyway, what segmentation's columnar reader reads on every backend: the tags packed one
    row per member, top keywords and message aggregates."""
    business = BusinessStore.of(store)
    messages = store.message_history(part, until=as_of)
    orders = business.orders_for(part, until=as_of)
    events = business.events_for(part, until=as_of)
    rows: dict[int, list[TagRow]] = {}
    words: dict[int, KeptKeywords] = {}
    activity: dict[int, KeptActivity] = {}
    packed: dict[int, KeptTags] = {}
    for m in store.members(part):
        records = records_from_history(messages.get(m.pk, ()), decoded)
        persona = build_persona(m.member_id, m.name, records, as_of, ps, labels,
                                orders=orders.get(m.pk, ()), events=events.get(m.pk, ()))
        rows[m.pk] = [TagRow(t.code, t.kind, t.label, t.score, t.evidence, t.expires_at)
                      for t in persona.tags]
        kept = kept_keywords(records, KEPT_KEYWORDS)
        if kept is not None:
            words[m.pk] = kept
        activity[m.pk] = kept_activity(records, as_of)
        tags = kept_tags(persona.tags, {o.order_id for o in orders.get(m.pk, ())}, as_of)
        if tags is not None:
            packed[m.pk] = tags
    # the packed tags go in the tags' own transaction: they can never disagree
    store.replace_derived_tags(rows, computed_at=as_of, kept=packed)
    keep_member_keywords(store.engine, words)
    # after the tags: a crash in between leaves rows whose computed_us no longer
    # matches the tags', which a run then counts in SQL instead of trusting
    keep_member_activity(store.engine, activity)
    return len(part)


# A rebuild loads one chunk of members' histories at a time, so memory stays flat on a large
# back-fill: at most this many messages (unless one member alone has more) ... 250,000 held a
# first import's whole history (one table scan) and +110 MiB for the 44 MB benchmark file;
# 20,000 costs no CPU there (the SQLite scan reads only the chunk's pk range) and 10–15 % of
# the rebuild's CPU on a 1.7M-message back-fill (index reads), for 442 → 194 MiB.
REBUILD_CHUNK_MESSAGES = 20_000
# ... and this many members (the tag and keyword rows written per transaction).
REBUILD_CHUNK_MEMBERS = 20_000


def _rebuild_chunks(pks: list[int], sizes: Mapping[int, int], max_messages: int | None = None,
                    max_members: int | None = None) -> Iterable[list[int]]:
    """`pks` in order, cut by message count rather than member count: a chunk is then a pk
    range holding a share of the table, which SQLite reads by one scan of that range instead
    of a random index visit per message (storage/messages.py: `_sqlite_history`)."""
    max_messages = REBUILD_CHUNK_MESSAGES if max_messages is None else max_messages
    max_members = REBUILD_CHUNK_MEMBERS if max_members is None else max_members
    part: list[int] = []
    held = 0
    for pk in pks:
        n = sizes.get(pk, 0)
        if part and (held + n > max_messages or len(part) >= max_members):
            yield part
            part, held = [], 0
        part.append(pk)
        held += n
    if part:
        yield part


# Distinct signals documents kept decoded during one rebuild; then it starts over.
DECODED_MAX = 20_000


def records_from_history(rows: Iterable[HistoryRow], decoded: dict[str, Signals]
                         ) -> list[MessageRecord]:
    """Message records sharing one `Signals` per distinct stored document (read-only);
    `decoded` is the caller's cache of documents already decoded."""
    out = []
    for mid, ts, chat_id, mtype, raw in rows:
        if isinstance(raw, str):
            signals = decoded.get(raw)
            if signals is None:
                if len(decoded) >= DECODED_MAX:
                    decoded.clear()
                signals = decoded[raw] = Signals.from_json(json.loads(raw))
        else:
            signals = Signals.from_json(raw)
        out.append(MessageRecord(mid, ts, chat_id, mtype, signals))
    return out
