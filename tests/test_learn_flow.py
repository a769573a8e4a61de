"""Learning interest words through the real commands: an import learns them, personas use
them, the operator sees and overrides them (`siyu interests`, `[learned]` in siyu.toml), a
past --as-of never sees words learned from its future, and forgetting a member leaves no
quote of hers behind."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cli_helpers import siyu

SH = ZoneInfo("Asia/Shanghai")
DAY1 = datetime(2026, 6, 1, 10, 0, tzinfo=SH)
AS_OF = "2026-06-20T12:00:00+08:00"


def header() -> dict[str, object]:
    return {"_type": "header", "chatlab": {"version": "0.0.2", "exportedAt": 1782824400},
            "meta": {"name": "测试群", "platform": "wechat", "type": "group",
                     "groupId": "learn@chatroom"}}


def line(n: int, who: str, text: str, day: int = 0) -> dict[str, object]:
    ts = int(DAY1.timestamp()) + day * 86400 + n * 60
    return {"_type": "message", "sender": who, "accountName": who, "timestamp": ts, "type": 0,
            "content": text, "platformMessageId": f"p{n}"}


def write_community(folder: Path, late_reader_day: int = 0) -> Path:
    """Readers who once name 小说 and otherwise talk of 译本; travellers who once name 酒店
    and otherwise of 管家 (a hotel's butler: no taxonomy word; 前台 became one in round 6);
    phone people; a newcomer who only ever says 译本; and people who only say 房间 (their
    orders say what they bought). Everyone says the same filler."""
    rows = [header()]
    n = 0

    def say(who: str, text: str, day: int = 0) -> None:
        nonlocal n
        n += 1
        rows.append(line(n, who, text, day))

    for i in range(6):
        say(f"reader{i}", "最近在看一本小说")
        say(f"reader{i}", "这个译本读起来很流畅")
        say(f"traveller{i}", "周末去住了酒店")
        say(f"traveller{i}", "管家小哥很热情")
        say(f"phone{i}", "我的手机到了")
        say(f"phone{i}", "刷机挺顺利")
        say(f"guest{i}", "房间打扫得很干净")
        for who in (f"reader{i}", f"traveller{i}", f"phone{i}", f"guest{i}"):
            say(who, "今天下雨了")
    for k in range(4):
        say("newcomer", f"译本第{k + 1}章的注释很用心", day=late_reader_day)
    path = folder / "chat.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def write_orders(folder: Path) -> Path:
    path = folder / "orders.csv"
    rows = ["member,order_id,ts,amount,category,coupon_used"]
    rows += [f"guest{i},G{i},2026-06-02T10:00:00+08:00,299.00,酒店住宿,0" for i in range(6)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def learned(cwd: Path, *extra: str) -> dict[str, dict[str, object]]:
    doc = json.loads(siyu("interests", "--json", *extra, cwd=cwd).stdout)
    return {w["word"]: w for w in doc["words"]}


def interests(cwd: Path, who: str, as_of: str = AS_OF) -> dict[str, dict[str, object]]:
    p = json.loads(siyu("persona", who, "--json", "--as-of", as_of, cwd=cwd).stdout)
    return {t["code"]: t for t in p["tags"] if t["kind"] == "interest"}


def test_an_import_learns_words_and_personas_use_them(tmp_path: Path) -> None:
    siyu("ingest", str(write_community(tmp_path)), cwd=tmp_path)
    words = learned(tmp_path)
    assert words["译本"]["interest"] == "reading"
    assert words["译本"]["source"] == "company"
    assert "小说" in words["译本"]["basis"]
    assert words["管家"]["interest"] == "travel"
    assert all(w not in words for w in ("今天", "下雨", "房间"))
    assert words["译本"]["quotes"] and "译本" in words["译本"]["quotes"][0]["text"]
    # the newcomer names no hand keyword, yet reads as a reader, her own words the evidence
    mine = interests(tmp_path, "newcomer")
    assert list(mine) == ["reading"]
    assert len(mine["reading"]["evidence"]) == 4
    # the orders teach what the guests' 房间 is about
    siyu("import-orders", str(write_orders(tmp_path)), cwd=tmp_path)
    words = learned(tmp_path)
    assert words["房间"]["interest"] == "travel"
    assert words["房间"]["source"] == "bought"
    assert words["房间"]["basis"] == ["酒店住宿"]
    assert "travel" in interests(tmp_path, "guest0")
    text = siyu("interests", cwd=tmp_path).stdout
    assert "从社群学到的兴趣词" in text and "买「酒店住宿」的成员常说" in text


def test_segmentation_sees_the_same_interests_as_the_personas(tmp_path: Path) -> None:
    siyu("ingest", str(write_community(tmp_path)), cwd=tmp_path)
    siyu("import-orders", str(write_orders(tmp_path)), cwd=tmp_path)
    from handlers.personas import build_personas
    from handlers.segments import gather_columns
    from handlers.settings import Settings
    from persona.segment_params import SegmentParams
    from persona.tabulate import tabulate
    from storage.db import open_database
    from storage.repo import Store

    settings = Settings(db=f"sqlite:///{tmp_path / 'siyu.db'}")
    store = Store(open_database(settings.db))
    as_of = datetime.fromisoformat(AS_OF)
    labels = {"reading": "阅读", "travel": "旅行", "digital": "数码"}
    views = {v.member.pk: v.persona for v in build_personas(store, settings, labels, as_of)}
    pks, cols = gather_columns(store, settings, labels, as_of)
    table = tabulate(cols, as_of, SegmentParams(), settings.half_life_days)
    for row, pk in enumerate(pks.tolist()):
        want = {t.code: round(t.score, 4) for t in views[pk].tags if t.kind == "interest"}
        got = {code: round(float(table.interests[row, j]), 4)
               for j, code in enumerate(table.interest_codes) if table.interests[row, j] > 0}
        assert got == want, views[pk].name
    assert "reading" in {t.code for t in views[next(
        pk for pk, p in views.items() if p.name == "newcomer")].tags}


def test_rejected_and_pinned_words_are_respected_by_the_next_learning(tmp_path: Path) -> None:
    siyu("ingest", str(write_community(tmp_path)), cwd=tmp_path)
    assert "reading" in interests(tmp_path, "newcomer")
    (tmp_path / "siyu.toml").write_text(
        '[learned]\nreject = ["译本"]\npin = { "刷机" = "games" }\n', encoding="utf-8")
    siyu("interests", "--relearn", cwd=tmp_path)
    words = learned(tmp_path)
    assert "译本" not in words
    assert words["刷机"]["interest"] == "games" and words["刷机"]["source"] == "pinned"
    assert "reading" not in interests(tmp_path, "newcomer")  # her tags were rebuilt
    assert "games" in interests(tmp_path, "phone0")
    doc = json.loads(siyu("interests", "--json", cwd=tmp_path).stdout)
    assert doc["rejected"] == ["译本"] and doc["pinned"] == {"刷机": "games"}
    (tmp_path / "siyu.toml").write_text('[learned]\nreject = "译本"\n', encoding="utf-8")
    bad = siyu("interests", "--relearn", cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "[learned] reject" in bad.stderr


def test_a_past_as_of_never_sees_words_learned_from_its_future(tmp_path: Path) -> None:
    # the newcomer's 译本 is what tips it: before her messages (day 10), 译本 is said by
    # the six readers alone and is learned; the stored set, learned as of day 10, is not
    # what a reader of day 5 may use, so day 5 learns afresh from day 5's data
    siyu("ingest", str(write_community(tmp_path, late_reader_day=10)), cwd=tmp_path)
    assert "reading" in interests(tmp_path, "newcomer")
    (tmp_path / "siyu.toml").write_text("[learned]\nmin_messages = 8\n", encoding="utf-8")
    siyu("interests", "--relearn", cwd=tmp_path)
    assert "译本" in learned(tmp_path)  # 6 readers + 4 of hers = 10 messages
    early = "2026-06-05T12:00:00+08:00"
    reader = interests(tmp_path, "reader0", early)
    assert "reading" in reader and len(reader["reading"]["evidence"]) == 1  # 小说 only


def test_forgetting_a_member_leaves_no_quote_of_hers(tmp_path: Path) -> None:
    siyu("ingest", str(write_community(tmp_path)), cwd=tmp_path)
    db = sqlite3.connect(tmp_path / "siyu.db")
    hers = {r[0] for r in db.execute(
        "SELECT m.id FROM message m JOIN member b ON b.id = m.member_pk "
        "WHERE b.name = 'reader5'")}
    db.close()
    assert hers & {q["id"] for q in learned(tmp_path)["译本"]["quotes"]}
    siyu("forget", "reader5", "--yes", cwd=tmp_path)
    words = learned(tmp_path)
    assert not hers & {q["id"] for w in words.values() for q in w["quotes"]}
    assert words["译本"]["members"] == 6  # five readers and the newcomer
