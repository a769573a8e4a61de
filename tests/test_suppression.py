"""Suppression and exact lookup on both backends: what `siyu forget` and /删除 rely on in
storage (the CLI and bot tests in test_erasure.py run on SQLite)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_postgres import batch, msg

from storage.privacy import PrivacyStore
from storage.repo import Store
from storage.segments import SegmentColumns, SegmentStore
from storage.suppression import SuppressionStore


def test_an_erased_sender_is_skipped_until_she_opts_back_in(any_engine: Engine) -> None:
    store = Store(any_engine)
    store.write_batch(batch(msg("a1", "wxid_a"), msg("b1", "wxid_b", 1)))
    pks = {m.member_id: m.pk for m in store.members()}
    runs = SegmentStore(any_engine)
    run_id = runs.save_run(msg("x").ts, msg("x").ts, {}, {"cards": []},
                           {pks["wxid_a"]: {"value": "high"}, pks["wxid_b"]: {"value": "general"}})
    privacy = PrivacyStore(any_engine)
    erased = privacy.erase(pks["wxid_a"])
    assert erased.runs == [run_id] and erased.suppressed == 1
    assert erased.deleted["message"] == 1 and erased.deleted["member"] == 1
    with any_engine.connect() as conn:
        (digest,) = conn.execute(text("SELECT hash FROM suppression")).scalars()
        assert len(digest) == 64 and "wxid_a" not in digest
    res = store.write_batch(batch(msg("a2", "wxid_a", 2), msg("b2", "wxid_b", 3)))
    assert (res.new, res.opted_out, res.new_members) == (1, 1, 0)
    assert [m.member_id for m in store.members()] == ["wxid_b"]
    # a private chat named after her is not stored either
    res = store.write_batch(batch(msg("a3", "wxid_a", 4, chat="wxid_a")))
    assert (res.new, res.opted_out) == (0, 1)
    suppression = SuppressionStore(any_engine)
    assert suppression.is_suppressed("wechat", "wxid_a")
    assert not suppression.is_suppressed("wecom", "wxid_a")  # the platform is part of it
    assert suppression.lift("wechat", "wxid_a") and not suppression.lift("wechat", "wxid_a")
    res = store.write_batch(batch(msg("a4", "wxid_a", 5)))
    assert (res.new, res.new_members) == (1, 1)
    # a second erasure reuses the database's key
    again = privacy.erase(next(m.pk for m in store.members() if m.member_id == "wxid_a"))
    assert again.suppressed == 1 and suppression.is_suppressed("wechat", "wxid_a")
    # the run's rows can be replaced in place (what the recomputation writes)
    runs.replace_run(run_id, '{"cards": [1]}', SegmentColumns([pks["wxid_b"]], ["high"], [None],
                                                                 [None], [None], ["c1"]))
    stored = runs.run(run_id)
    assert stored is not None and stored.result == {"cards": [1]}
    assert runs.member_segments(run_id) == {pks["wxid_b"]: {
        "value": "high", "lifecycle": None, "motivation": None, "layer": None, "cluster": "c1"}}


def test_exact_lookup_never_searches(any_engine: Engine) -> None:
    store = Store(any_engine)
    b = batch(msg("a1", "wxid_a"), msg("b1", "lily", 1), msg("c1", "wxid_c", 2),
              msg("d1", "wxid_d", 3))
    b.people["wechat", "wxid_a"] = "小李Lily"
    b.people["wechat", "lily"] = "Lily"
    b.people["wechat", "wxid_c"] = "小雨"
    b.people["wechat", "wxid_d"] = "小雨"
    store.write_batch(b)
    privacy = PrivacyStore(any_engine)
    assert [m.member_id for m in privacy.find_exact("lily")] == ["lily"]  # the id, not a name
    assert [m.member_id for m in privacy.find_exact("Lily")] == ["lily"]
    assert privacy.find_exact("LILY") == [] and privacy.find_exact("小李") == []
    assert privacy.find_exact("") == [] and privacy.find_exact("%") == []
    assert [m.member_id for m in privacy.find_exact("小雨")] == ["wxid_c", "wxid_d"]
    assert [m.member_id for m in privacy.find_exact("小李Lily")] == ["wxid_a"]
