"""Segmentation runs: gather every member's facts as columns, run, store, compare.

`persona/segment.py` does the thinking (pure); this module only collects its inputs from
storage, hands it the previous run so cluster codes stay stable and changes can be reported,
and stores the result so the next run, `siyu report` and the bot can use it.

Inputs come as columns (`gather_columns`): SQL aggregates and the stored derived tags, read in
bulk by `storage/segment_inputs.py`, projected to the run's as_of by `persona/tabulate.py`. Only the
members whose stored tags cannot stand for that moment (stale, missing, or computed after
as_of: a run in the past) get a persona built from their messages, a chunk at a time. Quotes,
chats, keywords and the join channel are read afterwards for the members the persona cards
sample, never for everyone. `gather_inputs` keeps the old per-member shape for callers and
tests that want `MemberInput`s.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from handlers.bulk import paused_gc
from handlers.learn import learned_words
from handlers.personas import (
    category_namer,
    joined,
    persona_settings,
    segment_params,
    tag_from_row,
    to_record,
)
from handlers.settings import Settings, keep_runs
from handlers.staff import Staff, staff_of
from persona import phrases
from persona.aggregate import build_persona
from persona.member_columns import MemberColumns, columns_from_inputs, merge_tags
from persona.member_table import Detail, MemberInput, Quote, join_channel
from persona.segment import run_segmentation
from persona.segment_params import SegmentParams
from persona.segment_result import SegmentResult
from persona.signals import Signals
from persona.tabulate import tabulate
from storage.business import BusinessStore
from storage.members import MemberRow
from storage.messages import StoredMessage
from storage.repo import Store
from storage.segment_inputs import ColumnReader
from storage.segments import SegmentColumns, SegmentStore, StoredRun, stored_document

QUOTE_INTENTS = frozenset({"question", "complaint", "purchase_intent", "praise"})
MAX_QUOTES = 10
MAX_KEYWORDS = 30


@dataclass(frozen=True, slots=True)
class SegmentOutcome:
    """A stored run, and the run it was compared with (`SegmentStore.comparable`: its
    document without the members' dynamic tags, which the summaries do not show)."""

    run_id: int
    result: SegmentResult
    previous: StoredRun | None


def gather_inputs(store: Store, settings: Settings, labels: Mapping[str, str],
                  as_of: datetime) -> tuple[list[MemberRow], list[MemberInput]]:
    """Every member's persona as of `as_of`, with orders, events, chats, quotes, keywords
    (members who had not joined by then are left out: `handlers/personas.py: joined`)."""
    business = BusinessStore(store.engine)
    members = store.members()
    messages = store.messages_for(None, until=as_of)
    orders = business.orders_for(None, until=as_of)
    events = business.events_for(None, until=as_of)
    manual = store.tags_for([m.pk for m in members], source="manual")
    chat_names = store.chat_labels()
    ps = persona_settings(settings, learned_words(store, settings, as_of))
    inputs: list[MemberInput] = []
    kept: list[MemberRow] = []
    for m in members:
        stored = messages.get(m.pk, [])
        records = [to_record(msg) for msg in stored]
        persona = build_persona(m.member_id, m.name, records, as_of, ps, labels,
                                manual_tags=[tag_from_row(r) for r in manual.get(m.pk, ())],
                                orders=orders.get(m.pk, ()), events=events.get(m.pk, ()))
        if not joined(persona, bool(events.get(m.pk)), m, as_of):
            continue  # not joined yet as of `as_of` (not_yet_rows, the column path's rule)
        kept.append(m)
        detail = member_detail(stored, [r.signals for r in records], chat_names)
        inputs.append(MemberInput(
            persona=persona, orders=tuple(orders.get(m.pk, ())),
            events=tuple(events.get(m.pk, ())), chats=detail.chats,
            join_channel=detail.join_channel, quotes=detail.quotes, keywords=detail.keywords))
    return kept, inputs


def member_detail(stored: list[StoredMessage], signals: list[Signals],
                  chat_names: Mapping[str, str | None]) -> Detail:
    """One member's text parts for persona cards: chats (most active first), quotes and
    keywords (newest first), and the channel of their last join notice."""
    chats = Counter(chat_names.get(msg.chat_id) or msg.chat_id for msg in stored
                    if msg.type != "system")
    words: Counter[str] = Counter()
    quotes: list[Quote] = []
    join: dict[str, str] | None = None
    join_key: tuple[Any, str] | None = None
    for sig, msg in sorted(zip(signals, stored, strict=True), key=lambda p: p[1].ts,
                           reverse=True):
        words.update(sig.keywords)
        hit = tuple(i for i in sig.intents if i in QUOTE_INTENTS)
        if hit and msg.text and len(quotes) < MAX_QUOTES:
            quotes.append(Quote(msg.id, msg.ts, msg.text, hit,
                                chat_names.get(msg.chat_id) or msg.chat_id))
        # the last join notice, as build_persona picks it for the join tag
        if sig.join and (join_key is None or (msg.ts, msg.id) > join_key):
            join, join_key = sig.join, (msg.ts, msg.id)
    return Detail(chats=tuple(name for name, _ in chats.most_common()),
                  join_channel=join_channel(join), quotes=tuple(quotes),
                  keywords=tuple(w for w, _ in words.most_common(MAX_KEYWORDS)))


def gather_columns(store: Store, settings: Settings, labels: Mapping[str, str],
                   as_of: datetime) -> tuple[np.ndarray, MemberColumns]:
    """Every member as columns for `run_segmentation`, with each row's member pk.

    On SQLite and PostgreSQL the bulk reader does it without a per-member object; on any
    other engine the per-member inputs are turned into the same columns.
    """
    staff = staff_of(store, settings)
    reader = ColumnReader(store.engine)
    if not reader.supported:
        members, inputs = gather_inputs(store, settings, labels, as_of)
        pk_of = {m.member_id: m.pk for m in members}
        cols = columns_from_inputs(inputs)
        pks = np.array([pk_of[i] for i in cols.ids], dtype=np.int64)
        return without_rows(pks, cols, _staff_rows(store, staff, pks))
    read = reader.read(as_of)
    cols, pks = read.columns, read.pks
    _rebuild_unusable(store, settings, labels, as_of, read.unusable, pks, cols)
    drop = _staff_rows(store, staff, pks) | not_yet_rows(store, pks, cols, as_of)
    pks, cols = without_rows(pks, cols, drop)
    cols.details = _DetailLoader(store, pks, as_of)
    return pks, cols


def _staff_rows(store: Store, staff: Staff, pks: np.ndarray) -> np.ndarray:
    """Rows of staff members (handlers/staff.py): they are never counted in a segment."""
    known = np.isin(pks, np.fromiter(staff.pks, dtype=np.int64, count=len(staff.pks)))
    if staff.ids:  # configured by name or id and not yet resolved to a pk: ask the rows
        rest = [int(p) for p in pks[~known]]
        by_id = {m.pk for m in store.members(rest) if m in staff} if rest else set()
        known |= np.isin(pks, np.fromiter(by_id, dtype=np.int64, count=len(by_id)))
    return known


def not_yet_rows(store: Store, pks: np.ndarray, cols: MemberColumns, as_of: datetime
                 ) -> np.ndarray:
    """Rows of members who had not joined by the run's as_of: nothing up to then (no message
    or join notice, order or content event) and a first appearance after it. A run in the
    past counted them as 潜在用户; the rule is `handlers/personas.py: joined`. Only the
    members with nothing up to then are looked up (none, as of now)."""
    rows = np.arange(len(cols.ids))
    empty = (np.isnan(cols.first_seen) & ~np.isin(rows, cols.order_member)
             & ~np.isin(rows, cols.event_member))
    later = {m.pk for m in store.members([int(p) for p in pks[empty]])
             if m.first_seen is not None and m.first_seen > as_of} if empty.any() else set()
    return empty & np.isin(pks, np.fromiter(later, dtype=np.int64, count=len(later)))


def without_rows(pks: np.ndarray, cols: MemberColumns, drop: np.ndarray
                 ) -> tuple[np.ndarray, MemberColumns]:
    """The columns without the rows `drop` marks, every fact array's member index remapped."""
    if not drop.any():
        return pks, cols
    keep = ~drop
    new_row = np.cumsum(keep) - 1
    c = cols
    rows = np.flatnonzero(keep)
    order = keep[c.order_member] if len(c.order_member) else np.zeros(0, dtype=bool)
    event = keep[c.event_member] if len(c.event_member) else np.zeros(0, dtype=bool)
    tag = keep[c.tag_member] if len(c.tag_member) else np.zeros(0, dtype=bool)
    kw = keep[c.kw_member] if len(c.kw_member) else np.zeros(0, dtype=bool)
    new_tag = np.cumsum(tag) - 1
    out = replace(
        c, ids=[c.ids[r] for r in rows], messages=c.messages[keep],
        recent_messages=c.recent_messages[keep], first_seen=c.first_seen[keep],
        last_active=c.last_active[keep],
        order_member=new_row[c.order_member[order]], order_ts=c.order_ts[order],
        order_amount=c.order_amount[order], order_coupon=c.order_coupon[order],
        order_category=[v for v, k in zip(c.order_category, order, strict=True) if k],
        order_id=[v for v, k in zip(c.order_id, order, strict=True) if k],
        event_member=new_row[c.event_member[event]], event_ts=c.event_ts[event],
        event_type=c.event_type[event],
        tag_member=new_row[c.tag_member[tag]], tag_key=c.tag_key[tag],
        tag_score=c.tag_score[tag], tag_age=c.tag_age[tag],
        tag_chat_evidence=c.tag_chat_evidence[tag],
        tag_evidence_len=c.tag_evidence_len[tag], tag_expires=c.tag_expires[tag],
        tag_evidence={int(new_tag[t]): ev for t, ev in c.tag_evidence.items() if tag[t]},
        kw_member=new_row[c.kw_member[kw]], kw_word=c.kw_word[kw],
        details=lambda asked: c.details([int(rows[r]) for r in asked]))
    return pks[keep], out


def _rebuild_unusable(store: Store, settings: Settings, labels: Mapping[str, str],
                      as_of: datetime, rows: np.ndarray, pks: np.ndarray,
                      cols: MemberColumns) -> None:
    """Personas as of `as_of` for the members whose stored tags cannot be used, in chunks
    of a thousand so memory stays flat even when that is everyone (a run in the past)."""
    business = BusinessStore(store.engine)
    ps = persona_settings(settings, learned_words(store, settings, as_of))
    for start in range(0, len(rows), 1000):
        part_rows = rows[start : start + 1000].tolist()
        part = [int(pks[r]) for r in part_rows]
        messages = store.messages_for(part, until=as_of)
        orders = business.orders_for(part, until=as_of)
        events = business.events_for(part, until=as_of)
        by_pk = {m.pk: m for m in store.members(part)}
        inputs = []
        for pk in part:
            m = by_pk[pk]
            records = [to_record(msg) for msg in messages.get(pk, ())]
            persona = build_persona(m.member_id, m.name, records, as_of, ps, labels,
                                    orders=orders.get(pk, ()), events=events.get(pk, ()))
            inputs.append(MemberInput(persona=persona, orders=tuple(orders.get(pk, ()))))
        # rows are in member-id order, as columns_from_inputs sorts them
        merge_tags(cols, part_rows, columns_from_inputs(inputs))


class _DetailLoader:
    """Text parts for the rows a persona card samples, read when asked (bounded by the
    card sample size), with the chat names read once."""

    def __init__(self, store: Store, pks: np.ndarray, as_of: datetime) -> None:
        self.store = store
        self.pks = pks
        self.as_of = as_of
        self._chat_names: dict[str, str | None] | None = None
        # bounded by the cards: at most card_sample members per card
        self._cache: dict[int, Detail] = {}

    def __call__(self, rows: Sequence[int]) -> list[Detail]:
        if self._chat_names is None:
            self._chat_names = self.store.chat_labels()
        # the value tiers and the lifecycle stages each cover everyone, so a small community's
        # members are asked for several times: read each once
        missing = sorted({int(r) for r in rows} - self._cache.keys())
        if missing:
            pks = [int(self.pks[r]) for r in missing]
            found = ColumnReader(self.store.engine).details(
                pks, self.as_of, self._chat_names, QUOTE_INTENTS, MAX_QUOTES, MAX_KEYWORDS)
            for r, pk in zip(missing, pks, strict=True):
                self._cache[r] = found[pk]
        return [self._cache[int(r)] for r in rows]


def run_and_store(store: Store, settings: Settings, labels: Mapping[str, str],
                  as_of: datetime) -> SegmentOutcome:
    """Run segmentation as of `as_of` against the previous run, and store it."""
    params = segment_params(settings)
    keep = keep_runs(settings)  # a wrong value is said before the run, not after it
    runs = SegmentStore(store.engine)
    # Circles and cards read the phrase dictionary. Loaded there, on a process's first run,
    # jieba's import left a reference cycle through the frames that imported it, which with
    # the collector paused kept clustering's frames, its matrices and the whole member table
    # alive to the end of the run (≈ 0.5 GB at a million members); loaded here, before any.
    with paused_gc():
        pks, result, previous = segment_as_of(store, settings, labels, runs, as_of, params)
        # to_json and the stored rows are a million small dicts more: still no collections
        run_id = store_result(runs, as_of, params, pks, result)
    # Older runs go (`[segment] keep_runs`); never this one, nor the one it was compared with.
    runs.prune(keep, {run_id, *([previous.id] if previous else [])})
    return SegmentOutcome(run_id, result, previous)


def segment_as_of(store: Store, settings: Settings, labels: Mapping[str, str],
                  runs: SegmentStore, as_of: datetime, params: SegmentParams,
                  before_id: int | None = None
                  ) -> tuple[np.ndarray, SegmentResult, StoredRun | None]:
    """Segment the community as of `as_of` against the newest stored run up to then (and
    before run `before_id`: an erasure recomputing that run): the members' pks, the result
    and the run compared with. Call it with the collector paused (`paused_gc`), as a run and
    an erasure's recomputation both do: a million members are many small objects."""
    # Circles and cards read the phrase dictionary. Loaded there, on a process's first run,
    # jieba's import left a reference cycle through the frames that imported it, which with
    # the collector paused kept clustering's frames, its matrices and the whole member table
    # alive to the end of the run (≈ 0.5 GB at a million members); loaded here, before any.
    phrases.prepare()
    pks, columns = gather_columns(store, settings, labels, as_of)
    # the columns (1.3 GB at a million members) are done with once tabulated: gone
    # before clustering, cards and the stored document add their own memory
    table = tabulate(columns, as_of, params, settings.half_life_days)
    del columns
    # read back after the columns are gone: its codes (≈ 190 MB at a million members)
    # are not held through the read and tabulate's peak
    found = runs.comparable(until=as_of, before_id=before_id)
    previous, prev_result = found if found else (None, None)
    result = run_segmentation(table, as_of, params, previous=prev_result,
                              half_life_days=settings.half_life_days,
                              category_interests=category_namer(settings))
    del table, prev_result, found
    # and whatever else a cycle holds of the table goes now, before the stored document
    # and rows are made: the collector is paused, and a cycle would keep it to the end
    gc.collect()
    return pks, result, previous


def member_codes(pks: np.ndarray, result: SegmentResult) -> SegmentColumns:
    """A run's stored rows: each member's codes (row i of the result is the member with pk
    `pks[i]`), as columns, no dict per member."""
    if len(pks) != len(result.member_ids):
        raise ValueError(f"store_result: {len(pks)} pks for {len(result.member_ids)} members")
    return SegmentColumns(pks.tolist(), result.value, result.lifecycle, result.motivation,
                          result.layer, result.cluster)


def store_result(runs: SegmentStore, as_of: datetime, params: SegmentParams, pks: np.ndarray,
                 result: SegmentResult, document: str | bytearray | None = None) -> int:
    """Store a run: its summary document (`SegmentResult.to_stored_json`) plus one row per
    member with the member's codes (row i of the result is the member with pk `pks[i]`).

    Every member's assignment lives in those rows only: inside the document too, they were a
    few hundred megabytes at a million members (the dict, its serialisation, the driver's
    copy), a third of the store time and the run's peak of memory. The document is
    serialised once here (or given, already serialised, as `document`).
    """
    if document is None:
        document = stored_document(result.stored_summary(), "dynamic_tags",
                                   result.dynamic_rows())
    codes = member_codes(pks, result)
    return runs.save_run(as_of, datetime.now(UTC), params.to_json(), document, codes)


def run_document(store: Store, run: StoredRun) -> dict[str, Any]:
    """A stored run as the `siyu segment --json` document, every member's assignment inline
    (read back from the run's rows for runs stored without them)."""
    return SegmentStore(store.engine).document(run)


def latest_stored(store: Store, as_of: datetime) -> StoredRun | None:
    """The newest stored run up to `as_of`, or None when no run is stored yet: a read, never
    a segmentation (the bot answers from it on its event loop)."""
    return SegmentStore(store.engine).latest_run(until=as_of)


def latest_or_new(store: Store, settings: Settings, labels: Mapping[str, str],
                  as_of: datetime) -> tuple[StoredRun, StoredRun | None]:
    """The newest stored run up to `as_of` (running one first when there is none), and the
    run before it, for reports."""
    latest = latest_stored(store, as_of)
    if latest is None:
        run_and_store(store, settings, labels, as_of)
        latest = latest_stored(store, as_of)
        assert latest is not None
    return latest, SegmentStore(store.engine).latest_run(until=latest.as_of,
                                                         before_id=latest.id)
