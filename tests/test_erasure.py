"""Erasure that is complete and sticks (issue 16, items 8–11).

One small community, generated here, where one member stands out: 小李Lily (wxid_lily_hz) is
the only one in 杭州, the only one who talks about 蓝莓果泥, and the only one with a 199 元
order (ORD-LILY-0001). Nobody else mentions her, so "the community without her" is simply the
same files without her lines: what `siyu forget` leaves must be exactly that.
"""

from __future__ import annotations

import csv
import glob
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import siyu
from sqlalchemy import event
from sqlalchemy.engine import Engine

AS_OF = "2026-11-20T20:00:00+08:00"
HER = "wxid_lily_hz"
HER_NAME = "小李Lily"
HER_ORDER = "ORD-LILY-0001"
HER_WORD = "蓝莓果泥"
HER_CITY = "杭州"
T0 = 1_794_099_600  # 2026-11-08 09:00 +08:00, seconds

# (platform id, name, lines) — everyone else lives in 上海 and never names her.
OTHERS = [
    ("wxid_a1", "朵朵妈", ["我在上海，我家宝宝8个月了", "有没有优惠？有的话我再下单",
                          "奶粉还有货吗"]),
    ("wxid_a2", "小雨", ["上海这边什么时候发货？", "上次买的纸尿裤很好用"]),
    ("wxid_a3", "小雨", ["周末带娃去公园", "这个辅食机多少钱？"]),
    ("wxid_a4", "Lily", ["在上海上班，每天通勤一个小时", "跳绳很好用，已经回购了"]),
    ("wxid_a5", "老周", ["快递还没到", "客服回复太慢了"]),
    ("wxid_a6", "米粒妈", ["我家宝宝两岁了，在上海", "有没有优惠券？"]),
]
HER_LINES = [f"我在{HER_CITY}，我家宝宝8个月了", f"{HER_WORD}有没有优惠？",
             f"{HER_WORD}还有货吗？想给宝宝囤一点", f"上次买的{HER_WORD}宝宝很爱吃"]
ORDERS = [("wxid_a1", "ORD-A1-1", "88.00", "母婴用品"),
          ("wxid_a1", "ORD-A1-2", "120.00", "母婴用品"),
          ("wxid_a2", "ORD-A2-1", "35.50", "食品生鲜"),
          ("wxid_a5", "ORD-A5-1", "59.00", "食品生鲜")]


def write_community(folder: Path, *, with_her: bool = True) -> tuple[Path, Path]:
    """The group export and the orders file, with or without 小李Lily."""
    people = OTHERS + ([(HER, HER_NAME, HER_LINES)] if with_her else [])
    messages = []
    n = 0
    for pid, name, lines in people:
        for line in lines:
            n += 1
            messages.append({"sender": pid, "accountName": name, "timestamp": T0 + n * 3600,
                             "type": 0, "content": line, "platformMessageId": f"m{pid}-{n}"})
    messages.sort(key=lambda m: m["timestamp"])
    doc = {"chatlab": {"version": "0.0.2", "exportedAt": T0 + 10**6},
           "meta": {"name": "小禾优选·宝妈群", "platform": "wechat", "type": "group",
                    "groupId": "erasure@chatroom"},
           "members": [{"platformId": pid, "accountName": name} for pid, name, _ in people],
           "messages": messages}
    chat = folder / "group.json"
    chat.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    orders = folder / "orders.csv"
    with orders.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["member", "order_id", "ts", "amount", "category", "coupon_used"])
        rows = ORDERS + ([(HER, HER_ORDER, "199.00", "母婴用品")] if with_her else [])
        for i, (member, oid, amount, category) in enumerate(rows):
            out.writerow([member, oid, f"2026-11-{10 + i:02d}T20:00:00+08:00", amount,
                          category, 0])
    return chat, orders


def build(folder: Path, *, with_her: bool = True) -> Path:
    folder.mkdir(exist_ok=True)
    chat, orders = write_community(folder, with_her=with_her)
    siyu("ingest", str(chat), cwd=folder)
    siyu("import-orders", str(orders), cwd=folder)
    siyu("segment", "--as-of", AS_OF, cwd=folder)
    return folder / "siyu.db"


def dump(db: Path, sql: str) -> str:
    con = sqlite3.connect(db)
    try:
        return json.dumps(con.execute(sql).fetchall(), ensure_ascii=False)
    finally:
        con.close()


# ---- item 8: stored runs ----------------------------------------------------------------------
def test_after_forget_the_report_is_the_report_of_the_community_without_her(
        tmp_path: Path) -> None:
    db = build(tmp_path / "with")
    report = siyu("report", "--as-of", AS_OF, cwd=db.parent).stdout
    assert HER_WORD in report and "果泥" in report  # her words in a card: the test sees them
    siyu("forget", HER, "--yes", cwd=db.parent)
    after = siyu("report", "--as-of", AS_OF, cwd=db.parent).stdout
    without = build(tmp_path / "without", with_her=False)
    assert after == siyu("report", "--as-of", AS_OF, cwd=without.parent).stdout
    for needle in (HER_NAME, HER, HER_CITY, HER_WORD, "果泥", "蓝莓", "199"):
        assert needle not in after
    stored = dump(db, "SELECT result FROM segment_run")
    for needle in (HER_NAME, HER, HER_CITY, HER_WORD, "果泥", "蓝莓", HER_ORDER):
        assert needle not in stored
    runs = siyu("report", "--json", "--as-of", AS_OF, cwd=db.parent).stdout
    assert json.loads(runs)["counts"] == json.loads(siyu(
        "report", "--json", "--as-of", AS_OF, cwd=without.parent).stdout)["counts"]
    # one row per remaining member, none for her pk
    assert dump(db, "SELECT count(*) FROM member_segment") == dump(
        without, "SELECT count(*) FROM member_segment")


# ---- item 9: the files ------------------------------------------------------------------------
@pytest.fixture()
def upstream_sqlite() -> Iterator[None]:
    """SQLite as upstream builds it: secure_delete off (Debian's build turns it on, which
    would hide what an erasure leaves behind elsewhere)."""

    def off(dbapi: object, _record: object) -> None:
        if isinstance(dbapi, sqlite3.Connection):
            dbapi.execute("PRAGMA secure_delete=OFF")

    event.listen(Engine, "connect", off)
    try:
        yield
    finally:
        event.remove(Engine, "connect", off)


def scan(db: Path, needles: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in (db, Path(f"{db}-wal")):
        data = path.read_bytes() if path.exists() else b""
        found[path.name] = [n for n in needles if n.encode() in data]
    return found


def test_forgotten_bytes_leave_the_database_and_the_wal(tmp_path: Path,
                                                        upstream_sqlite: None) -> None:
    from bot.cli import main

    chat, orders = write_community(tmp_path)
    db = tmp_path / "siyu.db"
    url = f"sqlite:///{db}"
    assert main(["--db", url, "ingest", str(chat)]) == 0
    assert main(["--db", url, "import-orders", str(orders)]) == 0
    assert main(["--db", url, "segment", "--as-of", AS_OF]) == 0
    # a running bot's connection: open, having read, between its reads
    reader = sqlite3.connect(db)
    try:
        assert reader.execute("SELECT count(*) FROM member").fetchone()[0] == 7
        needles = [HER_NAME, HER, HER_CITY, HER_ORDER]
        before = scan(db, needles)  # in the database, or still only in its WAL
        assert sorted({*before["siyu.db"], *before["siyu.db-wal"]}) == sorted(needles)
        assert main(["--db", url, "forget", HER, "--yes"]) == 0
        assert scan(db, needles) == {"siyu.db": [], "siyu.db-wal": []}
        assert reader.execute("SELECT count(*) FROM member").fetchone()[0] == 6
    finally:
        reader.close()


# ---- item 10: exact match, confirmation, plain words ------------------------------------------
def test_forget_names_one_member_exactly_and_asks_first(tmp_path: Path) -> None:
    chat, _ = write_community(tmp_path)
    siyu("ingest", str(chat), cwd=tmp_path)
    db = tmp_path / "siyu.db"
    members = dump(db, "SELECT member_id FROM member ORDER BY id")

    for query in ("lily", "小李", "LILY", "wxid_lily", ""):
        proc = siyu("forget", query, "--yes", cwd=tmp_path, check=False)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, (query, proc.stderr)
    ambiguous = siyu("forget", "小雨", "--yes", cwd=tmp_path, check=False)
    assert ambiguous.returncode == 1
    assert "wxid_a2" in ambiguous.stderr and "wxid_a3" in ambiguous.stderr
    # no --yes and nobody at a terminal to ask: refused in one line
    unasked = siyu("forget", HER_NAME, cwd=tmp_path, check=False, stdin="y\n")
    assert unasked.returncode == 1 and unasked.stderr.count("\n") == 1
    assert "--yes" in unasked.stderr
    assert dump(db, "SELECT member_id FROM member ORDER BY id") == members

    out = siyu("forget", "Lily", "--yes", cwd=tmp_path).stdout  # the exact name: her, not 小李Lily
    assert "wxid_a4" in out and HER not in out
    out = siyu("forget", HER_NAME, "--yes", cwd=tmp_path).stdout
    assert out.startswith(f"已删除 {HER_NAME}（{HER}）的全部数据：消息 4 条")
    tables = {n for (n,) in json.loads(dump(
        db, "SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert not [t for t in tables if t in out], out  # no internal table names


# ---- item 11: erasure sticks ------------------------------------------------------------------
def test_a_forgotten_member_stays_out_of_later_imports(tmp_path: Path) -> None:
    chat, orders = write_community(tmp_path)
    siyu("ingest", str(chat), cwd=tmp_path)
    siyu("forget", HER, "--yes", cwd=tmp_path)
    db = tmp_path / "siyu.db"
    again = siyu("ingest", str(chat), cwd=tmp_path)
    assert "新成员 0 人" in again.stdout and "已退出成员消息 4 条" in again.stdout
    assert again.stderr == ""  # counted, not reported line by line
    assert dump(db, f"SELECT count(*) FROM member WHERE member_id = '{HER}'") == "[[0]]"
    assert dump(db, "SELECT count(*) FROM message") == "[[13]]"
    orders_out = siyu("import-orders", str(orders), cwd=tmp_path, check=False)
    assert HER_ORDER not in dump(db, "SELECT order_id FROM orders")
    assert orders_out.returncode in (0, 1)
    # what is kept: hashes under this database's key, nothing readable
    hashes = json.loads(dump(db, "SELECT hash FROM suppression"))
    assert len(hashes) == 1 and len(hashes[0][0]) == 64
    assert int(hashes[0][0], 16) >= 0
    everything = b"".join(Path(p).read_bytes() for p in glob.glob(f"{db}*"))
    assert HER.encode() not in everything and HER_NAME.encode() not in everything


def test_after_delete_in_chat_the_bot_ignores_her_until_she_opts_back_in(
        tmp_path: Path) -> None:
    from test_bot import CONFIG, rows, run_console

    config = CONFIG + 'consent_notice = "欢迎！发送 /退出 可停止。"\n'
    out, db = run_console(tmp_path, "\n".join([
        "小李: 我在杭州，我家宝宝8个月了",
        "私聊 小李: /删除",
        "小李: 这条不该被记录，蓝莓果泥有没有优惠？",
        ":入群 小李 小禾助手",
    ]) + "\n", config=config)
    reply = out[out.index("已删除关于你的全部数据"):]
    assert "不会再记录" in reply and "/恢复" in reply and "仍会被记录" not in reply
    after = reply.split("\n", 1)[1]
    assert "[私聊→小李]" not in after and "[私聊→运营小美]" not in after, after
    assert rows(db, "SELECT count(*) FROM message") == [(0,)]
    assert rows(db, "SELECT count(*) FROM member") == [(0,)]
    # /退出 now creates nobody; /恢复 lets her back in
    out, db = run_console(tmp_path, "私聊 小李: /退出\n私聊 小李: /恢复\n小李: 我又回来了\n",
                          config=config)
    assert "已经删除" in out and "重新记录" in out
    assert rows(db, "SELECT text FROM message") == [("我又回来了",)]
    assert rows(db, "SELECT count(*) FROM suppression") == [(0,)]


def test_delete_in_chat_answers_first_and_recomputes_her_runs_in_the_background(
        tmp_path: Path) -> None:
    """/删除 must not hold every group for a segmentation per stored run: her rows go at
    once and the reply says the runs are being recomputed; by the time the bot has stopped
    they are, and no stored document keeps her words."""
    from test_bot import CONFIG, rows, run_console

    lines = [f"小李: {line}" for line in HER_LINES]
    lines += [f"{name}: {text}" for _, name, texts in OTHERS[:3] for text in texts]
    lines += ["私聊 王经理: /分群"]
    # /分群 answers at once and segments in the background: the bot stops when it is stored.
    out, db = run_console(tmp_path, "\n".join(lines) + "\n", config=CONFIG)
    assert "分群摘要（第 1 次" in out
    out, db = run_console(tmp_path, "私聊 小李: /删除\n朵朵妈: 奶粉到了，谢谢\n", config=CONFIG)
    reply = out[out.index("已删除关于你的全部数据"):].split("\n", 1)[0]
    assert "1 份历史分群统计正在后台重新计算" in reply, reply
    assert rows(db, "SELECT count(*) FROM member WHERE name = '小李'") == [(0,)]
    # the group went on: the message after /删除 is stored
    assert rows(db, "SELECT count(*) FROM message WHERE text = '奶粉到了，谢谢'") == [(1,)]
    (doc,) = rows(db, "SELECT result FROM segment_run")
    assert HER_WORD not in str(doc[0]) and HER_CITY not in str(doc[0])
    everything = b"".join(Path(p).read_bytes() for p in glob.glob(f"{db}*"))
    assert HER_WORD.encode() not in everything


def test_at_a_terminal_forget_asks_and_only_yes_erases(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    chat, _ = write_community(tmp_path)
    siyu("ingest", str(chat), cwd=tmp_path)
    db = tmp_path / "siyu.db"

    def answer(text: str) -> subprocess.CompletedProcess[str]:
        master, slave = pty.openpty()
        try:
            os.write(master, text.encode())
            env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
            env.pop("SIYU_DB", None)
            return subprocess.run([sys.executable, "-m", "bot.cli", "forget", HER], cwd=tmp_path,
                                  env=env, stdin=slave, capture_output=True, text=True,
                                  timeout=120, check=False)
        finally:
            os.close(master)
            os.close(slave)

    no = answer("n\n")
    assert no.returncode == 1 and "确定吗？[y/N]" in no.stdout and "已取消" in no.stdout
    assert dump(db, f"SELECT count(*) FROM member WHERE member_id = '{HER}'") == "[[1]]"
    yes = answer("y\n")
    assert yes.returncode == 0 and f"已删除 {HER_NAME}" in yes.stdout
    assert dump(db, f"SELECT count(*) FROM member WHERE member_id = '{HER}'") == "[[0]]"
