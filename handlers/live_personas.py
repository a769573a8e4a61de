"""Personas for the live suggestion hook, from a per-process cache of active members' facts.

A triggering message needs its sender's persona. `handlers.personas.build_personas` reads the
member's whole history (messages, orders, content events) back on every call, so the live
path's slowest messages were the ones that mattered most. Here each recently active member's
message records, orders and events stay in memory (a bounded LRU): the hook appends every
message it sees stored, and one indexed query (`LiveFactStore.fact_versions`: count and newest
time of each kind) tells whether another process, or an erasure, changed the member since; if
so the member is read again in full. Rows are only ever inserted or deleted, never edited in
place, so equal counts and newest times mean the same rows.

The persona is the same one `build_personas` computes (tests compare them): the same records,
orders and events go into `build_persona`, which drops whatever is after `as_of` itself, and
the manual tags and the latest segmentation run's segments are read fresh each time.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from handlers.learn import latest_learned
from handlers.personas import (
    DECODED_MAX,
    PersonaView,
    apply_run_segments,
    persona_settings,
    records_from_history,
    tag_from_row,
    to_record,
)
from handlers.settings import Settings
from persona.aggregate import build_persona
from persona.commerce import ContentEventRecord, OrderRecord
from persona.persona import MessageRecord
from persona.signals import Signals
from storage.business import BusinessStore
from storage.live_facts import FactVersion, LiveFactStore
from storage.messages import StoredMessage
from storage.repo import Store

# Members kept; a member's history stays whole, so this bounds memory by the busiest members.
MAX_MEMBERS = 2000
# The stored form of a signals document (storage/db.py writes JSON this way), as its key.
_stored_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(slots=True)
class _Facts:
    records: list[MessageRecord]
    # (chat, id) of each record: a message is its chat's id (the same id in two chats is two)
    ids: set[tuple[str, str]]
    newest: datetime | None
    orders: list[OrderRecord]
    events: list[ContentEventRecord]
    version: FactVersion = field(init=False)

    def __post_init__(self) -> None:
        self.version = self._version()

    def _version(self) -> FactVersion:
        return FactVersion(len(self.records), self.newest,
                           len(self.orders), max((o.ts for o in self.orders), default=None),
                           len(self.events), max((e.ts for e in self.events), default=None))

    def add(self, rec: MessageRecord) -> None:
        key = (rec.chat_id, rec.id)
        if key in self.ids:
            return
        self.ids.add(key)
        self.records.append(rec)
        self.newest = rec.ts if self.newest is None else max(self.newest, rec.ts)
        v = self.version
        self.version = v._replace(messages=v.messages + 1, newest_message=self.newest)


class LivePersonas:
    """`build_personas` for the live hook, without reading active members' history back."""

    def __init__(self, store: Store, settings: Settings, labels: Mapping[str, str],
                 max_members: int = MAX_MEMBERS) -> None:
        self.store, self.settings, self.labels = store, settings, labels
        self.ps = persona_settings(settings, latest_learned(store, settings))
        self.facts = LiveFactStore(store.engine)
        self.business = BusinessStore.of(store)
        self.max_members = max_members
        self._cache: OrderedDict[int, _Facts] = OrderedDict()
        # One read-only `Signals` per distinct stored document, shared by every cached record
        # that carries it, as the bulk rebuild shares them (`records_from_history`, which
        # also bounds it): chat repeats itself ("好的", "谢谢", a sticker), and a `Signals`
        # of its own with its lists per record made the cache about five tracked objects a
        # message, for the collector to walk (about two now, in bench_live).
        self._decoded: dict[str, Signals] = {}
        self.loads = 0  # members read in full (misses and stale entries): for tests and benches

    def note(self, msg: StoredMessage, rec: MessageRecord | None = None) -> None:
        """A message this process saw stored: appended when its sender is cached."""
        facts = self._cache.get(msg.member_pk)
        if facts is not None:
            facts.add(rec if rec is not None else self._record(msg))

    def _record(self, msg: StoredMessage) -> MessageRecord:
        if not isinstance(msg.signals, dict):
            return to_record(msg)
        key = _stored_text(msg.signals)
        signals = self._decoded.get(key)
        if signals is None:
            if len(self._decoded) >= DECODED_MAX:
                self._decoded.clear()
            signals = self._decoded[key] = Signals.from_json(msg.signals)
        return MessageRecord(msg.id, msg.ts, msg.chat_id, msg.type, signals)

    def forget(self, pk: int | None = None) -> None:
        """Drop one member (or everyone): the next build reads them again."""
        if pk is None:
            self._cache.clear()
        else:
            self._cache.pop(pk, None)

    def build(self, as_of: datetime, pks: Iterable[int]) -> list[PersonaView]:
        """Personas of the given members as of `as_of`, in member order (as `build_personas`)."""
        members = self.store.members(pks)
        wanted = [m.pk for m in members]
        if not wanted:
            return []
        facts = self._current(wanted)
        manual = self.store.tags_for(wanted, source="manual")
        ranked = self.facts.run_segments(wanted, as_of)
        out = []
        for m in members:
            f = facts[m.pk]
            persona = build_persona(m.member_id, m.name, f.records, as_of, self.ps, self.labels,
                                    manual_tags=[tag_from_row(r) for r in manual.get(m.pk, ())],
                                    orders=f.orders, events=f.events)
            if m.pk in ranked:
                apply_run_segments(persona, ranked[m.pk])
            out.append(PersonaView(m, persona))
        return out

    def _current(self, pks: list[int]) -> dict[int, _Facts]:
        versions = self.facts.fact_versions(pks)
        out: dict[int, _Facts] = {}
        stale: list[int] = []
        for pk in pks:
            f = self._cache.get(pk)
            if f is not None and f.version == versions[pk]:
                self._cache.move_to_end(pk)
                out[pk] = f
            else:
                stale.append(pk)
        if stale:
            out.update(self._load(stale, versions))
        return out

    def _load(self, pks: list[int], versions: Mapping[int, FactVersion]
              ) -> dict[int, _Facts]:
        """Everything stored about these members, read now (no time bound: `build_persona`
        applies `as_of`). Kinds the version query found none of are not asked for (most
        chat members have no orders); one stored meanwhile changes the version, so the next
        build reads the member again."""
        self.loads += len(pks)
        history = self.store.message_history(pks)
        buyers = [pk for pk in pks if versions[pk].orders]
        viewers = [pk for pk in pks if versions[pk].events]
        orders = self.business.orders_for(buyers) if buyers else {}
        events = self.business.events_for(viewers) if viewers else {}
        out: dict[int, _Facts] = {}
        for pk in pks:
            records = records_from_history(history.get(pk, ()), self._decoded)
            f = _Facts(records, {(r.chat_id, r.id) for r in records},
                       max((r.ts for r in records), default=None),
                       orders.get(pk, []), events.get(pk, []))
            out[pk] = f
            self._cache[pk] = f
            self._cache.move_to_end(pk)
        while len(self._cache) > self.max_members:
            self._cache.popitem(last=False)
        return out
