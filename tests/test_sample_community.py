"""The shipped sample community and the bulk generator: deterministic, valid ChatLab, and the files
under bot/data/sample/ never drift from what the generator produces.

`siyu demo` and the ingest benchmark both trust this data blindly, so shape errors here would
surface far away as confusing persona results; these tests keep them next to the generator.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "bot" / "data" / "sample"
REQUIRED = ("sender", "accountName", "timestamp", "type", "content")
CHATLAB_TYPES = {0, 1, 2, 3, 4, 5, 7, 8, 20, 21, 22, 23, 24, 25, 26, 27, 80, 81, 99}


def _load() -> ModuleType:
    """scripts/ is not a package; load the generator by path, once, under a stable name."""
    name = "sample_community"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "sample_community.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


sc = _load()


@pytest.fixture(scope="module")
def sample() -> dict:
    return sc.build_sample()


@pytest.fixture(scope="module")
def truth() -> list[dict]:
    return sc.sample_members()


def _operator_ids(sample: dict) -> set[str]:
    return {
        m["platformId"]
        for doc in sample["chats"].values()
        for m in doc["members"]
        if m.get("roles")
    } | {
        # the brand account in private chats carries no role there
        m["platformId"]
        for doc in sample["chats"].values()
        for m in doc["members"]
        if m["accountName"] == "小禾助手"
    }


# -- determinism and drift -------------------------------------------------------------------


def test_same_seed_gives_identical_output() -> None:
    a, b = sc.build_sample(2026), sc.build_sample(2026)
    assert a == b
    assert [sc.render_chat(d) for d in a["chats"].values()] == [
        sc.render_chat(d) for d in b["chats"].values()
    ]
    assert sc.build_sample(2027) != a


def test_shipped_files_equal_a_fresh_generation(sample: dict) -> None:
    expected = {name: sc.render_chat(doc) for name, doc in sample["chats"].items()}
    expected["orders.csv"] = sc.render_orders(sample["orders"])
    shipped = {p.name for p in SAMPLE_DIR.iterdir() if p.suffix in (".json", ".csv")}
    hint = "regenerate with: python scripts/sample_community.py"
    assert shipped == set(expected), hint
    for name, text in expected.items():
        assert (SAMPLE_DIR / name).read_text(encoding="utf-8") == text, f"{name} drifted; {hint}"


def test_shipped_files_are_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_DIR.iterdir())
    assert total < 300 * 1024


def test_write_sample_round_trips(tmp_path: Path, sample: dict) -> None:
    paths = sc.write_sample(tmp_path)
    assert {p.name for p in paths} == {*sample["chats"], "orders.csv"}
    for name, doc in sample["chats"].items():
        assert json.loads((tmp_path / name).read_text(encoding="utf-8")) == doc
    with (tmp_path / "orders.csv").open(encoding="utf-8", newline="") as fh:
        assert list(csv.DictReader(fh)) == sample["orders"]


def test_cli_writes_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sc.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "orders.csv").exists()
    assert "wrote" in capsys.readouterr().out


# -- ChatLab shape -----------------------------------------------------------------------------


def test_every_chat_is_valid_chatlab(sample: dict) -> None:
    start = sc.SAMPLE_NOW - timedelta(days=sc.SAMPLE_DAYS)
    lo, hi = int(start.timestamp()), int(sc.SAMPLE_NOW.timestamp())
    seen_ids: set[str] = set()
    for name, doc in sample["chats"].items():
        assert doc["chatlab"]["version"] == "0.0.2"
        assert isinstance(doc["chatlab"]["exportedAt"], int)
        meta = doc["meta"]
        assert meta["platform"] == "wechat" and meta["type"] in ("group", "private")
        assert meta["name"]
        if meta["type"] == "group":
            assert meta["groupId"].endswith("@chatroom")
            assert name.startswith("group-")
        member_ids = [m["platformId"] for m in doc["members"]]
        assert len(member_ids) == len(set(member_ids)), name
        assert all(m["accountName"] and m["platformId"].startswith("wxid_") for m in doc["members"])
        by_id = {}
        last_ts = lo
        for msg in doc["messages"]:
            for key in REQUIRED:
                assert key in msg, (name, key, msg)
            assert msg["sender"] in member_ids, (name, msg)
            assert isinstance(msg["timestamp"], int) and lo <= msg["timestamp"] <= hi
            assert msg["timestamp"] >= last_ts, f"{name} not sorted at {msg}"
            last_ts = msg["timestamp"]
            assert msg["type"] in CHATLAB_TYPES
            assert msg["content"] is None or isinstance(msg["content"], str)
            if msg["type"] == 5:
                assert msg["content"] is None
            else:
                assert msg["content"], msg
            pid = msg["platformMessageId"]
            assert pid not in seen_ids, f"duplicate platformMessageId {pid}"
            seen_ids.add(pid)
            if "replyToMessageId" in msg:
                assert msg["replyToMessageId"] in by_id, "a reply must follow what it answers"
            by_id[pid] = msg


def test_rendered_json_parses_back(sample: dict) -> None:
    for doc in sample["chats"].values():
        assert json.loads(sc.render_chat(doc)) == doc


# -- what the sample contains -----------------------------------------------------------------


def test_sample_figures(sample: dict) -> None:
    chats = sample["chats"]
    groups = [d for d in chats.values() if d["meta"]["type"] == "group"]
    privates = [d for d in chats.values() if d["meta"]["type"] == "private"]
    assert 4 <= len(groups) <= 5
    assert 2 <= len(privates) <= 3
    assert all(d["meta"]["name"].startswith("小禾优选·") for d in groups)
    ops = _operator_ids(sample)
    members = {m["platformId"] for d in chats.values() for m in d["members"]} - ops
    assert 40 <= len(members) <= 60
    assert 2 <= len(ops) <= 5
    total = sum(len(d["messages"]) for d in chats.values())
    assert 300 <= total <= 600
    assert 24 <= len(sample["orders"]) <= 80


def test_orders_csv(sample: dict) -> None:
    text = sc.render_orders(sample["orders"])
    assert text.splitlines()[0] == "member,order_id,ts,amount,category,coupon_used"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == sample["orders"]
    known = {m["platformId"] for d in sample["chats"].values() for m in d["members"]}
    start = sc.SAMPLE_NOW - timedelta(days=sc.SAMPLE_DAYS)
    assert len({r["order_id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["member"] in known
        ts = datetime.fromisoformat(r["ts"])
        assert r["ts"].endswith("+08:00") and start <= ts <= sc.SAMPLE_NOW
        assert float(r["amount"]) > 0 and r["amount"] == f"{float(r['amount']):.2f}"
        assert r["coupon_used"] in ("0", "1")
        assert r["category"] in sc.ORDER_CATEGORIES


def test_message_kinds_and_traps_are_present(sample: dict) -> None:
    msgs = [m for d in sample["chats"].values() for m in d["messages"]]
    types = {m["type"] for m in msgs}
    assert {0, 1, 5, 7, 24, 80} <= types
    joins = [m["content"] for m in msgs if m["type"] == 80]
    assert any("邀请" in j and j.endswith("加入了群聊") for j in joins)
    assert any("通过扫描" in j and "二维码加入群聊" in j for j in joins)
    assert all(m["content"].startswith("[小程序] 小禾优选") for m in msgs if m["type"] == 24)
    text = "\n".join(m["content"] for m in msgs if m["type"] == 0)
    # negations and questions that a naive keyword matcher would misread
    traps = ("不贵", "没问题", "不满意", "不想买", "有没有优惠")
    assert sum(t in text for t in traps) >= 4, [t for t in traps if t not in text]
    # self-disclosure, buying intent, complaints, praise
    for needle in ("我在", "宝宝", "怎么下单", "还没", "回购"):
        assert needle in text, needle
    assert any("replyToMessageId" in m for m in msgs)


def test_hidden_traits_show_in_the_data(sample: dict, truth: list[dict]) -> None:
    now = int(sc.SAMPLE_NOW.timestamp())
    spoken: dict[str, list[int]] = {}
    joined: set[str] = set()
    for d in sample["chats"].values():
        for m in d["messages"]:
            if m["type"] == 80:
                joined.add(m["sender"])
            else:
                spoken.setdefault(m["sender"], []).append(m["timestamp"])
    archetypes = {t["archetype"] for t in truth}
    assert len(archetypes) >= 6
    by_lifecycle: dict[str, list[dict]] = {}
    for t in truth:
        by_lifecycle.setdefault(t["lifecycle"], []).append(t)
        times = spoken.get(t["platformId"], [])
        if t["activity"] == "silent":
            assert not times, t["name"]
        else:
            assert times, t["name"]
    assert {"new", "mature", "declining", "potential"} <= set(by_lifecycle)
    for t in by_lifecycle["new"]:
        assert t["platformId"] in joined
        assert all(now - ts < 14 * 86400 for ts in spoken.get(t["platformId"], []))
    for t in by_lifecycle["declining"]:
        assert now - max(spoken[t["platformId"]]) > 30 * 86400, t["name"]
    # every archetype has at least one talkative member, so each persona card has evidence
    for code in archetypes:
        assert any(len(spoken.get(t["platformId"], [])) >= 6 for t in truth
                   if t["archetype"] == code), code


def test_evening_is_the_peak(sample: dict) -> None:
    hours = [
        datetime.fromtimestamp(m["timestamp"], sc.CST).hour
        for d in sample["chats"].values()
        for m in d["messages"]
    ]
    evening = sum(19 <= h <= 22 for h in hours)
    small_hours = sum(2 <= h <= 5 for h in hours)
    assert evening > 0.25 * len(hours)
    assert small_hours < 0.05 * len(hours)
    # a 10:00 会员日 post may make a single busy hour; the evening block still dominates
    blocks = {start: sum((h - start) % 24 < 4 for h in hours) for start in range(24)}
    assert max(blocks, key=blocks.__getitem__) in (18, 19, 20)


# -- bulk generation ----------------------------------------------------------------------------


def _check_bulk(msgs: list[dict], n: int, days: int) -> None:
    assert len(msgs) == n
    assert len({m["platformMessageId"] for m in msgs}) == n
    end = int(sc.SAMPLE_NOW.timestamp())
    ts = [m["timestamp"] for m in msgs]
    assert ts == sorted(ts)
    assert end - days * 86400 <= ts[0] and ts[-1] <= end
    for m in msgs:
        assert m["_type"] == "message"
        for key in REQUIRED:
            assert key in m
    texts = [len(m["content"]) for m in msgs if m["type"] == 0]
    assert 15 <= statistics.mean(texts) <= 30
    assert max(texts) > 80
    assert sum(x > 60 for x in texts) > 0.01 * len(texts)


def test_bulk_yields_exactly_n_realistic_messages() -> None:
    msgs = list(sc.iter_bulk_messages(20_000, seed=3, members=500, days=120))
    _check_bulk(msgs, 20_000, 120)
    assert len({m["sender"] for m in msgs}) > 200
    assert {0, 1, 5, 7, 24, 80} <= {m["type"] for m in msgs}
    ids = {m["platformMessageId"] for m in msgs}
    assert all(m["replyToMessageId"] in ids for m in msgs if "replyToMessageId" in m)


@pytest.mark.parametrize("n", [0, 1, 7, 250])
def test_bulk_small_counts_are_exact(n: int) -> None:
    assert len(list(sc.iter_bulk_messages(n, members=50))) == n


def test_bulk_is_deterministic() -> None:
    a = list(sc.iter_bulk_messages(3000, seed=11, members=300))
    assert a == list(sc.iter_bulk_messages(3000, seed=11, members=300))
    assert a != list(sc.iter_bulk_messages(3000, seed=12, members=300))


def test_bulk_is_fast_enough_for_benchmarks() -> None:
    # ~1.5 s on a laptop; the bound only catches an accidental quadratic step
    started = time.perf_counter()
    msgs = list(sc.iter_bulk_messages(100_000))
    elapsed = time.perf_counter() - started
    _check_bulk(msgs, 100_000, 365)
    assert elapsed < 20, f"100k messages took {elapsed:.1f}s"


def test_write_bulk_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "bulk.jsonl"
    assert sc.write_bulk_jsonl(path, 2500, seed=5, members=200) == 2500
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    header, rest = lines[0], lines[1:]
    assert header["_type"] == "header"
    assert header["chatlab"]["version"] == "0.0.2" and header["meta"]["type"] == "group"
    members = [x for x in rest if x["_type"] == "member"]
    messages = [x for x in rest if x["_type"] == "message"]
    assert len(members) == 202  # 200 members + 群主 + 小禾助手
    assert len(messages) == 2500
    # members come before messages, and every sender is declared
    assert [x["_type"] for x in rest] == ["member"] * 202 + ["message"] * 2500
    declared = {m["platformId"] for m in members}
    assert {m["sender"] for m in messages} <= declared
