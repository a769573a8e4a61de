"""The one ingest path: file imports and live messages both come through here.

Events are analysed (one tokenisation per message → `Signals`) and written in batches, one
transaction per batch, so a crash never leaves half a batch and a re-run simply continues:
messages are keyed by (chat, platform id or stable hash), and known keys are skipped. After the
messages land, the stored tags of every member whose messages changed are rebuilt.

A message longer than `MAX_ANALYSED_CHARS` (a pasted article, an exporter's runaway XML) is
analysed on its first characters only: tokenising a megabyte would stall the import for
seconds per message and the tail adds nothing a persona can use. Its full text is still
stored, and the report counts it as `truncated` (with a warning naming its origin), so
nothing is dropped silently.

Chat repeats itself: "好的", "收到", "[图片]", a sticker, the same question pasted by many
members. Analysis is a pure function of (text, type, year of the timestamp) — the year is all
the analyser reads of the time, to age a "90后" — so each distinct triple is analysed (and its
JSON serialised) once per process and shared (`ANALYSIS_CACHE_SIZE` entries, then it starts over, so
memory stays flat on any import). The keys a batch brings that the cache lacks are analysed
together when the batch is cut (`Analyzer.analyse_many`: the complaint model runs on all of
them in one numpy pass), then the batch is written.

A big import may bring an `AnalysisPool` (handlers/ingest_pool.py): then the keys a batch has
not seen analysed go to worker processes when the batch is cut, and the batch is written
only after the next one has been read and sent, so the writer and the workers run at the
same time. Batches are cut at the same messages and hold the same rows as in one process.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.bulk import paused_gc
from handlers.events import MemberInfo, MessageEvent, Reject, SourceItem
from handlers.ingest_pool import AnalysisJob, AnalysisPool, CacheKey, Key
from handlers.learn import relearn
from handlers.personas import refresh_stale_tags
from handlers.rows import short
from handlers.settings import Settings
from persona.analyze import Analyzer
from storage.batches import Batch, Conflict, NewMessage, signals_json
from storage.repo import Store

log = logging.getLogger("siyu.ingest")

# Characters of one message that are analysed; the rest is stored but not tokenised. Read via
# `Settings.max_analysed_chars` once config has that key (this is the default until then).
MAX_ANALYSED_CHARS = Settings.max_analysed_chars  # the default; siyu.toml may change it
# Distinct (text, type, year) analyses kept: about 2 KiB each (the signals dict and its JSON),
# so 20,000 hold ≈ 40 MiB. What the cache is for, chat's repeats ("好的", "[图片]", one question
# pasted by many), recur far more often than every 20,000 distinct texts; at 100,000 an
# import of mostly distinct text held ≈ 200 MiB for hits it never got (docs/performance.md,
# Memory).
ANALYSIS_CACHE_SIZE = 20_000


@dataclass(slots=True)
class IngestReport:
    new: int = 0
    duplicate: int = 0
    self_skipped: int = 0
    opted_out: int = 0
    new_members: int = 0
    rejects: list[Reject] = field(default_factory=list)
    failed_files: list[str] = field(default_factory=list)
    personas_updated: int = 0
    # Messages longer than the analysis limit: stored whole, analysed on their start only.
    truncated: int = 0
    # A different message under an id already taken: one line each, the stored one is kept.
    conflicts: list[Reject] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "new": self.new, "duplicate": self.duplicate, "self_skipped": self.self_skipped,
            "opted_out": self.opted_out, "new_members": self.new_members,
            "personas_updated": self.personas_updated, "truncated": self.truncated,
            "rejected": [{"origin": r.origin, "reason": r.reason} for r in self.rejects],
            "conflicts": [{"origin": r.origin, "reason": r.reason} for r in self.conflicts],
            "failed_files": list(self.failed_files),
        }


@dataclass(slots=True)
class _Sent:
    """A cut batch whose new keys are being analysed by the pool: its messages without
    signals yet (with their keys), and the job that brings them."""

    batch: Batch
    unresolved: list[tuple[NewMessage, CacheKey]]
    job: AnalysisJob | None
    items: int
    # Set while its completion runs and left set if that raised: never written twice.
    failed: bool = False


_UNRESOLVED: tuple[dict[str, Any], str | None] = ({}, None)


class Ingestor:
    def __init__(self, store: Store, analyzer: Analyzer, settings: Settings,
                 labels: Mapping[str, str], pool: AnalysisPool | None = None) -> None:
        self.store = store
        self.pool = pool
        self.analyzer = analyzer
        self.settings = settings
        self.labels = labels
        self.max_analysed_chars = settings.max_analysed_chars
        # (analysed text, type, year) -> (signals JSON, its stored text). The dicts are shared
        # by every message with that key, so nothing downstream may mutate them.
        self._analysed: dict[CacheKey, tuple[dict[str, Any], str]] = {}

    def ingest(self, items: Iterable[SourceItem], report: IngestReport | None = None,
               progress: Callable[[int], None] | None = None) -> IngestReport:
        """Analyse and store `items`; call `finish()` once all sources are in."""
        report = report or IngestReport()
        with paused_gc():
            if self.pool is None:
                self._ingest(items, report, progress)
            else:
                self._ingest_pooled(self.pool, items, report, progress)
        return report

    def _ingest(self, items: Iterable[SourceItem], report: IngestReport,
                progress: Callable[[int], None] | None) -> None:
        """One process: each cut batch's new keys are analysed together (`_resolve`), then
        the batch is written."""
        batch = Batch()
        unresolved: list[tuple[NewMessage, CacheKey]] = []
        keys: dict[CacheKey, Key] = {}
        size = self.settings.batch_size
        pending = 0
        for item in items:
            pending += 1
            if isinstance(item, MessageEvent):
                self._add_message(batch, item, report, unresolved, keys)
            else:
                _add_other(batch, item, report)
            if len(batch.messages) >= size:
                self._resolve(unresolved, keys)
                self._flush(batch, report)
                batch, unresolved, keys = Batch(), [], {}
                gc.collect(1)  # what this batch made and dropped (see paused_gc)
                if progress:
                    progress(pending)
                pending = 0
        self._resolve(unresolved, keys)
        self._flush(batch, report)
        if progress and pending:
            progress(pending)

    def _resolve(self, unresolved: list[tuple[NewMessage, CacheKey]],
                 keys: dict[CacheKey, Key]) -> None:
        """Analyse a batch's new keys in one `Analyzer.analyse_many` call (the complaint
        model batched in numpy), give every waiting message its signals and keep them in the
        cache, as `_complete` does with the pool's results."""
        fresh = {key: (signals, signals_json(signals)) for key, signals in zip(
            keys, (s.to_json() for s in self.analyzer.analyse_many(list(keys.values()))),
            strict=True)}
        cache = self._analysed
        for message, key in unresolved:
            message.signals, message.signals_json = fresh[key]
        if len(cache) + len(fresh) > ANALYSIS_CACHE_SIZE:
            cache.clear()
        cache.update(fresh)

    def _ingest_pooled(self, pool: AnalysisPool, items: Iterable[SourceItem],
                       report: IngestReport, progress: Callable[[int], None] | None) -> None:
        """`_ingest` with the analysis in `pool`: each cut batch is sent, then the batch
        before it is completed and written while the workers analyse this one."""
        size = self.settings.batch_size
        batch = Batch()
        unresolved: list[tuple[NewMessage, CacheKey]] = []
        keys: dict[CacheKey, Key] = {}
        sent: _Sent | None = None
        pending = 0
        try:
            for item in items:
                pending += 1
                if isinstance(item, MessageEvent):
                    self._add_message(batch, item, report, unresolved, keys, sent)
                else:
                    _add_other(batch, item, report)
                if len(batch.messages) >= size:
                    sent = self._advance(pool, sent, batch, unresolved, keys, pending, report,
                                         progress)
                    batch, unresolved, keys, pending = Batch(), [], {}, 0
            sent = self._advance(pool, sent, batch, unresolved, keys, pending, report, progress)
            self._complete(sent, report, progress)
            sent = None
        except Exception:
            # The reader failed after `sent` was cut: one process had written that batch
            # already, so it is written here too (unless writing it is what failed).
            if sent is not None and not sent.failed:
                self._complete(sent, report, progress)
                sent = None
            raise
        finally:
            if sent is not None and sent.job is not None:
                sent.job.cancel()

    def _advance(self, pool: AnalysisPool, sent: _Sent | None, batch: Batch,
                 unresolved: list[tuple[NewMessage, CacheKey]], keys: dict[CacheKey, Key],
                 items: int, report: IngestReport,
                 progress: Callable[[int], None] | None) -> _Sent:
        """Send the batch just cut, then complete the one sent before it."""
        current = self._send(pool, batch, unresolved, keys, items)
        if sent is not None:
            self._complete(sent, report, progress)
        return current

    def _send(self, pool: AnalysisPool, batch: Batch,
              unresolved: list[tuple[NewMessage, CacheKey]],
              keys: dict[CacheKey, Key], items: int) -> _Sent:
        job = pool.submit(keys) if keys else None
        return _Sent(batch, unresolved, job, items)

    def _complete(self, sent: _Sent, report: IngestReport,
                  progress: Callable[[int], None] | None) -> None:
        """Fill in a sent batch's signals and write it. A key the batch did not send was
        sent by the batch before, whose results are in the cache by now (the cache starts
        over only here, after the batch is filled); the in-process analysis is the last
        resort, and gives the same result."""
        sent.failed = True  # until it is written
        fresh = sent.job.result() if sent.job is not None else {}
        cache = self._analysed
        for message, key in sent.unresolved:
            analysed = fresh.get(key) or cache.get(key)
            if analysed is None:
                text, kind, _year = key
                analysed = self._analyse(text, kind, message.ts)
            message.signals, message.signals_json = analysed
        if len(cache) + len(fresh) > ANALYSIS_CACHE_SIZE:
            cache.clear()
        cache.update(fresh)
        self._flush(sent.batch, report)
        sent.failed = False
        gc.collect(1)  # what this batch made and dropped (see paused_gc)
        if progress and sent.items:
            progress(sent.items)

    def _analyse(self, text: str | None, msg_type: str,
                 ts: datetime) -> tuple[dict[str, Any], str]:
        signals = self.analyzer.analyse(text, msg_type, ts).to_json()
        return signals, signals_json(signals)

    def finish(self, report: IngestReport) -> IngestReport:
        relearn(self.store, self.settings)
        report.personas_updated = refresh_stale_tags(self.store, self.settings, self.labels)
        return report

    def _add_message(self, batch: Batch, ev: MessageEvent, report: IngestReport,
                     unresolved: list[tuple[NewMessage, CacheKey]],
                     keys: dict[CacheKey, Key], sent: _Sent | None = None) -> None:
        """Add one message to the batch. A key not in the cache is left for the batch's
        analysis (`_resolve` in one process, the workers with a pool): recorded in `keys`
        (unless the batch before already sent it to the pool) and the message in
        `unresolved`."""
        if ev.is_self:
            report.self_skipped += 1
            return
        batch.chats.setdefault(ev.chat, (ev.chat_name, ev.is_group, ev.platform))
        key = (ev.platform, ev.sender)
        if ev.sender_name or key not in batch.people:
            batch.people[key] = ev.sender_name or batch.people.get(key) or ev.sender
        text = ev.text
        limit = self.max_analysed_chars
        if text is not None and len(text) > limit:
            report.truncated += 1
            log.warning("%s: 消息过长（%d 字），只分析前 %d 字，全文照常保存",
                        ev.origin, len(text), limit)
            text = text[:limit]
        msg_type = str(ev.type)
        key = (text, msg_type, ev.ts.year)
        analysed: tuple[dict[str, Any], str | None] | None = self._analysed.get(key)
        if analysed is None:
            if key not in keys and (sent is None or sent.job is None
                                    or key not in sent.job.sent):
                keys[key] = (text, msg_type, ev.ts)
            analysed = _UNRESOLVED
        # Positional: keyword arguments cost three times as much here, once per message.
        message = NewMessage(ev.id, ev.chat, ev.platform, ev.sender, ev.ts, msg_type, ev.text,
                             analysed[0], ev.origin, analysed[1])
        batch.messages.append(message)
        if analysed is _UNRESOLVED:
            unresolved.append((message, key))

    def _flush(self, batch: Batch, report: IngestReport) -> None:
        if not (batch.messages or batch.people or batch.chats):
            return
        res = self.store.write_batch(batch)
        report.new += res.new
        report.duplicate += res.duplicate
        report.opted_out += res.opted_out
        report.new_members += res.new_members
        report.conflicts.extend(Reject(c.message.origin, conflict_reason(c))
                                for c in res.conflicts)


def _add_other(batch: Batch, item: SourceItem, report: IngestReport) -> None:
    """A member entry or a rejected line: no analysis, the same in both paths."""
    if isinstance(item, MemberInfo):
        key = (item.platform, item.platform_id)
        batch.people.setdefault(key, item.name)
        batch.names.setdefault(key, set()).update((item.name, *item.aliases))
        if item.staff_role:
            batch.staff[key] = item.staff_role
    elif isinstance(item, Reject):
        report.rejects.append(item)


def conflict_reason(conflict: Conflict) -> str:
    """Why a message was not stored: what differs from the one its id already holds.

    Like an order conflict (handlers/business.py), it names the id, where the stored one came
    from and each difference, so the operator can tell a broken export from an edited one.
    Only the same chat can conflict: the same id in another chat is another message.
    """
    mine, stored = conflict.message, conflict.stored
    shown = {
        "sender": lambda: f"sender 不同（本行 {short(mine.sender)}）",
        "ts": lambda: f"ts {stored.ts.isoformat()} → {mine.ts.isoformat()}",
        "type": lambda: f"type {stored.type} → {mine.type}",
        "text": lambda: f"内容 {short(stored.text)} → {short(mine.text)}",
    }
    diffs = "；".join(shown[name]() for name in conflict.differ)
    where = f"（来自 {stored.origin}）" if stored.origin else ""
    return f"消息 id {short(mine.id)} 已导入过{where}但内容不同：{diffs}；已有消息不会被覆盖"
