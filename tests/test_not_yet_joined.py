"""`--as-of` in the past: members who had not joined by then are not listed or counted.

They were listed as 潜在用户 (a lifecycle for someone who is in the community but has not
spoken), though at that moment they were nowhere. The listing and a run agree.
"""

from __future__ import annotations

from pathlib import Path

from handlers.personas import build_personas
from handlers.segments import run_and_store
from tests.suggest_fixtures import Community, ago


def _community(tmp_path: Path) -> Community:
    c = Community(tmp_path)
    c.say("wxid_old", "大家好，宝宝辅食怎么做？", ago(40), "老成员")
    c.say("wxid_old", "谢谢大家", ago(1), "老成员")
    c.join("wxid_lurker", "潜水员", ago(20))
    c.say("wxid_late", "我刚来，有没有优惠？", ago(2), "新人")
    c.commit()
    return c


def test_a_past_listing_leaves_out_who_had_not_joined(tmp_path: Path) -> None:
    c = _community(tmp_path)
    past = ago(10)
    ids = [v.persona.member_id for v in build_personas(c.store, c.settings, c.labels, past)]
    assert ids == ["wxid_old", "wxid_lurker"]
    now = [v.persona.member_id for v in build_personas(c.store, c.settings, c.labels, ago(0))]
    assert set(now) == {"wxid_old", "wxid_lurker", "wxid_late"}
    # asked for by name, a member is still shown (with nothing up to then)
    late = c.store.find_members("wxid_late")[0]
    (view,) = build_personas(c.store, c.settings, c.labels, past, [late.pk])
    assert view.persona.stats["messages"] == 0


def test_a_past_run_counts_the_same_members(tmp_path: Path) -> None:
    c = _community(tmp_path)
    past = ago(10)
    doc = run_and_store(c.store, c.settings, c.labels, past).result.to_json()
    assert sum(doc["counts"]["lifecycle"].values()) == 2
    assert sorted(doc["assignments"]) == ["wxid_lurker", "wxid_old"]
    listed = build_personas(c.store, c.settings, c.labels, past)
    lifecycles = {v.persona.member_id: v.persona.segments["lifecycle"] for v in listed}
    assert {m: a["lifecycle"] for m, a in doc["assignments"].items()} == lifecycles
