"""The live path under load: a real Bot fed by an in-memory transport at a target message rate.

    python scripts/bench_live.py [--rate 200] [--seconds 5] [--trigger-share 0.2]
                                 [--dup-share 0.01] [--drain-seconds 30] [--notify-cap N]
                                 [--profile] [--quick] [--keep DIR]
                                 [--llm-delay SECONDS] [--llm-timeout SECONDS]

Why this shape:
* The path measured is exactly the one a Wechaty message takes: `Dispatcher.feed(event)` →
  ingest (analyse, one SQLite transaction) → message hooks (suggestion triggers, persona build
  for the triggering member, drafting, the notify queue) → private sends to the operator. The
  Bot is the real `bot.runner.Bot` started with `Bot.run()` (scheduler and shutdown flush
  included) on a fresh SQLite file and a temporary siyu.toml; only the transport is fake, and
  it lives here because it is a measuring instrument, not a product transport.
* Messages arrive on a fixed schedule (message i is due at i / rate seconds), like a busy group
  does, not as fast as the bot can take them. Handling is awaited in arrival order, as the
  Wechaty transport does; when the bot is slower than the rate, later messages wait, and that
  wait is reported (backlog, time from arrival to handled) instead of being hidden by a
  closed-loop "as fast as possible" number. The run is bounded: arrivals stop after
  `--seconds`, and whatever is still waiting `--drain-seconds` later is abandoned and counted.
* Texts are the sample community's bulk chat (scripts/sample_community.py iter_bulk_messages)
  from its real senders; the product's own analyser sorts them beforehand into triggering
  (question / complaint / purchase intent) and other lines, so `--trigger-share` of the stream
  makes suggestions. A `--dup-share` of deliveries are re-deliveries of an earlier message
  (same platform id), as a reconnecting transport produces; the database must hold exactly the
  messages fed minus those duplicates, and the script checks it.

* `--llm-delay S` turns the optional LLM polish on (`[llm]` in the temporary siyu.toml) against a
  local OpenAI-compatible server in a child process that answers every request after S seconds
  (a local model's pace; issue 18 used 2 s), so the measurement shows whether a polish holds
  up the messages. The server runs in its own process, as a real one would, so its threads do
  not compete with the bot for the interpreter.

The machine is shared and noisy: read percentiles and ratios from one run, never compare
absolute numbers across runs. `--profile` runs cProfile over the feeding phase (latencies are
inflated while profiling; use a separate run for the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import math
import os
import platform
import pstats
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_llm_endpoint import SlowLLM  # noqa: E402
from sample_community import (  # noqa: E402
    BULK_GROUP_NAME,
    _operators,  # the brand accounts: their announcements are not member chat
    iter_bulk_messages,
)

from bot.transports.base import EventHandler, RecordingSends  # noqa: E402
from handlers.events import MessageEvent, MessageType  # noqa: E402

TRIGGER_INTENTS = frozenset({"question", "complaint", "purchase_intent"})
MANAGER = "bench-manager"
OPERATOR = "bench-operator"
BOT_ID = "bench-bot"
CHAT_ID = "bench-live@chatroom"
MAX_MESSAGES = 200_000
LATENCY_HEADER = (f"{'latency (ms)':32} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} "
                  f"{'mean':>8}")


# --------------------------------------------------------------------------------------------
# The instrument: an in-memory transport that delivers on a schedule and times each delivery


@dataclass(slots=True)
class Planned:
    """One delivery: a new message (sender, name, text) or a re-delivery of an earlier one."""

    sender: str = ""
    name: str = ""
    text: str = ""
    trigger: bool = False
    dup_of: int | None = None  # index of the earlier delivery repeated here


class Delivery(NamedTuple):
    """One message's timings (made after the run from `MemoryTransport.timings`)."""

    due: float  # seconds after start when the message arrives
    start: float  # when handling began
    end: float  # when dispatcher.feed returned
    cpu: float  # this thread's CPU time inside dispatcher.feed
    trigger: bool  # a new message expected to trigger a suggestion
    statements: int = 0  # SQL statements SQLite ran for it (--statements)
    transactions: int = 0  # of which BEGINs: connections that opened a transaction


@dataclass
class MemoryTransport(RecordingSends):
    """Implements bot.transports.base.Transport in memory.

    `run` delivers the planned messages at `rate` per second and records, per message, when it
    was due, when handling started and when it ended. Sends are kept in `sent`.
    """

    plan: list[Planned]
    rate: float
    seconds: float
    drain_seconds: float
    profiler: cProfile.Profile | None = None
    traced: list[str] | None = None  # --statements: what SQLite ran, appended by its trace
    name: str = "bench"
    self_id: str | None = BOT_ID
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    # Each delivery as a plain tuple of numbers while the bot runs: the collector stops
    # tracking those, so the bench's own records do not lengthen the bot's full collections
    # (a dataclass per message was a quarter of the objects they walked; a named tuple is
    # tracked for good).
    timings: list[tuple[Any, ...]] = field(default_factory=list)
    # the events a later duplicate delivers again (only those: see Delivery)
    events: dict[int, MessageEvent] = field(default_factory=dict)
    duplicates_fed: int = 0
    triggers_fed: int = 0
    abandoned: int = 0
    finished_at: float = 0.0
    _stopped: bool = False

    async def run(self, on_event: EventHandler) -> None:
        loop = asyncio.get_running_loop()
        wall0 = datetime.now(UTC)
        t0 = loop.time()
        cutoff = self.seconds + self.drain_seconds
        repeated = {item.dup_of for item in self.plan if item.dup_of is not None}
        if self.profiler is not None:
            self.profiler.enable()
        try:
            for i, item in enumerate(self.plan):
                if self._stopped:
                    break
                due = i / self.rate
                now = loop.time() - t0
                if now > cutoff:
                    self.abandoned = len(self.plan) - i
                    break
                if now < due:
                    await asyncio.sleep(due - now)
                if item.dup_of is not None:
                    event = self.events[item.dup_of]
                else:
                    # The platform stamps a message when it arrives: its due time, in UTC.
                    event = MessageEvent(
                        id=f"bench-{i:07d}", ts=wall0 + timedelta(seconds=due), chat=CHAT_ID,
                        chat_name=BULK_GROUP_NAME, is_group=True, sender=item.sender,
                        sender_name=item.name, type=MessageType.TEXT, text=item.text,
                        origin="live")
                if i in repeated:
                    self.events[i] = event
                start = loop.time() - t0
                if self.traced is not None:
                    self.traced.clear()
                cpu0 = time.thread_time()
                await on_event(event)
                cpu = time.thread_time() - cpu0
                end = loop.time() - t0
                trigger = item.dup_of is None and item.trigger
                if self.traced is not None:
                    self.timings.append((due, start, end, cpu, trigger, len(self.traced),
                                         sum(1 for sql in self.traced
                                             if sql.startswith("BEGIN"))))
                else:
                    self.timings.append((due, start, end, cpu, trigger, 0, 0))
                self.duplicates_fed += item.dup_of is not None
                self.triggers_fed += item.dup_of is None and item.trigger
        finally:
            if self.profiler is not None:
                self.profiler.disable()
            self.finished_at = time.perf_counter()


    @property
    def deliveries(self) -> list[Delivery]:
        return [Delivery._make(t) for t in self.timings]

    async def stop(self) -> None:
        self._stopped = True


class LogCounter(logging.Handler):
    """Log records at or above `level`, counted, the first one's text kept.

    Dispatcher.feed logs and swallows handler failures (ERROR): a benchmark must not report
    the latency of a crash as a fast message, so failures are counted and shown. The polish
    logs its timeouts and full backlog (WARNING) the same way.
    """

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()


# --------------------------------------------------------------------------------------------
# The message stream


def text_pools(analyse: Any, seed: int, pool: int) -> tuple[list[Planned], list[Planned]]:
    """Member lines from the bulk chat, split into triggering and other lines by the product's
    own analyser (so a "trigger" here is exactly what the suggestion hook will see)."""
    brand = {op.platform_id for op in _operators(seed)}
    triggers: list[Planned] = []
    others: list[Planned] = []
    now = datetime.now(UTC)
    for msg in iter_bulk_messages(pool, seed=seed):
        text = msg.get("content")
        if (msg.get("type") != 0 or not isinstance(text, str) or not text.strip()
                or text.lstrip().startswith("/") or msg["sender"] in brand):
            continue
        sig = analyse(text, "text", now)
        hit = bool(TRIGGER_INTENTS.intersection(sig.intents))
        item = Planned(msg["sender"], msg.get("groupNickname") or msg["accountName"], text, hit)
        (triggers if hit else others).append(item)
    return triggers, others


def make_plan(n: int, triggers: list[Planned], others: list[Planned], trigger_share: float,
              dup_share: float, seed: int) -> list[Planned]:
    """`n` deliveries, deterministic for the seed."""
    rng = Random(f"bench-live:{seed}:{n}")
    plan: list[Planned] = []
    originals: list[int] = []
    for i in range(n):
        if originals and rng.random() < dup_share:
            plan.append(Planned(dup_of=rng.choice(originals)))
            continue
        src = triggers if (rng.random() < trigger_share and triggers) or not others else others
        plan.append(rng.choice(src))
        originals.append(i)
    return plan


# --------------------------------------------------------------------------------------------
# Report helpers


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return math.nan
    k = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)
    return sorted_values[min(k, len(sorted_values) - 1)]


def latency_row(name: str, values: Sequence[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    mean = sum(ms) / len(ms) if ms else math.nan
    return (f"{name:32} {percentile(ms, 50):8.1f} {percentile(ms, 90):8.1f} "
            f"{percentile(ms, 99):8.1f} {ms[-1] if ms else math.nan:8.1f} {mean:8.1f}")


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 1024)


def db_counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        def one(sql: str) -> int:
            return int(con.execute(sql).fetchone()[0])

        return {"messages": one("SELECT count(*) FROM message"),
                "members": one("SELECT count(*) FROM member"),
                "suggestions": one("SELECT count(*) FROM suggestion"),
                "notified": one("SELECT count(notified_at) FROM suggestion")}
    finally:
        con.close()


def _where(filename: str) -> str:
    """Short file names in profiles: repo-relative, or from site-packages on."""
    for marker in (str(ROOT) + os.sep, "site-packages" + os.sep, "lib" + os.sep + "python"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def profile_lines(profiler: cProfile.Profile, messages: int, top: int) -> list[str]:
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((ct, tt, nc, f"{_where(filename)}:{line}({func})"))
    out = [f"{'cumulative s':>12} {'ms/msg':>8} {'own s':>8} {'calls':>9}  function"]
    for ct, tt, nc, where in sorted(rows, key=lambda r: -r[0])[:top]:
        out.append(f"{ct:12.3f} {ct * 1000 / max(1, messages):8.2f} {tt:8.3f} {nc:9d}  {where}")
    out.append("")
    out.append(f"top {top} by own time (tottime):")
    out.append(f"{'own s':>12} {'ms/msg':>8} {'cum s':>8} {'calls':>9}  function")
    for ct, tt, nc, where in sorted(rows, key=lambda r: -r[1])[:top]:
        out.append(f"{tt:12.3f} {tt * 1000 / max(1, messages):8.2f} {ct:8.3f} {nc:9d}  {where}")
    return out


# --------------------------------------------------------------------------------------------


def trace_statements(engine: Any, transport: MemoryTransport) -> None:
    """Have every pooled SQLite connection report what it runs (sqlite3's trace callback:
    the statements SQLite itself executes, BEGIN and COMMIT included, whichever layer sent
    them) into `transport.traced`, which the transport reads per message."""
    from sqlalchemy import event

    traced: list[str] = []
    transport.traced = traced

    def on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.set_trace_callback(traced.append)

    event.listen(engine, "checkout", on_checkout)


def statement_lines(d: Sequence[Delivery]) -> list[str]:
    """Statements and transactions per message: triggering vs other messages, over the
    whole run and its second half (past the cold start, when most senders are known), and
    the slowest 1 % by CPU time."""
    half = d[len(d) // 2:]
    slowest = sorted(d, key=lambda x: x.cpu)[-max(1, len(d) // 100):]
    groups = [
        ("triggering, all", [x for x in d if x.trigger]),
        ("triggering, second half", [x for x in half if x.trigger]),
        ("other, all", [x for x in d if not x.trigger]),
        ("other, second half", [x for x in half if not x.trigger]),
        ("slowest 1 % (CPU)", slowest),
    ]
    lines = [f"{'SQL per message (SQLite trace)':32} {'messages':>9} {'statements':>11} "
             f"{'BEGINs':>7} {'CPU ms':>7}"]
    for name, xs in groups:
        if not xs:
            continue
        k = len(xs)
        lines.append(f"{name:32} {k:9d} {sum(x.statements for x in xs) / k:11.1f} "
                     f"{sum(x.transactions for x in xs) / k:7.1f} "
                     f"{sum(x.cpu for x in xs) / k * 1000:7.2f}")
    return lines


def report_llm(llm: SlowLLM, follow_ups: int, log: LogCounter) -> None:
    """The polish's counts (--llm-delay), then the endpoint stopped."""
    print(f"{'LLM polish requests (endpoint)':32} {llm.requests:10d}")
    print(f"{'polished follow-ups sent':32} {follow_ups:10d}")
    print(f"{'polish warnings (logged)':32} {log.count:10d}"
          + (f"   first: {log.first}" if log.first else ""))
    llm.stop()


def write_config(work: Path, notify_cap: int | None, llm: str | None = None,
                 llm_timeout: float = 3.0) -> Path:
    """A temporary siyu.toml: one manager, one operator; the clock jobs that are not part of
    the message path (segmentation, weekly report, reactivation pass) are off so a scheduled
    run cannot land inside the measurement. The tag refresh job stays at its default."""
    lines = ["[bot]", f'managers = ["{MANAGER}"]', f'operators = ["{OPERATOR}"]',
             "segment_every_hours = 0", "reactivation_every_hours = 0", 'weekly_report = ""']
    if notify_cap is not None:
        lines += ["", "[suggest]", f"per_operator_per_hour = {notify_cap}"]
    if llm is not None:
        lines += ["", "[llm]", f'base_url = "{llm}"', 'model = "bench"',
                  f"timeout = {llm_timeout}"]
    cfg = work / "siyu.toml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="messages per second (≤ 10000)")
    ap.add_argument("--seconds", type=float, default=5.0, help="arrival window (≤ 600)")
    ap.add_argument("--trigger-share", type=float, default=0.2,
                    help="share of questions / complaints / purchase intents")
    ap.add_argument("--dup-share", type=float, default=0.01, help="share of re-deliveries")
    ap.add_argument("--drain-seconds", type=float, default=30.0,
                    help="after the window, how long waiting messages may still be handled")
    ap.add_argument("--notify-cap", type=int, default=None,
                    help="[suggest] per_operator_per_hour (default: the product's)")
    ap.add_argument("--pool", type=int, default=6000, help="bulk chat lines to draw texts from")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", action="store_true", help="cProfile the feeding phase")
    ap.add_argument("--profile-top", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="50 msg/s for 2 s: a smoke run")
    ap.add_argument("--statements", action="store_true",
                    help="count the SQL statements SQLite runs per message (its trace callback;"
                         " slows every statement a little)")
    ap.add_argument("--keep", type=Path, help="keep the database and config here")
    ap.add_argument("--llm-delay", type=float, default=None,
                    help="turn the LLM polish on against a local endpoint answering after this "
                         "many seconds")
    ap.add_argument("--llm-timeout", type=float, default=3.0, help="[llm] timeout")
    args = ap.parse_args(argv)
    if args.quick:
        args.rate, args.seconds, args.pool = 50.0, 2.0, 1500
    if not (0 < args.rate <= 10_000 and 0 < args.seconds <= 600 and 0 <= args.drain_seconds
            <= 600):
        ap.error("--rate must be in (0, 10000], --seconds in (0, 600], --drain-seconds ≤ 600")
    n = round(args.rate * args.seconds)
    if not 1 <= n <= MAX_MESSAGES:
        ap.error(f"rate × seconds must give 1..{MAX_MESSAGES} messages (got {n})")

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    errors = LogCounter(logging.ERROR)
    logging.getLogger().addHandler(errors)
    llm_log = LogCounter(logging.WARNING)
    logging.getLogger("siyu.llm").addHandler(llm_log)
    llm = SlowLLM(args.llm_delay) if args.llm_delay is not None else None

    from bot.config import load_settings
    from bot.runner import Bot
    from handlers.suggest_config import suggest_config

    work = args.keep or Path(tempfile.mkdtemp(prefix="siyu-bench-live-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "live.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = write_config(work, args.notify_cap, llm.url if llm else None, args.llm_timeout)
    settings = load_settings(str(cfg), db=f"sqlite:///{db}")

    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.2f}")

    # Start-up outside the measurement: database, lexicon, tokenizer (jieba dictionary).
    profiler = cProfile.Profile() if args.profile else None
    transport = MemoryTransport([], args.rate, args.seconds, args.drain_seconds, profiler)
    t0 = time.perf_counter()
    bot = Bot(settings, transport)
    _ = bot.app.store, bot.app.labels
    analyse = bot.app.analyzer.analyse
    triggers, others = text_pools(analyse, args.seed, args.pool)
    warm = time.perf_counter() - t0
    transport.plan = make_plan(n, triggers, others, args.trigger_share, args.dup_share, args.seed)
    rss_before = peak_rss_mb()
    where = str(work) if args.keep else f"{work} (temporary; --keep DIR keeps it)"
    print(f"setup: bot, database and analyser ready and {len(triggers) + len(others)} pool lines "
          f"classified ({len(triggers)} triggering) in {warm:.1f}s → {where}")
    print(f"plan: {n} deliveries at {args.rate:g}/s over {args.seconds:g}s "
          f"(trigger share {args.trigger_share:g}, duplicate share {args.dup_share:g}, "
          f"drain limit {args.drain_seconds:g}s); [bot] managers={MANAGER}, "
          f"operators={OPERATOR}; db {db.name}"
          + (f"; [llm] a local endpoint answering in {args.llm_delay:g}s (timeout "
             f"{args.llm_timeout:g}s)" if llm else ""))

    # Time the tag refresh (job and shutdown flush) apart from the messages.
    refresh_times: list[float] = []
    real_refresh = bot.refresh

    def timed_refresh() -> None:
        s = time.perf_counter()
        try:
            real_refresh()
        finally:
            refresh_times.append(time.perf_counter() - s)

    bot.refresh = timed_refresh  # type: ignore[method-assign]
    # The scheduled job runs `refresh_live` (in chunks, messages handled between them); the
    # code before it ran `refresh` itself, which the list above then also times.
    job_times: list[float] = []
    real_live = getattr(bot, "refresh_live", None)
    if real_live is not None:
        async def timed_live() -> None:
            s = time.perf_counter()
            try:
                await real_live()
            finally:
                job_times.append(time.perf_counter() - s)

        bot.refresh_live = timed_live  # type: ignore[method-assign]
    # Split each message's service time: ingest (analyse + one transaction) vs the rest
    # (the message hooks: suggestion triggers, drafting, the notify queue).
    ingest_times: list[float] = []
    real_ingest = bot.live.ingest

    def timed_ingest(event: MessageEvent) -> None:
        s = time.perf_counter()
        try:
            real_ingest(event)
        finally:
            ingest_times.append(time.perf_counter() - s)

    bot.live.ingest = timed_ingest  # type: ignore[method-assign]
    if args.statements:
        trace_statements(bot.app.store.engine, transport)
    asyncio.run(bot.run())

    d = transport.deliveries
    fed = len(d)
    if not d:
        print("nothing was delivered")
        return 1
    service = [x.end - x.start for x in d]
    wait = [max(0.0, x.start - x.due) for x in d]
    sojourn = [max(0.0, x.end - x.due) for x in d]
    span = d[-1].end  # from the first arrival (t=0) to the last message handled
    busy = sum(service)
    # backlog when message i starts: messages already due and not yet started (i included)
    backlog = [min(len(transport.plan) - 1, math.floor(x.start * args.rate)) - i + 1
               for i, x in enumerate(d)]
    window_end = args.seconds
    waiting_at_end = sum(1 for x in d if x.due <= window_end < x.start) + (
        transport.abandoned if d[-1].start > window_end else 0)

    counts = db_counts(db)
    cap = suggest_config(settings).per_operator_per_hour
    expected = fed - transport.duplicates_fed
    to_operator = [s for s in transport.sent if s[0] == "private" and s[1] == OPERATOR
                   and "润色版" not in s[2]]
    follow_ups = [s for s in transport.sent if "润色版" in s[2]]
    match = counts["messages"] == expected

    print()
    print(LATENCY_HEADER)
    print(latency_row("dispatcher.feed (service time)", service))
    # CPU time is what the bot itself spent on each message: on a shared machine the wall
    # time above also counts the moments a neighbour held the core.
    print(latency_row("  its CPU time (this thread)", [x.cpu for x in d]))
    if len(ingest_times) == len(service):
        print(latency_row("  of which ingest", ingest_times))
        print(latency_row("  of which hooks (suggestions)",
                          [sv - ig for sv, ig in zip(service, ingest_times, strict=True)]))
    print(latency_row("arrival → handled (incl. wait)", sojourn))
    print(latency_row("wait before handling", wait))
    print(f"first message (cold caches): {service[0] * 1000:.1f} ms")
    print()
    print(f"{'throughput':32} {'value':>10}")
    print(f"{'target rate (msg/s)':32} {args.rate:10.1f}")
    print(f"{'achieved (msg/s)':32} {fed / span:10.1f}   ({fed} handled in {span:.2f}s from "
          f"the first arrival)")
    print(f"{'capacity (msg/s, 1 / mean feed)':32} {fed / busy:10.1f}   (bot busy "
          f"{busy / span:.0%} of the time)")
    print(f"{'max backlog (messages waiting)':32} {max(backlog):10d}")
    print(f"{'waiting when arrivals stopped':32} {waiting_at_end:10d}   (at t={window_end:g}s)")
    print(f"{'abandoned at drain limit':32} {transport.abandoned:10d}")
    if max(wait) < 1.0 / args.rate + 0.05 and not transport.abandoned:
        verdict = "kept up with the target rate"
    elif not waiting_at_end and not transport.abandoned:
        # Bursts (cold caches at the start, a slow trigger) queue a few messages, but the bot
        # drains them while arrivals go on: it keeps up, with the worst wait said plainly.
        verdict = (f"kept up on the whole: nothing waiting when arrivals stopped; worst wait "
                   f"{max(wait):.2f}s (backlog of {max(backlog)} at the peak)")
    else:
        verdict = (f"fell behind: the last message handled waited {d[-1].start - d[-1].due:.2f}s"
                   + (f"; {transport.abandoned} never handled (drain limit)"
                      if transport.abandoned else ""))
    print(f"verdict: {verdict}")
    # Does a message cost more as the database fills? p50 service time by position.
    tenth = max(1, fed // 10)
    deciles = [sorted(service[k:k + tenth]) for k in range(0, fed - tenth + 1, tenth)][:10]
    print("service time p50 by position (ms, each tenth of the messages handled): "
          + " ".join(f"{percentile(part, 50) * 1000:.0f}" for part in deciles))
    print()
    print(f"{'counts':32} {'value':>10}")
    print(f"{'messages fed':32} {fed:10d}")
    print(f"{'  of which duplicates':32} {transport.duplicates_fed:10d}")
    print(f"{'  of which triggering (new)':32} {transport.triggers_fed:10d}")
    print(f"{'expected stored (fed - dups)':32} {expected:10d}")
    print(f"{'messages stored (DB)':32} {counts['messages']:10d}   "
          f"{'(matches)' if match else '(MISMATCH)'}")
    print(f"{'members stored (DB)':32} {counts['members']:10d}")
    print(f"{'suggestions stored (DB)':32} {counts['suggestions']:10d}")
    print(f"{'suggestion rows notified (DB)':32} {counts['notified']:10d}")
    print(f"{'suggestions sent to operator':32} {len(to_operator):10d}   "
          f"(hourly cap per operator: {cap}; the rest wait in the queue)")
    if llm is not None:
        report_llm(llm, len(follow_ups), llm_log)
    print(f"{'other sends':32} {len(transport.sent) - len(to_operator) - len(follow_ups):10d}")
    print(f"{'handler errors (logged)':32} {errors.count:10d}"
          + (f"   first: {errors.first}" if errors.first else ""))
    if len(to_operator) > cap:
        print(f"note: {len(to_operator)} sends to one operator within the hour exceed the cap of "
              f"{cap} (a re-triggered suggestion is sent again and its earlier send no longer "
              f"counts against the cap)")
    if args.statements:
        print()
        for line in statement_lines(d):
            print(line)
    print()
    flush = refresh_times[-1] if refresh_times else math.nan
    jobs = job_times or refresh_times[:-1]
    how = "in chunks, messages handled between them" if job_times else "in one go"
    took = ", ".join(f"{t:.2f}s" for t in jobs)
    print(f"tag refresh: {len(jobs)} scheduled run(s) during the window ({how}"
          f"{': ' + took if took else ''}), shutdown flush {flush:.2f}s; dispatcher's own "
          f"latency log has {len(bot.dispatcher.latencies)} entries")
    cp = getattr(bot, "checkpointer", None)  # (the code before it had none: side-by-side runs)
    if cp is not None:
        print(f"WAL checkpoints: {cp.runs} in the bot's checkpoint thread, off the message path "
              f"(slowest {cp.longest * 1000:.1f} ms)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (before feeding {rss_before:.0f} MB)")

    if profiler is not None:
        print()
        print(f"profile of the feeding phase, top {args.profile_top} by cumulative time "
              f"(profiling inflates latencies):")
        for line in profile_lines(profiler, fed, args.profile_top):
            print(line)
    bot.app.store.engine.dispose()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if match and not errors.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
