"""Segmentation at community scale: time and peak memory per size, each size in its own process.

    python scripts/bench_segment.py [--sizes 10000,100000,1000000] [--quick] [--seed 7]
                                    [--tracemalloc] [--timeout 1800]
                                    [--source db [--db-dir DIR] [--previous [--rounds 2]]]

Why this shape:
* The engine (`persona/segment.py: run_segmentation`) is what a scheduled job runs on a whole
  community, and issue 3 asks whether it stays linear up to a million members. So the members
  are built directly as `Persona` / `Tag` / `OrderRecord` objects (no SQLite, no analyser in the
  timed part): the figures are the engine's, not storage's.
* Members are realistic and deterministic (seeded `random.Random`): archetypes, interests,
  cities and motivations come from the sample community (scripts/sample_community.py); their
  quotes and keywords are real generated chat lines run once through the product's analyser,
  so circles and cards see the vocabulary they see in production. Tags follow build_persona's
  rules (saturated scores, evidence ids, intent expiry, bought:<category> windows, coupon
  orders as price evidence).
* Every size runs in a fresh subprocess, so `ru_maxrss` (peak RSS) belongs to that size alone
  and a size that runs out of memory cannot take the others down. Before a size starts, the
  parent extrapolates its memory from the previous size and skips it (saying so) when the
  machine's available memory is clearly too small; the child also gets an RLIMIT_DATA cap so
  running out shows as a MemoryError in its row, never as the kernel's OOM killer picking a
  victim on a shared machine.
* Stage timings (tabulate, rules, circles, cards, patterns, importance) come from wrapping the
  engine's own functions, so the breakdown can never drift from what `run_segmentation` does.

The machine is shared and noisy: compare the ratios printed by one run, not absolute seconds
across runs. Nothing here is a test; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from sample_community import (  # noqa: E402
    ARCHETYPES,
    GROUPS,
    INTEREST_CODES,
    PRODUCTS,
    SAMPLE_NOW,
    iter_bulk_messages,
)

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 10_000)
RESULT_PREFIX = "RESULT "
HEADER = (f"{'members':>9} {'build s':>8} {'segment s':>10} {'to_json s':>10} {'dumps s':>8} "
          f"{'JSON MB':>8} {'RSS built MB':>13} {'peak RSS MB':>12} {'circles':>8}  check")
DAY = 86400.0

# How the sample community's archetypes talk: activity levels as in the bulk generator
# (sample_community._bulk_roster), so the benchmark community has the demo's proportions.
ACTIVITY = (("highly_active", 0.03), ("active", 0.15), ("occasional", 0.50), ("silent", 0.32))
RECENT_RANGE = {"highly_active": (30, 160), "active": (8, 29), "occasional": (1, 7),
                "silent": (0, 0)}
INTENT_ODDS = (("question", 0.45), ("purchase_intent", 0.20), ("praise", 0.15),
               ("complaint", 0.12))
QUOTE_INTENTS = frozenset({"question", "complaint", "purchase_intent", "praise"})
CONTENT_SHARED = ("link", "image", "video", "mini_program")
EVENT_TYPES = ("article", "video", "live")
EVENT_ACTIONS = ("view", "view", "view", "click", "share", "comment")
# Archetype occupations (Chinese, as people say them) → the analyser's occupation codes.
OCCUPATION_CODES = {"全职妈妈": "homemaker", "会计": "accountant", "小学老师": "teacher",
                    "护士": "nurse", "设计师": "designer", "公务员": "civil_servant",
                    "HR": "office_worker", "退休教师": "teacher", "程序员": "programmer",
                    "销售": "sales", "产品经理": "office_worker", "学生": "student",
                    "行政": "office_worker", "运营": "office_worker", "工程师": "engineer"}
LIFE_STAGES = frozenset({"parent", "expecting", "student", "retired"})
GROUP_NAMES = {code: name for code, name, _ in GROUPS}


# --------------------------------------------------------------------------------------------
# Machine and memory


def machine_line() -> str:
    """Enough to tell two runs' machines apart; versions matter because sklearn's k-means
    and numpy's kernels change speed between releases."""
    import numpy
    import sklearn

    mem = meminfo()
    load = os.getloadavg()
    return (f"machine: {platform.platform()}, {os.cpu_count()} cores, "
            f"RAM {mem.get('MemTotal', 0) / 2**20:.1f} GB (available "
            f"{mem.get('MemAvailable', 0) / 2**20:.1f} GB), load {load[0]:.2f}/{load[1]:.2f}; "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"scikit-learn {sklearn.__version__}")


def meminfo() -> dict[str, int]:
    """/proc/meminfo in kB (empty off Linux: then no memory guard, only the child's own
    MemoryError handling)."""
    out: dict[str, int] = {}
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports kB; macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 1024)


# --------------------------------------------------------------------------------------------
# Synthetic community


class Pools:
    """Real chat vocabulary per interest: keywords and quotable lines.

    Drawn from the bulk chat generator and analysed once by the product's analyser, so a
    member's keywords and quotes are what a real member of that archetype would produce.
    """

    def __init__(self, seed: int, messages: int = 6000) -> None:
        from bot.app import App
        from handlers.settings import Settings

        app = App(Settings(db="sqlite://"))
        analyzer = app.analyzer
        self.labels: dict[str, str] = dict(app.labels)
        words: dict[str, Counter[str]] = {c: Counter() for c in (*INTEREST_CODES, "")}
        quotes: dict[str, list[tuple[str, tuple[str, ...]]]] = {c: [] for c in words}
        ts = SAMPLE_NOW
        for msg in iter_bulk_messages(messages, seed=seed):
            text = msg.get("content")
            if msg.get("type") != 0 or not isinstance(text, str):
                continue
            sig = analyzer.analyse(text, "text", ts)
            codes = [c for c in sig.interests if c in words] or [""]
            intents = tuple(i for i in sig.intents if i in QUOTE_INTENTS)
            for code in codes:
                words[code].update(sig.keywords)
                if intents and len(quotes[code]) < 400:
                    quotes[code].append((text, intents))
        general_words = words[""]
        general_quotes = quotes[""]
        # most used first, ties by word: deterministic whatever the Counter's insertion order
        self.words = {c: tuple(w for w, _ in sorted((cnt or general_words).items(),
                                                    key=lambda kv: (-kv[1], kv[0]))[:120])
                      for c, cnt in words.items()}
        self.quotes = {c: tuple(q or general_quotes) for c, q in quotes.items()}


def _pick(rng: Random, weighted: Sequence[tuple[str, float]]) -> str:
    r = rng.random() * sum(w for _, w in weighted)
    for code, w in weighted:
        r -= w
        if r <= 0:
            return code
    return weighted[-1][0]


def _saturate(weight: float) -> float:
    return 1.0 - math.exp(-weight / 2.0)


def generate_members(n: int, seed: int, pools: Pools) -> list[Any]:
    """`n` MemberInputs as of SAMPLE_NOW, a pure function of (n, seed, pools)."""
    return list(iter_members(n, seed, pools))


def iter_members(n: int, seed: int, pools: Pools) -> Iterator[Any]:
    """`n` MemberInputs as of SAMPLE_NOW, one at a time (the database builder streams them).

    Built in one pass with plain object construction, so the time measured as "build" is what
    a caller pays to assemble the inputs in memory, the floor under gathering them from
    storage.
    """
    from persona.aggregate import frequency_code
    from persona.commerce import ContentEventRecord, OrderRecord
    from persona.member_table import MemberInput, Quote
    from persona.persona import (
        FREQUENCY_LABELS,
        JOIN_LABELS,
        LIFECYCLE_LABELS,
        TAG_KINDS,
        TIME_LABELS,
        VALUE_LABELS,
        Persona,
        Tag,
    )

    rng = Random(f"bench-segment:{seed}")
    rand, randint, choice = rng.random, rng.randint, rng.choice
    as_of = SAMPLE_NOW
    labels = pools.labels
    kind_rank = {k: i for i, k in enumerate(TAG_KINDS)}
    arche = [(a, float(a.share)) for a in ARCHETYPES]
    arche_total = sum(w for _, w in arche)
    ttl = timedelta(days=30)
    for i in range(n):
        r = rand() * arche_total
        a = arche[-1][0]
        for cand, w in arche:
            r -= w
            if r <= 0:
                a = cand
                break
        mid = f"wxid_bench{i:07d}"
        name = choice(a.names)
        activity = _pick(rng, ACTIVITY)
        join_days = rand() * 14 if rand() < 0.08 else 15 + rand() * 385
        join_ts = as_of - timedelta(days=join_days)
        tags: list[Tag] = []
        attributes: dict[str, str | None] = dict.fromkeys(
            ("city", "age_range", "gender", "life_stage", "occupation"))
        msg_seq = 0

        def ids(count: int, _mid: str = mid) -> list[str]:
            nonlocal msg_seq
            start = msg_seq
            msg_seq += count
            return [f"{_mid}-m{k}" for k in range(start, start + count)]

        # Messages: how many, when first and last.
        lo, hi = RECENT_RANGE[activity]
        declining = activity != "silent" and join_days > 45 and rand() < 0.2
        if activity == "silent":
            recent = messages = 0
            last_days = None
        elif declining:
            recent = 0
            messages = randint(1, 40)
            last_days = 31 + rand() * (min(join_days, 200.0) - 31)
        else:
            recent = randint(lo, hi)
            messages = recent + int(recent * rand() * 3 * min(1.0, join_days / 60))
            last_days = rand() * min(join_days, 7.0)
        first_seen = join_ts if messages or rand() < 0.5 else None
        last_active = as_of - timedelta(days=last_days) if last_days is not None else None
        if first_seen is not None and join_days <= 14:
            lifecycle = "new"
        elif first_seen is None or last_active is None:
            lifecycle = "potential"
        elif last_days is not None and last_days > 30:
            lifecycle = "declining"
        else:
            lifecycle = "mature"
        fade = 0.5 ** ((last_days or 0.0) / 30.0)

        # Interests, time of day, shared content, intents, motivation, attributes.
        interests: list[str] = []
        if messages:
            for code, weight in a.interests:
                if not interests or rand() < weight * 0.85:
                    hits = min(messages, 1 + int(messages * weight * rand() * 0.5))
                    score = _saturate(hits * fade * (0.5 + rand()))
                    if score >= 0.1:
                        interests.append(code)
                        tags.append(Tag(code, labels.get(code, code), "interest", score,
                                        ids(min(5, hits))))
            if rand() < 0.1:
                code = choice(INTEREST_CODES)
                if code not in interests:
                    interests.append(code)
                    tags.append(Tag(code, labels.get(code, code), "interest",
                                    _saturate(fade * (0.3 + rand())), ids(1)))
            if messages >= 3:
                share = 0.4 + rand() * 0.55
                tags.append(Tag(a.hours, TIME_LABELS[a.hours], "time", share,
                                ids(min(5, messages))))
                if share < 0.6 and rand() < 0.5:
                    other = choice([h for h in TIME_LABELS if h != a.hours])
                    tags.append(Tag(other, TIME_LABELS[other], "time", 0.4, ids(2)))
            if rand() < 0.25:
                code = choice(CONTENT_SHARED)
                tags.append(Tag(code, labels.get(code, code), "content",
                                _saturate(fade * (0.3 + rand() * 2)), ids(randint(1, 3))))
            if last_days is not None and last_days < 30:
                for code, odds in INTENT_ODDS:
                    if rand() < odds * (1.5 if activity != "occasional" else 1.0):
                        ev = ids(randint(1, 4))
                        expires = (last_active or as_of) - timedelta(days=rand() * 3) + ttl
                        if expires > as_of:
                            tags.append(Tag(code, labels.get(code, code), "intent",
                                            _saturate(len(ev) * (0.5 + rand())), ev, expires))
        mot_tag: Tag | None = None
        if messages and a.motivation and rand() < 0.7:
            ev = ids(randint(1, 5))
            mot_tag = Tag(a.motivation, labels.get(a.motivation, a.motivation), "motivation",
                          _saturate(len(ev) * fade * (0.3 + rand() * 0.7)), ev)
            tags.append(mot_tag)
            if rand() < 0.2:
                other = choice([m for m in ("price", "quality", "service") if m != a.motivation])
                tags.append(Tag(other, labels.get(other, other), "motivation",
                                _saturate(0.4 * fade), ids(1)))
        if messages:
            disclosed = (("city", choice(a.cities), 0.35), ("age_range", a.age_range, 0.25),
                         ("gender", a.gender, 0.3),
                         ("life_stage", a.life_stage if a.life_stage in LIFE_STAGES else None,
                          0.4),
                         ("occupation", OCCUPATION_CODES.get(choice(a.occupations) or ""), 0.2))
            for fld, value, odds in disclosed:
                if value and rand() < odds:
                    attributes[fld] = value
                    label = (value if fld == "city" else f"{value}岁" if fld == "age_range"
                             else labels.get(value, value))
                    tags.append(Tag(f"{fld}:{value}", label, "attribute", 0.3 + rand() * 0.5,
                                    ids(randint(1, 2))))
        join_channel = None
        if rand() < 0.4:
            channel = "invite" if rand() < 0.6 else "qrcode"
            tags.append(Tag(f"join:{channel}", f"{JOIN_LABELS[channel]}（小禾助手）", "attribute",
                            1.0, [f"{mid}-j"]))
            join_channel = f"{'邀请' if channel == 'invite' else '二维码'}:小禾助手"

        # Orders from the member's interests' catalogue; coupons follow the motivation.
        orders: list[OrderRecord] = []
        if rand() < (0.45 if messages else 0.08):
            count = 1
            while count < 12 and rand() < 0.45:
                count += 1
            shop = [c for c in interests if c in PRODUCTS] or [c for c, _ in a.interests
                                                                if c in PRODUCTS]
            span = join_days if not declining else max(1.0, join_days - (last_days or 0))
            end = 0.0 if not declining else (last_days or 0.0)
            coupon_odds = 0.65 if a.motivation == "price" else 0.2
            for k in range(count):
                p = choice(PRODUCTS[choice(shop)])
                coupon = rand() < coupon_odds
                amount = round(p.price * randint(1, 3) * (0.85 if coupon else 1.0), 2)
                ts = as_of - timedelta(days=end + rand() * span)
                orders.append(OrderRecord(f"XH{i:07d}{k:02d}", ts, amount, p.category, coupon))
            orders.sort(key=lambda o: (o.ts, o.order_id))
            coupons = [o for o in orders if o.coupon_used]
            if coupons:
                # build_persona folds coupon orders into the price tag, evidence the order ids
                newest = [o.order_id for o in reversed(coupons[-2:])]
                if mot_tag is not None and mot_tag.code == "price":
                    mot_tag.evidence = (newest + mot_tag.evidence)[:5]
                else:
                    tags.append(Tag("price", labels.get("price", "price"), "motivation",
                                    _saturate(0.5 * len(coupons)), newest))
            window: dict[str, list[OrderRecord]] = {}
            for o in orders:
                if (as_of - o.ts).total_seconds() < 30 * DAY:
                    window.setdefault(o.category or "", []).append(o)
            for cat, bought in sorted(window.items()):
                bought.sort(key=lambda o: (o.ts, o.order_id), reverse=True)
                tags.append(Tag(f"bought:{cat}", f"近30天购买 {cat}", "value",
                                _saturate(2.0 * len(bought)), [o.order_id for o in bought[:5]],
                                bought[0].ts + ttl))
        events: list[ContentEventRecord] = []
        if rand() < 0.2:
            for _ in range(randint(1, 8)):
                events.append(ContentEventRecord(as_of - timedelta(days=rand() * 60),
                                                 choice(EVENT_TYPES), choice(EVENT_ACTIONS),
                                                 float(randint(3, 300))))

        freq = "silent" if not recent else frequency_code(recent)
        tags.append(Tag(freq, FREQUENCY_LABELS[freq], "frequency",
                        1.0 if freq == "silent" else min(1.0, recent / 30.0),
                        ids(min(5, recent))))
        tags.append(Tag(lifecycle, LIFECYCLE_LABELS[lifecycle], "lifecycle", 1.0,
                        ids(1) if messages else []))
        tags.append(Tag("general", VALUE_LABELS["general"], "value", 1.0, []))
        tags.sort(key=lambda t: (-round(t.score, 6), kind_rank.get(t.kind, 99), t.code))

        # What cards quote and circles read: lines and words of the member's own topics.
        quotes: tuple[Quote, ...] = ()
        keywords: tuple[str, ...] = ()
        chats: tuple[str, ...] = ()
        if messages and last_active is not None and first_seen is not None:
            topic = interests[0] if interests else ""
            pool = pools.quotes[topic]
            n_quotes = min(10, messages // 3, len(pool))
            span_s = max(0.0, (last_active - first_seen).total_seconds())
            qs = []
            for k in range(n_quotes):
                text, intents = choice(pool)
                qs.append(Quote(f"{mid}-q{k}", last_active - timedelta(seconds=rand() * span_s),
                                text, intents, GROUP_NAMES[a.groups[0]]))
            qs.sort(key=lambda q: q.ts, reverse=True)
            quotes = tuple(qs)
            vocab = [w for c in interests[:2] for w in pools.words[c][:40]] or list(
                pools.words[""][:40])
            kw = rng.sample(vocab, min(len(vocab), min(30, 3 + messages // 2)))
            keywords = tuple(dict.fromkeys(kw))
            chats = tuple(GROUP_NAMES[g] for g in a.groups[: 1 + (rand() < 0.4)])

        monetary = round(sum(o.amount for o in orders), 2)
        stats = {"messages": messages, "first_seen": first_seen, "last_active": last_active,
                 "orders": len(orders), "monetary": monetary,
                 "aov": round(monetary / len(orders), 2) if orders else 0.0}
        motivation = (mot_tag.code if mot_tag is not None and mot_tag.score >= 0.3
                      and len(mot_tag.evidence) >= 2 else None)
        segments: dict[str, str | None] = {
            "value": "general", "lifecycle": lifecycle, "motivation": motivation,
            "cluster": None, "layer": "core" if freq in ("highly_active", "active")
            else "ordinary"}
        persona = Persona(mid, name, tags, attributes, segments, stats)
        yield MemberInput(persona, tuple(orders), tuple(events), chats, join_channel, quotes,
                          keywords)


# --------------------------------------------------------------------------------------------
# The same community in a SQLite file, for the storage → columns path


def _db_ts(ts: Any) -> str:
    """A time in the layout UTCDateTime stores on SQLite (naive UTC, microseconds)."""
    from datetime import UTC

    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build_database(path: Path, n: int, seed: int, pools: Pools) -> dict[str, int]:
    """Write the generated community into a fresh product database (schema from
    storage.db) as the product would hold it after ingest and refresh_stale_tags: members,
    chats, messages with signals (keywords, intents of the quoted lines, join notices), orders,
    content events, the derived tags computed as of SAMPLE_NOW, each member's kept top
    keywords (member_keywords), message aggregates (member_activity) and packed tags
    (member_tags), which the rebuild fills too. Streams members, so even a
    million never sit in memory; raw sqlite3 executemany keeps it to minutes."""
    import sqlite3

    from persona.commerce import content_event_id
    from persona.kept import kept_activity, kept_keywords, kept_tags
    from persona.persona import MessageRecord
    from persona.signals import Signals
    from storage.db import open_database
    from storage.segment_kept import KEPT_KEYWORDS, recent_text, tags_row

    if path.exists():
        path.unlink()
    open_database(f"sqlite:///{path}").dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    # message.ts's index takes rows in random time order: with sqlite3's default 2 MB cache a
    # million members' 17M inserts walk it through the OS page by page; 1 GB holds it
    db.execute("PRAGMA cache_size=-1048576")
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    chat_of = {name: code for code, name, _ in GROUPS}
    db.executemany("INSERT INTO chat (id, name, is_group, platform) VALUES (?, ?, 1, 'wechat')",
                   [(code, name) for code, name, _ in GROUPS])
    computed = _db_ts(SAMPLE_NOW)
    members, messages, tags, orders, events = [], [], [], [], []
    # each member's top keywords, as refresh_stale_tags keeps them after an import
    kept: list[tuple[int, int, int, str]] = []
    activity: list[tuple[Any, ...]] = []
    packed: list[tuple[Any, ...]] = []
    counts = {"members": 0, "messages": 0, "tags": 0, "orders": 0, "events": 0}

    def flush() -> None:
        db.executemany("INSERT INTO member (id, member_id, name, first_seen, last_active, "
                       "opted_out, tags_stale) VALUES (?, ?, ?, ?, ?, 0, 0)", members)
        db.executemany("INSERT INTO message (id, chat_id, member_pk, ts, type, text, signals, "
                       "origin) VALUES (?, ?, ?, ?, ?, ?, ?, 'bench')", messages)
        db.executemany("INSERT OR IGNORE INTO tag (member_pk, code, kind, label, score, "
                       "evidence, "
                       "expires_at, source, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
                       "'derived', ?)", tags)
        db.executemany("INSERT INTO orders (order_id, member_pk, ts, amount, category, "
                       "coupon_used, origin) VALUES (?, ?, ?, ?, ?, ?, 'bench')", orders)
        db.executemany("INSERT OR IGNORE INTO content_event (member_pk, event_id, ts, "
                       "content_type, action, duration, origin) VALUES (?, ?, ?, ?, ?, ?, "
                       "'bench')", events)
        db.executemany("INSERT INTO member_keywords (member_pk, through_us, messages, words) "
                       "VALUES (?, ?, ?, ?)", kept)
        db.executemany("INSERT INTO member_activity (member_pk, computed_us, messages, "
                       "first_us, last_us, joined_us, recent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       activity)
        db.executemany("INSERT INTO member_tags (member_pk, computed_us, keys, numbers, "
                       "intents) VALUES (?, ?, ?, ?, ?)", packed)
        kept.clear()
        activity.clear()
        packed.clear()
        for name, rows in (("members", members), ("messages", messages), ("tags", tags),
                           ("orders", orders), ("events", events)):
            counts[name] += len(rows)
            rows.clear()
        db.commit()

    rng = Random(f"bench-db:{seed}")
    for pk, m in enumerate(iter_members(n, seed, pools), start=1):
        p = m.persona
        st = p.stats
        first, last = st["first_seen"], st["last_active"]
        members.append((pk, p.member_id, p.name, _db_ts(first) if first else None,
                        _db_ts(last) if last else None))
        chat = chat_of.get(m.chats[0], GROUPS[0][0]) if m.chats else GROUPS[0][0]
        records: list[MessageRecord] = []
        # the tag rows stored (INSERT OR IGNORE keeps a code's first tag), packed as the
        # rebuild packs them
        stored_tags = list({t.code: t for t in reversed(p.tags)}.values())[::-1]
        row_tags = kept_tags(stored_tags, {o.order_id for o in m.orders if o.ts <= SAMPLE_NOW},
                             SAMPLE_NOW)
        if row_tags is not None:
            packed.append(tuple(tags_row(pk, row_tags).values()))
        for t in p.tags:
            tags.append((pk, t.code, t.kind, t.label, t.score, dumps(t.evidence),
                         _db_ts(t.expires_at) if t.expires_at else None, computed))
            if t.code.startswith("join:"):
                channel = t.code.partition(":")[2]
                text = ('"小禾助手"邀请"{}"加入了群聊' if channel == "invite"
                        else '"{}"通过扫描"小禾助手"分享的二维码加入群聊').format(p.name)
                messages.append((f"{p.member_id}-j", chat, pk, _db_ts(first or SAMPLE_NOW),
                                 "system", text,
                                 dumps({"j": {"channel": channel, "inviter": "小禾助手"}})))
                records.append(MessageRecord("", first or SAMPLE_NOW, chat, "system", Signals(
                    join={"channel": channel, "inviter": "小禾助手"})))
        count = int(st["messages"] or 0)
        if count and first and last:
            words = list(m.keywords)
            quotes = list(m.quotes)
            span = (last - first).total_seconds()
            for k in range(count):
                ts = first + timedelta(seconds=span * k / max(1, count - 1)) if k < count - 1 \
                    else last
                kw = [words[(3 * k + j) % len(words)] for j in range(3)] if words else []
                sig: dict[str, Any] = {"k": kw} if kw else {}
                text = None
                if k < len(quotes):
                    q = quotes[k]
                    ts, text = min(max(q.ts, first), last), q.text
                    sig["n"] = list(q.intents)
                messages.append((f"{p.member_id}-m{k}", chat, pk, _db_ts(ts), "text", text,
                                 dumps(sig)))
                records.append(MessageRecord("", ts, chat, "text", Signals(keywords=kw)))
        words_kept = kept_keywords(records, KEPT_KEYWORDS)
        if words_kept is not None:
            kept.append((pk, words_kept.through_us, words_kept.messages,
                         "\x1f".join(words_kept.words)))
        act = kept_activity(records, SAMPLE_NOW)
        activity.append((pk, act.computed_us, act.messages, act.first_us, act.last_us,
                         act.joined_us, recent_text(act.recent_us)))
        for o in m.orders:
            orders.append((o.order_id, pk, _db_ts(o.ts), o.amount, o.category,
                           1 if o.coupon_used else 0))
        for e in m.events:
            events.append((pk, content_event_id(e), _db_ts(e.ts), e.content_type, e.action,
                           e.duration))
        if len(messages) > 200_000 or len(members) >= 20_000:
            flush()
    flush()
    del rng
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return counts


# --------------------------------------------------------------------------------------------
# One size, in a child process


def _timed_stages(stages: dict[str, float]) -> Callable[[], None]:
    """Wrap the engine's steps so their time is recorded; returns the undo.

    run_segmentation imports find_circles, build_cards, find_patterns and feature_importance
    from their modules at call time, and calls tabulate and the rules as module globals, so
    patching those names times exactly what the engine runs.
    """
    import persona.cards as cards
    import persona.clusters as clusters
    import persona.patterns as patterns
    import persona.segment as segment

    targets = [(segment, "tabulate", "tabulate"), (segment, "value_tiers", "rules"),
               (segment, "lifecycle_stages", "rules"), (segment, "motivations", "rules"),
               (segment, "layers", "rules"), (clusters, "find_circles", "circles"),
               (cards, "build_cards", "cards"), (patterns, "find_patterns", "patterns"),
               (patterns, "feature_importance", "importance")]
    saved = []
    for module, attr, stage in targets:
        original = getattr(module, attr)
        saved.append((module, attr, original))

        def wrapper(*args: Any, _f: Callable[..., Any] = original, _s: str = stage,
                    **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                stages[_s] = stages.get(_s, 0.0) + time.perf_counter() - t0

        setattr(module, attr, wrapper)

    def undo() -> None:
        for module, attr, original in saved:
            setattr(module, attr, original)

    return undo


class GcClock:
    """Time spent in the cyclic garbage collector (gc.callbacks), and full collections.

    With millions of tags, personas and orders alive, every full collection walks all of
    them, so part of what looks like engine time can be the collector: this says how much.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._start: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self.full += info.get("generation") == 2
            self._start = None

    def snapshot(self) -> tuple[float, int]:
        return self.seconds, self.full


def describe_result(result: Any, out: dict[str, Any], assignments: int) -> None:
    """What the run produced, into `out`: members, assignments, segment sizes, circles."""
    counts = result.counts()
    out["result_members"] = len(result.member_ids)
    out["assignments"] = assignments
    out["dimension_sums"] = {dim: sum(c.values()) for dim, c in counts.items()}
    out["circles"] = len(result.circles)
    out["clustering"] = {k: result.clustering.get(k) for k in ("method", "k", "profiled",
                                                               "unclustered")}
    out["value"] = counts["value"]
    out["lifecycle"] = counts["lifecycle"]


def timed_to_json(result: Any, out: dict[str, Any], gc_at: dict[str, tuple[float, int]],
                  gc_clock: GcClock, stored: bool = False) -> dict[str, Any]:
    """`result.to_json()` (or, `stored`, the document a stored run keeps:
    `to_stored_json()`), timed, with the collector's share of every stage so far in `out`."""
    out["stage"] = "to_json"
    gc_at["to_json"] = gc_clock.snapshot()
    t0 = time.perf_counter()
    doc: dict[str, Any] = result.to_stored_json() if stored else result.to_json()
    out["to_json_s"] = time.perf_counter() - t0
    gc_at["end"] = gc_clock.snapshot()
    out["gc"] = {a: [gc_at[b][0] - gc_at[a][0], gc_at[b][1] - gc_at[a][1]]
                 for a, b in itertools.pairwise(("build", "segment", "to_json", "end"))}
    return doc


def run_child(n: int, seed: int, trace: bool) -> dict[str, Any]:
    """Build `n` members, segment them, serialise the result; times and peak memory."""
    import gc
    import tracemalloc

    from persona.segment import run_segmentation
    from persona.segment_params import SegmentParams

    out: dict[str, Any] = {"members": n, "stage": "pools"}
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    gc_at: dict[str, tuple[float, int]] = {}
    try:
        t0 = time.perf_counter()
        pools = Pools(seed)
        out["pools_s"] = time.perf_counter() - t0
        out["rss_start_mb"] = peak_rss_mb()
        out["stage"] = "build"
        print(f"  [{n}] building members …", file=sys.stderr, flush=True)
        gc_at["build"] = gc_clock.snapshot()
        t0 = time.perf_counter()
        members = generate_members(n, seed, pools)
        out["build_s"] = time.perf_counter() - t0
        gc_at["segment"] = gc_clock.snapshot()
        out["rss_built_mb"] = peak_rss_mb()
        out["orders"] = sum(len(m.orders) for m in members)
        out["tags"] = sum(len(m.persona.tags) for m in members)

        out["stage"] = "segment"
        print(f"  [{n}] segmenting …", file=sys.stderr, flush=True)
        params = SegmentParams()
        stages: dict[str, float] = {}
        undo = _timed_stages(stages)
        if trace:
            tracemalloc.start()
        t0 = time.perf_counter()
        result = run_segmentation(members, SAMPLE_NOW, params)
        out["segment_s"] = time.perf_counter() - t0
        undo()
        out["stages"] = stages
        out["rss_segmented_mb"] = peak_rss_mb()

        doc = timed_to_json(result, out, gc_at, gc_clock)
        t0 = time.perf_counter()
        text = json.dumps(doc, ensure_ascii=False)
        out["dumps_s"] = time.perf_counter() - t0
        out["json_mb"] = len(text.encode("utf-8")) / 2**20
        if trace:
            out["trace_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        del text
        out["peak_rss_mb"] = peak_rss_mb()

        describe_result(result, out, assignments=len(doc["assignments"]))
        out["stage"] = "done"
    except MemoryError:
        out["error"] = f"MemoryError during {out['stage']}"
        out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_child_db(n: int, seed: int, db_dir: Path) -> dict[str, Any]:
    """The product path on a stored community: storage → columns (build), segmentation
    (segment, cards' text parts read for their samples), to_json, and storing the run."""
    import gc

    import persona.segment as segment_mod
    from bot.app import App
    from handlers.bulk import paused_gc
    from handlers.segments import gather_columns, segment_params, store_result
    from handlers.settings import Settings
    from persona.segment import run_segmentation
    from storage.segments import SegmentStore, json_text

    path = db_dir / f"segment-{n}-{seed}.db"
    out: dict[str, Any] = {"members": n, "stage": "open", "source": "db",
                           "db_mb": path.stat().st_size / 2**20}
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    gc_at: dict[str, tuple[float, int]] = {}
    try:
        settings = Settings(db=f"sqlite:///{path}")
        app = App(settings)
        store, labels = app.store, app.labels
        params = segment_params(settings)
        out["rss_start_mb"] = peak_rss_mb()
        out["stage"] = "build"
        print(f"  [{n}] reading columns …", file=sys.stderr, flush=True)
        gc_at["build"] = gc_clock.snapshot()
        pause = paused_gc()  # as run_and_store does, from reading to the stored run
        pause.__enter__()
        t0 = time.perf_counter()
        pks, cols = gather_columns(store, settings, labels, SAMPLE_NOW)
        out["build_s"] = time.perf_counter() - t0
        gc_at["segment"] = gc_clock.snapshot()
        out["rss_built_mb"] = peak_rss_mb()
        out["orders"] = len(cols.order_id)
        out["tags"] = len(cols.tag_member)
        out["stage"] = "segment"
        print(f"  [{n}] segmenting …", file=sys.stderr, flush=True)
        stages: dict[str, float] = {}
        undo = _timed_stages(stages)
        t0 = time.perf_counter()
        # as run_and_store does: the columns are dropped once tabulated
        table = segment_mod.tabulate(cols, SAMPLE_NOW, params, settings.half_life_days)
        del cols
        result = run_segmentation(table, SAMPLE_NOW, params,
                                  half_life_days=settings.half_life_days)
        del table
        out["segment_s"] = time.perf_counter() - t0
        undo()
        out["stages"] = stages
        out["rss_segmented_mb"] = peak_rss_mb()
        # the document stored is the summary (assignments go to member_segment rows)
        doc = timed_to_json(result, out, gc_at, gc_clock, stored=True)
        t0 = time.perf_counter()
        text = json_text(doc)  # the serialisation store_result stores, made once
        out["dumps_s"] = time.perf_counter() - t0
        del doc
        out["stage"] = "store"
        runs = SegmentStore(store.engine)
        t0 = time.perf_counter()
        run_id = store_result(runs, SAMPLE_NOW, params, pks, result, document=text)
        out["store_s"] = time.perf_counter() - t0
        del text
        with store.engine.connect() as conn:
            out["json_mb"] = conn.exec_driver_sql(
                "SELECT length(CAST(result AS BLOB)) FROM segment_run WHERE id = ?",
                (run_id,)).scalar() / 2**20
        pause.__exit__(None, None, None)
        out["peak_rss_mb"] = peak_rss_mb()
        describe_result(result, out, assignments=len(result.member_ids))
        out["stage"] = "done"
    except MemoryError:
        out["error"] = f"MemoryError during {out['stage']}"
        out["peak_rss_mb"] = peak_rss_mb()
    return out


def backfill_activity(path: Path) -> int:
    """Fill member_activity in a community built before the tag rebuild kept it, with what
    the rebuild (and build_database) would have written: every member, counted in SQL as of
    SAMPLE_NOW, when the tags were computed. Returns the rows written (0: nothing to do)."""
    import sqlite3

    from persona.kept import RECENT_KEPT
    from storage.db import open_database
    from storage.segment_rows import _us

    open_database(f"sqlite:///{path}").dispose()  # creates the table if it is missing
    db = sqlite3.connect(path)
    try:
        if db.execute("SELECT count(*) FROM member_activity").fetchone()[0]:
            return 0
        chat = "type NOT IN ('system', 'recall')"
        computed = (SAMPLE_NOW - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        db.execute(
            "INSERT INTO member_activity (member_pk, computed_us, messages, first_us, last_us, "
            "joined_us, recent) SELECT m.id, ?, coalesce(a.cnt, 0), a.lo, a.hi, a.joined, "
            "coalesce(r.recent, '') FROM member m LEFT JOIN ("
            f"SELECT member_pk, count(*) FILTER (WHERE {chat}) AS cnt, "
            f"min({_us('ts')}) FILTER (WHERE {chat}) AS lo, "
            f"max({_us('ts')}) FILTER (WHERE {chat}) AS hi, "
            f"min({_us('ts')}) FILTER (WHERE type = 'system' AND "
            "json_extract(signals, '$.j') IS NOT NULL) AS joined "
            "FROM message GROUP BY member_pk) a ON a.member_pk = m.id LEFT JOIN ("
            "SELECT member_pk, group_concat(printf('%016d', us), '') AS recent FROM ("
            f"SELECT member_pk, {_us('ts')} AS us, row_number() OVER (PARTITION BY member_pk "
            f"ORDER BY ts DESC) AS rn FROM message WHERE {chat} ORDER BY member_pk, rn) "
            "WHERE rn <= ? GROUP BY member_pk) r ON r.member_pk = m.id", (computed, RECENT_KEPT))
        db.commit()
        return int(db.execute("SELECT count(*) FROM member_activity").fetchone()[0])
    finally:
        db.close()


def backfill_tags(path: Path) -> int:
    """Fill member_tags in a community built before the tag rebuild kept it, from the tag
    table itself: each member's tags packed as the rebuild packs them (`persona.kept.
    kept_tags`; chat evidence against the member's orders up to computed_at, as the rebuild
    loads them). Returns the rows written (0: nothing to do).

    Tag rows are read in storage order and grouped by member as they come (the generated
    communities store each member's tags together); a member met again later gets no row,
    so the run reads that member from the tag table: slower, never wrong."""
    import sqlite3

    from persona.kept import KeptTag, KeptTags
    from persona.member_table import TAG_KINDS_READ
    from storage.db import open_database
    from storage.segment_kept import tags_row
    from storage.segment_rows import _us

    open_database(f"sqlite:///{path}").dispose()  # creates the table if it is missing
    db = sqlite3.connect(path)
    try:
        if db.execute("SELECT count(*) FROM member_tags").fetchone()[0]:
            return 0
        if not db.execute("SELECT count(*) FROM tag").fetchone()[0]:
            return 0
        db.execute("PRAGMA synchronous=OFF")
        kinds = ", ".join(f"'{k}'" for k in (*TAG_KINDS_READ, "lifecycle"))
        cur = db.execute(
            f"SELECT t.member_pk, t.kind, t.code, t.label, t.score, {_us('t.expires_at')}, "
            f"{_us('t.computed_at')}, CASE t.kind WHEN 'motivation' THEN (SELECT count(*) "
            "FROM json_each(t.evidence) e WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
            "o.order_id = e.value AND o.member_pk = t.member_pk AND o.ts <= t.computed_at)) "
            "ELSE 0 END, CASE t.kind WHEN 'motivation' THEN json_array_length(t.evidence) "
            "ELSE 0 END, CASE t.kind WHEN 'intent' THEN t.evidence END FROM tag t "
            f"WHERE t.source = 'derived' AND t.kind IN ({kinds}) ORDER BY t.id")
        out: list[tuple[Any, ...]] = []
        done: set[int] = set()
        broken: set[int] = set()
        group: list[Any] = []
        seps = ("\x1f", "\x1e")

        def emit() -> None:
            if not group:
                return
            pk = group[0][0]
            life = [g for g in group if g[1] == "lifecycle"]
            tags = [KeptTag(kind, code, label, float(score),
                            exp if kind == "intent" else None, chat, n_ev,
                            tuple(json.loads(ev)) if kind == "intent" else ())
                    for _, kind, code, label, score, exp, _c, chat, n_ev, ev in group
                    if kind != "lifecycle"]
            if pk in done:
                broken.add(pk)
            elif life and life[0][6] is not None and not any(
                    sep in f"{t.kind}{t.code}{t.label}" for t in tags for sep in seps):
                out.append(tuple(tags_row(pk, KeptTags(life[0][6], tuple(tags))).values()))
            done.add(pk)
            group.clear()

        def flush() -> None:
            db.executemany("INSERT INTO member_tags (member_pk, computed_us, keys, numbers, "
                           "intents) VALUES (?, ?, ?, ?, ?)", out)
            out.clear()

        while rows := cur.fetchmany(50_000):
            for row in rows:
                if group and row[0] != group[0][0]:
                    emit()
                group.append(row)
            if len(out) >= 20_000:
                flush()
        emit()
        flush()
        for pk in broken:
            db.execute("DELETE FROM member_tags WHERE member_pk = ?", (pk,))
        db.commit()
        return int(db.execute("SELECT count(*) FROM member_tags").fetchone()[0])
    finally:
        db.close()


def ensure_database(n: int, seed: int, db_dir: Path) -> dict[str, Any]:
    """The stored community for (n, seed), built once and kept in `db_dir` (building is not
    what is measured; it takes minutes at a million members)."""
    import gc

    path = db_dir / f"segment-{n}-{seed}.db"
    if path.exists():
        filled = backfill_activity(path)
        packed = backfill_tags(path)
        return {"built": False, **({"activity_backfilled": filled} if filled else {}),
                **({"tags_backfilled": packed} if packed else {})}
    db_dir.mkdir(parents=True, exist_ok=True)
    gc.disable()  # nothing generated is kept; the collector would only walk the batches
    tmp = path.with_suffix(".tmp")
    t0 = time.perf_counter()
    counts = build_database(tmp, n, seed, Pools(seed))
    tmp.rename(path)
    return {"built": True, "build_db_s": time.perf_counter() - t0, **counts}


# --------------------------------------------------------------------------------------------
# Parent: one subprocess per size, then the table


def _limit_child_memory(limit: int | None) -> Callable[[], None] | None:
    if limit is None:
        return None

    def apply() -> None:
        # RLIMIT_DATA covers heap and private anonymous mappings (Linux ≥ 4.7): the child gets
        # MemoryError instead of the kernel's OOM killer choosing a victim on a shared box.
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    return apply


def run_size(n: int, seed: int, trace: bool, timeout: float, limit: int | None,
             extra: Sequence[str] = ()) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(n), "--seed", str(seed),
           *extra]
    if trace:
        cmd.append("--tracemalloc")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout,
                              check=False, preexec_fn=_limit_child_memory(limit))
    except subprocess.TimeoutExpired:
        return {"members": n, "error": f"timed out after {timeout:.0f}s (killed)"}
    wall = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            res: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            res["wall_s"] = wall
            return res
    if proc.returncode < 0:
        why = f"killed by signal {-proc.returncode}"
        if -proc.returncode == 9:
            why += " (likely out of memory)"
    else:
        why = f"exit code {proc.returncode}"
    return {"members": n, "error": f"child failed: {why}"}


def _check(res: dict[str, Any]) -> str:
    """Every member assigned exactly once in every dimension."""
    n = res["members"]
    ok = (res.get("result_members") == n and res.get("assignments") == n
          and all(v == n for v in res.get("dimension_sums", {}).values()))
    return f"{res.get('result_members')}/{n} assigned " + ("(matches)" if ok else "(MISMATCH)")


def _row(res: dict[str, Any]) -> str:
    n = res["members"]
    if "segment_s" not in res or "peak_rss_mb" not in res or "json_mb" not in res:
        return f"{n:>9} {res.get('error', 'no result')}"
    return (f"{n:>9} {res['build_s']:8.2f} {res['segment_s']:10.2f} {res['to_json_s']:10.2f} "
            f"{res['dumps_s']:8.2f} {res['json_mb']:8.1f} {res['rss_built_mb']:13.0f} "
            f"{res['peak_rss_mb']:12.0f} {res['circles']:8d}  {_check(res)}")


def _verdict(exponent: float) -> str:
    if exponent < 0.85:
        return "sublinear (fixed costs still dominate)"
    if exponent <= 1.15:
        return "≈ linear"
    return "superlinear"


def growth_lines(results: list[dict[str, Any]]) -> list[str]:
    """Time ratio against size ratio for consecutive sizes; the exponent is
    log(time ratio) / log(size ratio), 1.0 being exactly linear."""
    ok = [r for r in results if "segment_s" in r and "json_mb" in r]
    lines = []
    for a, b in itertools.pairwise(ok):
        size = b["members"] / a["members"]
        parts = [f"{a['members']:>9} → {b['members']:<9} size ×{size:<6.1f}"]
        for key, name in (("build_s", "build"), ("segment_s", "segment"),
                          ("to_json_s", "to_json"), ("peak_rss_mb", "peak RSS")):
            ratio = b[key] / a[key] if a[key] > 0 else math.inf
            exp = math.log(ratio) / math.log(size) if ratio > 0 and size > 1 else math.nan
            tail = f" {_verdict(exp)}" if key == "segment_s" else ""
            parts.append(f"{name} ×{ratio:.1f} (exp {exp:.2f}){tail}")
        lines.append("; ".join(parts))
    return lines


def estimate_mb(results: list[dict[str, Any]], n: int) -> float | None:
    """Peak RSS expected for `n` members, with a 20% margin: a straight line through the two
    largest measured sizes (segmentation has a large fixed part, so one point overestimates),
    or through one size and the start-up RSS when only one was measured."""
    done = sorted((r["members"], r["peak_rss_mb"], r["rss_start_mb"]) for r in results
                  if "json_mb" in r)
    if not done:
        return None
    if len(done) == 1:
        (m, peak, start), = done
        slope, base = (peak - start) / m, start
    else:
        (m0, p0, _), (m, peak, _) = done[-2:]
        slope = max(0.0, (peak - p0) / (m - m0))
        base = peak - slope * m
    return (base + slope * n) * 1.2


def build_db(n: int, seed: int, db_dir: Path) -> None:
    """The stored community for (n, seed), built in a process of its own or reused."""
    t0 = time.perf_counter()
    built = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--build-db", str(n),
                            "--seed", str(seed), "--db-dir", str(db_dir)],
                           stdout=subprocess.PIPE, text=True, check=False)
    info = next((json.loads(x[len(RESULT_PREFIX):]) for x in built.stdout.splitlines()
                 if x.startswith(RESULT_PREFIX)), {"error": "build failed"})
    print(f"  [{n}] database: {'built' if info.get('built') else 'reused'} "
          f"({time.perf_counter() - t0:.0f}s) {info}", flush=True)


def previous_rounds(n: int, seed: int, db_dir: Path, count: int, timeout: float
                    ) -> list[dict[str, Any]]:
    """--previous: `count` runs of run_and_store on the stored community, as the bot runs
    them (scripts/bench_segment_run.py prints each); an error row when one failed."""
    from bench_segment_run import rounds

    done = rounds(f"sqlite:///{db_dir / f'segment-{n}-{seed}.db'}", count, timeout)
    return [] if len(done) == count else [{"members": n, "error": "a run failed (see its line)"}]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                    help="comma-separated member counts (default 10000,100000,1000000)")
    ap.add_argument("--quick", action="store_true", help="2000,10000: a smoke run")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also trace Python allocations during segmentation (slow)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per size")
    ap.add_argument("--source", choices=("memory", "db"), default="memory",
                    help="memory (default): MemberInput objects built in memory, the engine "
                         "alone; db: the product path, a stored community read as columns "
                         "(built once into --db-dir), the run stored too")
    ap.add_argument("--db-dir", type=Path, default=Path("/tmp/siyu-bench"),
                    help="where the stored communities are built once and kept")
    ap.add_argument("--previous", action="store_true",
                    help="with --source db: run_and_store as the bot runs it, --rounds times "
                         "per size, each run reading the one before it back "
                         "(scripts/bench_segment_run.py: wall, CPU and RSS per stage)")
    ap.add_argument("--rounds", type=int, default=2, help="runs per size with --previous")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--build-db", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.build_db is not None:
        res = ensure_database(args.build_db, args.seed, args.db_dir)
        print(RESULT_PREFIX + json.dumps(res, ensure_ascii=False), flush=True)
        return 0
    if args.child is not None:
        res = (run_child_db(args.child, args.seed, args.db_dir) if args.source == "db"
               else run_child(args.child, args.seed, args.tracemalloc))
        print(RESULT_PREFIX + json.dumps(res, ensure_ascii=False), flush=True)
        return 0 if "error" not in res else 3

    sizes = QUICK_SIZES if args.quick else tuple(
        int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    if not sizes or any(s < 1 for s in sizes):
        ap.error("--sizes: positive integers, e.g. 10000,100000")
    if args.previous and args.source != "db":
        ap.error("--previous needs --source db (a stored community to store runs in)")
    print(machine_line())
    print(f"source: {args.source}; load average {os.getloadavg()}")
    print(f"sizes: {', '.join(f'{s:,}' for s in sizes)}; seed {args.seed}; each size in its own "
          f"process (peak RSS per size); as_of {SAMPLE_NOW.isoformat()}")
    print("the machine is shared and noisy: read the ratios of one run, not absolute seconds.")

    results: list[dict[str, Any]] = []
    for n in sizes:
        avail_mb = meminfo().get("MemAvailable", 0) / 1024
        limit = int(avail_mb * 0.9 * 2**20) if avail_mb else None
        need = estimate_mb(results, n)
        if need is not None and avail_mb and need > avail_mb * 0.9:
            msg = (f"skipped: needs ≈ {need / 1024:.1f} GB (extrapolated from the measured "
                   f"sizes) but only {avail_mb / 1024:.1f} GB is available")
            print(f"  [{n}] {msg}", flush=True)
            results.append({"members": n, "error": msg})
            continue
        guess = f", expected peak ≈ {need / 1024:.1f} GB" if need is not None else ""
        print(f"  [{n}] starting (available memory {avail_mb / 1024:.1f} GB{guess})", flush=True)
        extra: list[str] = []
        if args.source == "db":
            extra = ["--source", "db", "--db-dir", str(args.db_dir)]
            build_db(n, args.seed, args.db_dir)
        if args.previous:
            results += previous_rounds(n, args.seed, args.db_dir, args.rounds, args.timeout)
            continue
        res = run_size(n, args.seed, args.tracemalloc, args.timeout, limit, extra)
        results.append(res)
        if "error" in res:
            print(f"  [{n}] {res['error']} — continuing with the next size", flush=True)

    print()
    print(HEADER)
    for res in results:
        print(_row(res))
    print()
    print("totals (seconds): build + segment + to_json, and storing the run (db source)")
    for res in results:
        if "to_json_s" in res:
            total = res["build_s"] + res["segment_s"] + res["to_json_s"]
            store = f"  store {res['store_s']:.2f}" if "store_s" in res else ""
            print(f"{res['members']:>9}  total {total:.2f}{store}")
    print()
    print("stages of segment s (seconds): tabulate, rules, circles, cards, patterns, importance")
    for res in results:
        st = res.get("stages")
        if st:
            names = ("tabulate", "rules", "circles", "cards", "patterns", "importance")
            cells = "  ".join(f"{k} {st.get(k, 0.0):.2f}" for k in names)
            cl = res.get("clustering", {})
            print(f"{res['members']:>9}  {cells}  [{cl.get('method')}, k={cl.get('k')}, "
                  f"profiled {cl.get('profiled')}]")
    print()
    print("garbage collector pauses inside each timing (seconds, full collections):")
    for res in results:
        g = res.get("gc")
        if g:
            print(f"{res['members']:>9}  " + "  ".join(
                f"{k} {v[0]:.2f} ({v[1]} full)" for k, v in g.items()))
    print()
    print("inputs and memory:")
    for res in results:
        if "rss_built_mb" in res:
            n = res["members"]
            tail = (f", tracemalloc peak during segmentation {res['trace_peak_mb']:.0f} MB"
                    if "trace_peak_mb" in res else "")
            print(f"{n:>9}  {res['tags'] / n:.1f} tags and {res['orders'] / n:.2f} orders per "
                  f"member; RSS after imports {res['rss_start_mb']:.0f} MB, after building "
                  f"inputs {res['rss_built_mb']:.0f} MB (≈ "
                  f"{(res['rss_built_mb'] - res['rss_start_mb']) * 1024 / n:.1f} KB/member), "
                  f"after segmenting {res['rss_segmented_mb']:.0f} MB, peak "
                  f"{res['peak_rss_mb']:.0f} MB{tail}")
    lines = growth_lines(results)
    if lines:
        print()
        print("growth between consecutive sizes (exp = log time ratio / log size ratio; "
              "1.0 = linear):")
        for line in lines:
            print(line)
    failed = [r for r in results if "error" in r]
    if failed:
        print()
        for r in failed:
            print(f"note: {r['members']:,} members not measured: {r['error']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
