"""Run-to-run comparison: size changes, moves with examples, cluster stability (ARI)."""

from __future__ import annotations

from dataclasses import replace

from segment_fixtures import AS_OF, circle_community, member, msg, order

from persona.compare import compare_runs
from persona.segment import run_segmentation
from persona.segment_params import SegmentParams
from persona.segment_result import SegmentResult

P = SegmentParams()


def fake(ids: list[str], clusters: list[str | None], value: list[str] | None = None
         ) -> SegmentResult:
    """A stored run with only the columns compare reads."""
    n = len(ids)
    return SegmentResult(
        as_of=AS_OF, params=P, member_ids=ids, value=value or ["general"] * n,
        lifecycle=["mature"] * n, motivation=[None] * n, layer=["ordinary"] * n,
        cluster=clusters, dynamic_tags=[()] * n, circles=[], clustering={}, cards=[],
        patterns=[], importance={}, next_cluster_code=1)


def test_identical_runs_are_perfectly_stable() -> None:
    r = run_segmentation(circle_community(), AS_OF, P)
    c = compare_runs(r, r)
    assert c["clusters"]["ari"] == 1.0
    assert c["clusters"]["overlap"] == {code: 1.0 for code in c["clusters"]["kept"]}
    assert all(m["moved"] == 0 for m in c["moves"].values())
    assert c["members"] == {"before": 24, "after": 24, "common": 24, "joined": 0, "left": 0}


def test_ari_ignores_code_names_but_not_regrouping() -> None:
    ids = [f"m{i}" for i in range(6)]
    before = fake(ids, ["c1", "c1", "c1", "c2", "c2", "c2"])
    renamed = fake(ids, ["c7", "c7", "c7", "c8", "c8", "c8"])
    mixed = fake(ids, ["c1", "c2", "c1", "c2", "c1", "c2"])
    assert compare_runs(before, renamed)["clusters"]["ari"] == 1.0
    assert compare_runs(before, mixed)["clusters"]["ari"] < 0.2
    c = compare_runs(before, renamed)["clusters"]
    assert c["new"] == ["c7", "c8"] and c["vanished"] == ["c1", "c2"] and c["kept"] == []


def test_ari_uses_common_clustered_members_only() -> None:
    before = fake(["a", "b", "c", "d", "gone"], ["c1", "c1", "c2", "c2", "c1"])
    after = fake(["a", "b", "c", "d", "new"], ["c1", "c1", "c2", None, "c2"])
    c = compare_runs(before, after)
    assert c["clusters"]["compared"] == 3
    assert c["clusters"]["ari"] == 1.0
    assert c["members"]["joined"] == 1 and c["members"]["left"] == 1
    assert c["clusters"]["overlap"]["c1"] == round(2 / 3, 4)  # {a,b,gone} vs {a,b}
    assert compare_runs(fake(["a"], ["c1"]), fake(["a"], ["c1"]))["clusters"]["ari"] is None


def test_sizes_and_moves_with_examples() -> None:
    ids = [f"m{i}" for i in range(6)]
    before = fake(ids, [None] * 6, ["general"] * 4 + ["growth"] * 2)
    after = fake(ids, [None] * 6, ["growth"] * 3 + ["general", "high", "growth"])
    c = compare_runs(before, after)
    assert c["sizes"]["value"] == {
        "general": {"before": 4, "after": 1, "delta": -3},
        "growth": {"before": 2, "after": 4, "delta": 2},
        "high": {"before": 0, "after": 1, "delta": 1},
    }
    moves = c["moves"]["value"]
    assert moves["moved"] == 4
    assert moves["transitions"][0] == {"from": "general", "to": "growth", "count": 3,
                                       "examples": ["m0", "m1", "m2"]}
    assert {"from": "growth", "to": "high", "count": 1, "examples": ["m4"]} in moves["transitions"]


def test_run_with_previous_reports_changes() -> None:
    members = circle_community()
    first = run_segmentation(members, AS_OF, P)
    # Same moment, new data: a newcomer, and a first purchase for one member.
    members = [*members, member("newbie", [msg("n1", 1)])]
    members[0] = replace(members[0], orders=(order("o1", 1, 99), order("o2", 2, 99)))
    second = run_segmentation(members, AS_OF, P,
                              previous=SegmentResult.from_json(first.to_json()))
    changes = second.changes
    assert changes is not None and second.to_json()["changes"] == changes
    assert changes["members"]["joined"] == 1
    assert changes["sizes"]["lifecycle"]["new"]["delta"] == 1
    assert changes["moves"]["value"]["transitions"][0]["examples"] == [
        members[0].persona.member_id]
    assert changes["clusters"]["ari"] == 1.0


def test_no_code_is_none_whether_none_or_empty() -> None:
    ids = [f"m{i}" for i in range(4)]
    before = fake(ids, ["c1", None, "", "c2"])
    after = fake(ids, ["c1", "", None, "c10"])
    c = compare_runs(before, after)
    assert c["sizes"]["cluster"]["none"] == {"before": 2, "after": 2, "delta": 0}
    assert c["moves"]["cluster"] == {"moved": 1, "transitions": [
        {"from": "c2", "to": "c10", "count": 1, "examples": ["m3"]}]}
    assert c["clusters"]["compared"] == 2
    assert c["clusters"]["new"] == ["c10"] and c["clusters"]["vanished"] == ["c2"]


def test_ari_is_sklearns_on_the_codes_themselves() -> None:
    """Codes are compared as integers in their sorted order: the very float sklearn gives
    on the strings (c10 sorts before c2 as text, and so does its index)."""
    from sklearn.metrics import adjusted_rand_score

    ids = [f"m{i}" for i in range(12)]
    b = ["c1", "c2", "c10", "c2", "c1", "c10", "c3", "c3", "c1", "c2", "c10", "c3"]
    a = ["c2", "c2", "c10", "c1", "c1", "c3", "c3", "c10", "c1", "c2", "c2", "c3"]
    expected = round(float(adjusted_rand_score(b, a)), 4)
    assert compare_runs(fake(ids, b), fake(ids, a))["clusters"]["ari"] == expected
    assert compare_runs(fake(ids, b), fake(ids, a))["clusters"]["overlap"]["c10"] == round(1 / 4, 4)
