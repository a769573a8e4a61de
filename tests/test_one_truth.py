"""One truth per segment: every command puts the same members in every segment.

On the shipped sample community and on one generated with another seed, as of one moment,
for every segment code: the stored run (`siyu segment`, `siyu report`, 报告), a fresh run
(分群), the persona listing (`siyu personas`), each member's own persona (`siyu persona`,
画像 @member, 我的数据 — all `build_personas` of one member) and the invite candidates
(`siyu invite --segment CODE`, 邀请: drafted or skipped) name the same members, and the
managers' numbers (the report's and 分群's size lines) count them.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from bot.app import App
from bot.config import load_settings
from bot.report import report_text, size_lines
from bot.sources import open_source
from bot.sources.business import open_orders
from handlers.business import import_orders
from handlers.ingest import Ingestor, IngestReport
from handlers.invites import draft_invites
from handlers.personas import build_personas
from handlers.segments import run_and_store, run_document
from persona.segment_params import DIMENSIONS, NONE_KEY, SEGMENT_LABELS
from persona.segment_rules import (
    MOTIVATIONS,
    MemberFacts,
    SegmentRules,
    layer_codes,
    lifecycle_codes,
    member_segments,
    motivation_codes,
    value_codes,
)
from persona.signals import MOTIVATION_CODES
from storage.segments import SegmentStore
from tests.test_crash_safety import _sample_community

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "bot" / "data" / "sample"


def _community(folder: Path, db: Path) -> tuple[App, datetime]:
    """A community imported the way `siyu demo` imports the sample: chats, then orders."""
    settings = load_settings(None, f"sqlite:///{db}")
    app = App(settings)
    ingestor = Ingestor(app.store, app.analyzer, settings, app.labels)
    report = IngestReport()
    for path in sorted(folder.glob("*.json")):
        ingestor.ingest(open_source(path, "chatlab", tz=settings.tz), report)
    import_orders(app.store, open_orders(folder / "orders.csv", tz=settings.tz), settings,
                  file="orders.csv")
    ingestor.finish(report)
    as_of = app.store.latest_message_ts()
    assert as_of is not None
    return app, as_of


@pytest.fixture(scope="module", params=["sample", "seed-7"])
def community(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[App, datetime]]:
    tmp = tmp_path_factory.mktemp(request.param)
    folder = SAMPLE
    if request.param != "sample":
        folder = tmp / "chats"
        _sample_community().write_sample(folder, seed=7)
    app, as_of = _community(folder, tmp / "siyu.db")
    yield app, as_of


def _members_by_code(assignments: dict[str, dict[str, str | None]], dim: str
                     ) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for member_id, seg in assignments.items():
        out.setdefault(seg[dim] or NONE_KEY, set()).add(member_id)
    return out


def test_every_command_puts_the_same_members_in_every_segment(
        community: tuple[App, datetime]) -> None:
    app, as_of = community
    store, settings, labels = app.store, app.settings, app.labels
    fresh = run_and_store(store, settings, labels, as_of)  # siyu segment, 分群
    run = SegmentStore(store.engine).latest_run(until=as_of)
    assert run is not None and run.id == fresh.run_id
    stored = run_document(store, run)  # siyu report --json, 报告
    truth = {m: {d: seg[d] for d in (*DIMENSIONS, "cluster")}
             for m, seg in stored["assignments"].items()}
    assert {m: dict(zip((*DIMENSIONS, "cluster"), codes, strict=True)) for m, codes in zip(
        fresh.result.member_ids, zip(fresh.result.value, fresh.result.lifecycle,
                                     fresh.result.motivation, fresh.result.layer,
                                     fresh.result.cluster, strict=True), strict=True)} == truth

    views = build_personas(store, settings, labels, as_of)  # siyu personas
    listed = {v.member.member_id: {d: v.persona.segments[d] for d in (*DIMENSIONS, "cluster")}
              for v in views}
    assert listed == truth
    for v in views:  # siyu persona M, 画像 @M, 我的数据: a persona of one
        (own,) = build_personas(store, settings, labels, as_of, [v.member.pk])
        assert own.persona.segments == v.persona.segments, v.member.member_id

    # the numbers managers read: the stored run's counts, 分群's and 报告's size lines
    lines = size_lines(stored)
    assert size_lines(fresh.result.to_stored_json()) == lines
    report = report_text(stored, None, settings.tz).splitlines()
    for line in lines[:len(DIMENSIONS)]:
        assert f"  {line}" in report
    for dim in DIMENSIONS:
        members = _members_by_code(truth, dim)
        assert stored["counts"][dim] == {code: len(members.get(code, ()))
                                        for code in stored["counts"][dim]}
        assert sum(stored["counts"][dim].values()) == len(truth)
        for code, n in stored["counts"][dim].items():
            if n:
                assert f"{SEGMENT_LABELS[dim][code]} {n}" in lines[DIMENSIONS.index(dim)]

    # siyu invite A --segment CODE, 邀请: every member of the segment drafted or skipped
    codes = [(dim, code) for dim in DIMENSIONS for code in SEGMENT_LABELS[dim]
             if code != NONE_KEY]
    codes += [("cluster", c["code"]) for c in stored["clusters"]]
    for dim, code in codes:
        got = draft_invites(store, settings, labels, f"双十二专场-{code}", code, as_of)
        candidates = ([v.member_id for v in got.invites]
                      + [s.member_id for s in got.skipped])
        assert len(candidates) == len(set(candidates))
        expected = {m for m, seg in truth.items() if seg[dim] == code}
        assert set(candidates) == expected, (dim, code)


def test_the_segments_are_not_all_alike(community: tuple[App, datetime]) -> None:
    """The comparison above means something only where every dimension splits people."""
    app, as_of = community
    views = build_personas(app.store, app.settings, app.labels, as_of)
    for dim in ("lifecycle", "motivation", "layer"):
        assert len(Counter(v.persona.segments[dim] for v in views)) >= 2, dim


def test_the_rules_name_the_motivations_in_the_signals_order() -> None:
    assert MOTIVATIONS == MOTIVATION_CODES


def test_a_later_persona_keeps_the_run_high_tier_and_its_own_stages(
        community: tuple[App, datetime]) -> None:
    """Between runs a persona is the member's own as of the moment asked (lifecycle,
    motivation, growth/general, layer by the shared rules); only high and the circle come
    from the latest run."""
    app, as_of = community
    store, settings, labels = app.store, app.settings, app.labels
    run_and_store(store, settings, labels, as_of)
    later = as_of.replace(year=as_of.year + 1)
    runs = SegmentStore(store.engine)
    run = runs.latest_run(until=later)
    assert run is not None
    ranked = {m: seg for m, seg in run_document(store, run)["assignments"].items()}
    for v in build_personas(store, settings, labels, later):
        seg, own = ranked[v.member.member_id], v.persona.segments
        assert own["cluster"] == seg["cluster"]
        assert (own["value"] == "high") == (seg["value"] == "high")
        if own["value"] == "high":
            assert own["layer"] == "core"
        assert own["lifecycle"] in ("declining", "potential")  # a year of silence


def test_the_rules_decide_alike_on_one_member_and_on_columns() -> None:
    """build_persona evaluates the rules on plain numbers, a run on numpy columns: the same
    expressions, so the same answers — boundaries, NaN ages and ties included."""
    rng = random.Random(15)
    rules = SegmentRules()
    day = 86400.0
    scores = (0.0, 0.1, 0.3, 0.45, 0.6, 0.63, 0.9, 0.999, 1.0)
    facts = []
    for _ in range(3000):
        orders = rng.choice((0, 1, 2, 3, 4, 10))
        facts.append(MemberFacts(
            first_age=rng.choice((math.nan, 14 * day, 14 * day + 1, rng.uniform(0, 90) * day)),
            last_age=rng.choice((math.nan, 30 * day, 30 * day + 1, rng.uniform(0, 60) * day)),
            recent_messages=rng.choice((0, 1, 7, 8, 30)),
            recent_events=rng.choice((0, 4, 5)),
            orders=orders, coupon_orders=rng.randint(0, orders),
            motivation=(rng.choice(scores), rng.choice(scores), rng.choice(scores)),
            motivation_chat=(rng.randint(0, 3), rng.randint(0, 3), rng.randint(0, 3)),
            price_evidence=rng.randint(0, 5)))
    high = [rng.random() < 0.2 for _ in facts]
    one = [member_segments(f, rules, h) for f, h in zip(facts, high, strict=True)]

    def col(name: str) -> np.ndarray:
        return np.array([getattr(f, name) for f in facts])

    mot, chat = col("motivation"), col("motivation_chat")
    value = value_codes(col("orders"), col("recent_messages"), col("recent_events"),
                        np.array(high), rules)
    lifecycle = lifecycle_codes(col("first_age"), col("last_age"), rules)
    motivation = motivation_codes([mot[:, j] for j in range(3)],
                                  [chat[:, j] for j in range(3)], col("price_evidence"),
                                  col("orders"), col("coupon_orders"), rules)
    layer = layer_codes(value, col("recent_messages"), col("orders"), lifecycle, rules)
    columns = [{"value": v, "lifecycle": lc, "motivation": m, "layer": la}
               for v, lc, m, la in zip(value, lifecycle, motivation, layer, strict=True)]
    assert one == columns
    for dim in DIMENSIONS:  # the draw reaches every code
        assert len({seg[dim] for seg in one}) == len(SEGMENT_LABELS[dim]), dim


def test_a_member_without_a_motivation_reads_as_the_summary_counts_her() -> None:
    """/画像 and `siyu personas` said 动机未明 where /分群 and the report count 动机不明."""
    from bot.render import segment_line
    from persona.segment_params import NONE_KEY, SEGMENT_LABELS

    line = segment_line({"value": "general", "lifecycle": "mature", "motivation": None})
    assert SEGMENT_LABELS["motivation"][NONE_KEY] in line
    assert "价格敏感型" in segment_line({"motivation": "price"})
