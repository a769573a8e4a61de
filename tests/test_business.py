"""Business data: orders, content events and id links, from CSV through storage to personas.

Real SQLite files under tmp_path; members come from a real `Store.write_batch`, as after
`siyu ingest`. The last tests run `python -m bot.cli` as a user would.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import siyu

from bot.sources.business import (
    EVENT_FIELDS,
    ORDER_FIELDS,
    MapError,
    open_events,
    open_links,
    open_orders,
    parse_map,
)
from bot.sources.business_fields import parse_amount, parse_time
from bot.sources.common import BadItem, SourceError
from handlers.business import ImportReport, finish, import_events, import_links, import_orders
from handlers.personas import build_personas
from handlers.rows import normalize_phone
from handlers.settings import Settings
from persona.aggregate import build_persona
from persona.commerce import ContentEventRecord, OrderRecord, content_event_id, order_stats
from persona.persona import Persona, PersonaSettings, Tag
from storage.batches import Batch, NewMessage
from storage.business import BusinessStore
from storage.db import open_database
from storage.repo import Store

SH = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()
LABELS = {"price": "价格敏感", "video": "视频"}
T0 = datetime(2026, 11, 1, 20, 0, tzinfo=SH)
AS_OF = datetime(2026, 11, 20, 20, 0, tzinfo=SH)
HEADER = "member,order_id,ts,amount,category,coupon_used\n"


# ---- fixtures --------------------------------------------------------------------------------
def make_store(tmp_path: Path, people: dict[str, str] | None = None) -> Store:
    """A database with members who have each said one thing, as after `siyu ingest`."""
    store = Store(open_database(f"sqlite:///{tmp_path / 'siyu.db'}"))
    people = people or {"wxid_a": "朵朵妈", "wxid_b": "老周", "wxid_c": "小透明"}
    batch = Batch(chats={"g1@chatroom": ("宝妈群", True, "wechat")})
    for i, (pid, name) in enumerate(people.items()):
        batch.people["wechat", pid] = name
        batch.messages.append(NewMessage(
            id=f"m-{pid}", chat_id="g1@chatroom", platform="wechat", sender=pid,
            ts=T0 + timedelta(minutes=i), type="text", text="你好", signals={},
            origin="chat.json:1"))
    store.write_batch(batch)
    finish(store, SETTINGS, LABELS)
    return store


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def pk(store: Store, member_id: str) -> int:
    (row,) = store.find_members(member_id)
    return row.pk


def reasons(report: ImportReport) -> dict[str, str]:
    """Reject reasons by line number."""
    return {r.origin.rsplit(":", 1)[1]: r.reason for r in report.rejects}


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    out = {t: sorted(map(tuple, con.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables}
    con.close()
    return out


# ---- orders: every rejection with its physical line ------------------------------------------
@pytest.mark.parametrize("batch_size", [2000, 3])
def test_every_order_rejection_names_line_and_field(tmp_path: Path, batch_size: int) -> None:
    """Also in batches of 3: repeats and conflicts are caught across transactions too."""
    store = make_store(tmp_path)
    settings = Settings(batch_size=batch_size)
    csv_file = write(tmp_path / "orders.csv", HEADER + "\n".join([
        "wxid_a,O1,2026-11-02T20:00:00+08:00,199.00,母婴用品,1",          # 2 ok
        "C0042,O2,2026-11-02T20:00:00+08:00,99,母婴用品,0",                 # 3 unknown member
        "wxid_a,O3,2026-11-02T20:00:00+08:00,-5,母婴用品,0",                # 4 negative
        "wxid_a,O4,2026-11-02T20:00:00+08:00,2000000,数码,0",               # 5 absurd
        "wxid_b,O5,2026-11-02T20:00:00+08:00,0,赠品,0",                     # 6 zero: allowed
        "wxid_a,O6,2026-13-45 25:00,10,食品,0",                             # 7 bad date
        "wxid_b,O1,2026-11-03T20:00:00+08:00,50,食品,0",                    # 8 dup id in file
        'wxid_b,O7,2026-11-03T20:00:00+08:00,50,"两行的',                   # 9-10 one row
        '类目",1',
        "wxid_b,O8,2026-11-03T20:00:00+08:00,50,食品,maybe",                # 11 bad coupon
        "",                                                                 # 12 blank
        "wxid_b,O9,2026-11-03T20:00:00+08:00,¥1,299.00,数码,0",             # 13 unquoted comma
        'wxid_b,O10,2026-11-03T20:00:00+08:00,"¥1,299.00",数码,否',         # 14 ok
        ",O11,2026-11-03T20:00:00+08:00,10,食品,0",                         # 15 no member
        "wxid_b,1.23457E+17,2026-11-03T20:00:00+08:00,10,食品,0",           # 16 Excel id
        "wxid_b,O12,,10,食品,0",                                            # 17 empty ts
        "wxid_b,O13,2026-11-03,abc,食品,0",                                 # 18 not money
    ]) + "\n")
    report = import_orders(store, open_orders(csv_file, tz=SH), settings, file="orders.csv")
    got = reasons(report)
    assert set(got) == {"3", "4", "5", "7", "8", "11", "13", "15", "16", "17", "18"}
    assert "member 'C0042'" in got["3"] and "siyu link" in got["3"] and "重新导入" in got["3"]
    assert got["4"].startswith("amount 为负数")
    assert got["5"].startswith("amount 超过 1,000,000 元")
    assert got["7"].startswith("ts 无法解析")
    assert "order_id 'O1' 与第 2 行重复（内容不同）" in got["8"]
    assert got["11"].startswith("coupon_used 无法识别")
    assert "列数比表头多" in got["13"] and "引号" in got["13"]
    assert got["15"] == "member 为空"
    assert "科学计数法" in got["16"]
    assert got["17"] == "ts 为空"
    assert got["18"].startswith("amount 不是金额")
    # Rejects come back in file order, and the rest is imported.
    assert [r.origin for r in report.rejects] == sorted(
        (r.origin for r in report.rejects), key=lambda o: int(o.rsplit(":", 1)[1]))
    assert report.new == 4 and report.duplicate == 0
    orders = BusinessStore.of(store).stored_orders(["O1", "O5", "O7", "O10"])
    assert orders["O7"].category == "两行的\n类目" and orders["O7"].origin.endswith(":9")
    assert orders["O10"].amount == 1299.0 and orders["O10"].coupon_used is False
    assert orders["O5"].amount == 0.0
    assert orders["O1"].ts == datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_same_order_id_with_other_content_than_stored_is_rejected(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    first = write(tmp_path / "a.csv", HEADER + "wxid_a,O1,2026-11-02T20:00:00+08:00,199,母婴,0\n")
    import_orders(store, open_orders(first), SETTINGS, file="a.csv")
    second = write(tmp_path / "b.csv", HEADER + "\n".join([
        "wxid_a,O1,2026-11-02T20:00:00+08:00,199.00,母婴,0",   # 2 same content: duplicate
        "wxid_a,O1,2026-11-02T20:00:00+08:00,188,母婴,1",      # 3 same id again in this file
    ]) + "\n")
    report = import_orders(store, open_orders(second), SETTINGS, file="b.csv")
    assert report.duplicate == 1 and report.new == 0
    assert "与第 2 行重复（内容不同）" in reasons(report)["3"]

    third = write(tmp_path / "c.csv", HEADER + "wxid_b,O1,2026-11-02T21:00:00+08:00,188,母婴,1\n")
    report = import_orders(store, open_orders(third), SETTINGS, file="c.csv")
    reason = reasons(report)["2"]
    assert "order_id 'O1' 已导入过" in reason and "a.csv:2" in reason
    assert "amount 199.00 → 188.00" in reason and "coupon_used 否 → 是" in reason
    assert "member 朵朵妈(wxid_a) → 老周(wxid_b)" in reason
    assert "ts 2026-11-02T20:00:00+08:00 → 2026-11-02T21:00:00+08:00" in reason
    assert BusinessStore.of(store).stored_orders(["O1"])["O1"].amount == 199.0


def test_missing_required_column_is_a_whole_file_error(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", "member,order_id,ts,category\nwxid_a,O1,1762000000,x\n")
    with pytest.raises(SourceError) as exc:
        open_orders(path)
    assert str(exc.value).startswith(f"{path}:1: 缺少必需列 amount")
    assert "--map 列名=amount" in str(exc.value)
    with pytest.raises(SourceError, match="文件为空"):
        open_orders(write(tmp_path / "empty.csv", "\n\n"))


def test_one_gbk_row_in_a_utf8_orders_file_is_one_reject_naming_line_and_column(
        tmp_path: Path) -> None:
    """Issue 16 item 4 for orders: a row pasted in from a GBK tool used to refuse the file."""
    store = make_store(tmp_path)
    path = tmp_path / "o.csv"
    path.write_bytes(HEADER.encode() + "wxid_a,O1,1762000000,199,母婴用品,0\n".encode()
                     + b"wxid_b,O2,1762000100,76.8," + "食品生鲜".encode("gbk")
                     + b",0\n" + "wxid_b,O3,1762000200,39,食品生鲜,1\n".encode())
    report = import_orders(store, open_orders(path), SETTINGS)
    assert report.new == 2
    assert [str(r) for r in report.rejects] == [
        f"{path}:3: 列「category」不是 UTF-8 编码（看起来是 GBK 编码，"
        "请用 UTF-8 重新导出或另存为 UTF-8）"]
    assert sorted(BusinessStore.of(store).stored_orders(["O1", "O2", "O3"])) == ["O1", "O3"]
    # A header that is not UTF-8 cannot be matched to fields: the file, in one line.
    bad_header = tmp_path / "h.csv"
    bad_header.write_bytes("会员".encode("gbk") + b",order_id,ts,amount\n"
                           + "wxid_a,O9,1762000000,1,母婴用品\n".encode())
    with pytest.raises(SourceError, match=r"h.csv:1: 表头不是 UTF-8 编码"):
        open_orders(bad_header)


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    path = write(tmp_path / "o.csv", "order_id,member,amount,ts\nO1,wxid_a,10,1762000000\n")
    report = import_orders(store, open_orders(path), SETTINGS)
    assert report.new == 1 and not report.rejects
    order = BusinessStore.of(store).stored_orders(["O1"])["O1"]
    assert order.category is None and order.coupon_used is False


# ---- --map ---------------------------------------------------------------------------------
def test_map_with_chinese_columns(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    header = "\ufeff客户ID,订单号,下单时间,实付金额,商品类目,是否用券,备注\n"
    path = write(tmp_path / "导出.csv", header + "\n".join([
        "wxid_a,X1,2026/11/02 20:00:00,\"¥1,299.00\",数码配件,是,",   # naive → Shanghai
        "wxid_b,X2,1762084800,76.80元,食品生鲜,否,老客",               # Unix seconds
        "wxid_b,X3,2026年11月3日 8:05,39,食品生鲜,,",                  # loose Chinese time
        "wxid_b,X4,昨天,39,食品生鲜,0,",                               # 5 bad time
    ]) + "\n")
    mapping = parse_map(["客户ID=member", "订单号=order_id，下单时间=ts 实付金额=amount",
                         "商品类目=category,是否用券=coupon_used"], ORDER_FIELDS)
    assert mapping["下单时间"] == "ts" and len(mapping) == 6
    source = open_orders(path, mapping, tz=SH)
    assert source.columns["ts"] == "下单时间"
    report = import_orders(store, source, SETTINGS)
    assert report.new == 3
    assert reasons(report)["5"].startswith("ts（列「下单时间」） 无法解析为时间: '昨天'")
    got = BusinessStore.of(store).stored_orders(["X1", "X2", "X3"])
    assert got["X1"].ts == datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    assert got["X1"].amount == 1299.0 and got["X1"].coupon_used is True
    assert got["X2"].ts == datetime.fromtimestamp(1762084800, UTC) and got["X2"].amount == 76.8
    assert got["X3"].ts == datetime(2026, 11, 3, 8, 5, tzinfo=SH)


def test_map_errors() -> None:
    with pytest.raises(MapError, match="未知字段 'price'"):
        parse_map(["实付金额=price"], ORDER_FIELDS)
    with pytest.raises(MapError, match="应写成 列名=字段"):
        parse_map(["实付金额"], ORDER_FIELDS)
    with pytest.raises(MapError, match="字段 ts 被两列映射"):
        parse_map(["下单时间=ts", "支付时间=ts"], ORDER_FIELDS)


def test_map_naming_a_missing_column_fails_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "o.csv", HEADER + "wxid_a,O1,1762000000,1,x,0\n")
    with pytest.raises(SourceError, match="--map 指定的列「商品类目」不在表头中"):
        open_orders(path, {"商品类目": "category"})


def test_field_parsers() -> None:
    assert parse_amount("¥1,299.00", "amount") == 1299.0
    assert parse_amount("RMB 59", "amount") == 59.0
    assert parse_amount("0.005", "amount") == 0.01  # rounded half up to fen
    assert parse_amount("1000000", "amount") == 1_000_000.0
    for bad in ("NaN", "1000000.01", "-0.5", "12元5角"):
        with pytest.raises(BadItem):
            parse_amount(bad, "amount")
    assert parse_time("20261102", "ts", SH) == datetime(2026, 11, 2, tzinfo=SH)
    assert parse_time("2026-11-02T12:00:00Z", "ts", SH) == datetime(2026, 11, 2, 12, tzinfo=UTC)
    with pytest.raises(BadItem, match="毫秒"):
        parse_time("1762084800000", "ts", SH)
    with pytest.raises(BadItem, match="年份不合理"):
        parse_time("86400", "ts", SH)
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("008613800138000") == "13800138000"
    assert normalize_phone("1.38001E+10") is None


# ---- idempotency ------------------------------------------------------------------------------
def test_import_twice_leaves_identical_database(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    orders = write(tmp_path / "o.csv", HEADER + "\n".join([
        "wxid_a,O1,2026-11-02T20:00:00+08:00,199,母婴用品,1",
        "wxid_b,O2,2026-11-05T20:00:00+08:00,59,运动健身,0",
        "nobody,O3,2026-11-05T20:00:00+08:00,59,运动健身,0",
    ]) + "\n")
    events = write(tmp_path / "e.csv", "member,ts,content_type,action,duration\n"
                   "wxid_a,2026-11-03T21:00:00+08:00,视频,浏览,120\n"
                   "wxid_a,2026-11-03T21:00:00+08:00,视频,浏览,120\n")
    first_orders = import_orders(store, open_orders(orders), SETTINGS)
    first_events = import_events(store, open_events(events), SETTINGS)
    assert finish(store, SETTINGS, LABELS) == 2
    assert (first_orders.new, first_events.new, first_events.duplicate) == (2, 1, 1)
    before = dump(tmp_path / "siyu.db")
    again = import_orders(store, open_orders(orders), SETTINGS)
    again_events = import_events(store, open_events(events), SETTINGS)
    assert finish(store, SETTINGS, LABELS) == 0
    assert (again.new, again.duplicate, len(again.rejects)) == (0, 2, 1)
    assert (again_events.new, again_events.duplicate) == (0, 2)
    assert dump(tmp_path / "siyu.db") == before


# ---- links ------------------------------------------------------------------------------------
def test_link_then_reimport_picks_up_rejected_orders(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    orders = write(tmp_path / "o.csv", HEADER + "\n".join([
        "wxid_a,O1,2026-11-02T20:00:00+08:00,199,母婴用品,1",
        "C001,O2,2026-11-05T20:00:00+08:00,59,母婴用品,0",
        "138 0013 8000,O3,2026-11-06T20:00:00+08:00,30,食品,0",
    ]) + "\n")
    report = import_orders(store, open_orders(orders), SETTINGS)
    assert report.new == 1 and set(reasons(report)) == {"3", "4"}

    links = write(tmp_path / "links.csv", "external_id,phone,member\n"
                  "C001,,wxid_a\n"
                  ",+86 138-0013-8000,朵朵妈\n")
    linked = import_links(store, open_links(links), SETTINGS)
    assert (linked.new, linked.rejects) == (2, [])
    assert {(row.kind, row.value) for row in BusinessStore.of(store).links()} == {
        ("external_id", "C001"), ("phone", "13800138000")}

    report = import_orders(store, open_orders(orders), SETTINGS)
    assert (report.new, report.duplicate, report.rejects) == (2, 1, [])
    by_member = BusinessStore.of(store).orders_for([pk(store, "wxid_a")])
    assert [o.order_id for o in by_member[pk(store, "wxid_a")]] == ["O1", "O2", "O3"]
    # Linking again is a no-op.
    assert import_links(store, open_links(links), SETTINGS).duplicate == 2


def test_link_conflicts_and_bad_rows(tmp_path: Path) -> None:
    store = make_store(tmp_path, {"wxid_a": "朵朵妈", "wxid_b": "老周", "wxid_c": "老周"})
    first = write(tmp_path / "l1.csv", "external_id,member\nC001,wxid_a\n")
    import_links(store, open_links(first), SETTINGS, file="l1.csv")
    links = write(tmp_path / "l2.csv", "客户编号,手机,member\n" + "\n".join([
        "C001,,wxid_b",            # 2 stored link points elsewhere
        "C002,,wxid_a",            # 3 ok
        "C002,,wxid_b",            # 4 same id to another member in this file
        "C002,,wxid_a",            # 5 repeat of line 3: duplicate
        "C003,,老周",               # 6 name of two members
        "C004,,无此人",             # 7 unknown
        ",12ab,wxid_a",            # 8 not a phone
        ",,wxid_a",                # 9 nothing to link
        "C001,,wxid_a",            # 10 same as stored: duplicate
    ]) + "\n")
    report = import_links(store, open_links(links, {"客户编号": "external_id", "手机": "phone"}),
                          SETTINGS, file="l2.csv")
    got = reasons(report)
    assert set(got) == {"2", "4", "6", "7", "8", "9"}
    assert "external_id 'C001' 已关联到 朵朵妈(wxid_a)" in got["2"] and "不会覆盖" in got["2"]
    assert "l1.csv:2" in got["2"] and "老周(wxid_b)" in got["2"]
    assert "在第 3 行已关联到 朵朵妈(wxid_a)" in got["4"] and "冲突" in got["4"]
    assert "对应 2 位成员" in got["6"]
    assert "找不到对应成员" in got["7"]
    assert got["8"].startswith("phone（列「手机」） 不是有效的电话号码")
    assert "为空" in got["9"]
    assert (report.new, report.duplicate) == (1, 2)
    stored = {row.value: row.member_pk for row in BusinessStore.of(store).links()}
    assert stored == {"C001": pk(store, "wxid_a"), "C002": pk(store, "wxid_a")}


def test_link_file_needs_an_id_column(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="缺少列 external_id 或 phone"):
        open_links(write(tmp_path / "l.csv", "member,备注\nwxid_a,x\n"))


# ---- events -----------------------------------------------------------------------------------
def test_events_import_with_aliases_and_rejections(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    path = write(tmp_path / "e.csv", "用户,时间,类型,行为,时长\n" + "\n".join([
        "wxid_a,2026-11-10 21:00,文章,分享,",        # 2
        "wxid_a,2026-11-11 21:00,直播,评论,3600",    # 3
        "wxid_a,2026-11-12 21:00,video,view,45.5",  # 4
        "wxid_a,2026-11-12 21:00,播客,浏览,1",       # 5 unknown type
        "wxid_a,2026-11-12 21:00,视频,点赞,1",       # 6 unknown action
        "wxid_a,2026-11-12 21:00,视频,浏览,-3",      # 7 negative duration
        "wxid_a,2026-11-12 21:00,视频,浏览,900000",  # 8 absurd duration
        "C9,2026-11-12 21:00,视频,浏览,1",           # 9 unknown member
        "wxid_a,no-time,视频,浏览,1",                # 10 bad date
    ]) + "\n")
    mapping = parse_map(["用户=member,时间=ts,类型=content_type,行为=action,时长=duration"],
                        EVENT_FIELDS)
    report = import_events(store, open_events(path, mapping, tz=SH), SETTINGS)
    got = reasons(report)
    assert set(got) == {"5", "6", "7", "8", "9", "10"}
    assert got["5"].startswith("content_type（列「类型」） 无法识别")
    assert got["6"].startswith("action（列「行为」） 无法识别")
    assert got["7"].startswith("duration（列「时长」） 为负数")
    assert "超过 24 小时" in got["8"]
    assert "siyu link" in got["9"]
    assert got["10"].startswith("ts（列「时间」） 无法解析")
    assert report.new == 3
    events = BusinessStore.of(store).events_for()[pk(store, "wxid_a")]
    assert [(e.content_type, e.action, e.duration) for e in events] == [
        ("article", "share", None), ("live", "comment", 3600.0), ("video", "view", 45.5)]
    # The persona's evidence is the stored key of the event, recomputed from what was read back.
    con = sqlite3.connect(tmp_path / "siyu.db")
    live_id = con.execute("SELECT event_id FROM content_event WHERE content_type='live'"
                          ).fetchone()[0]
    con.close()
    (view,) = build_personas(store, SETTINGS, LABELS, AS_OF, [pk(store, "wxid_a")])
    assert tags_of(view.persona)["live"].evidence == [live_id]


def test_content_event_id_is_stable_and_field_sensitive() -> None:
    ev = ContentEventRecord(datetime(2026, 11, 1, 12, tzinfo=UTC), "video", "view", 30.0)
    same = ContentEventRecord(datetime(2026, 11, 1, 20, tzinfo=SH), "video", "view", 30)
    assert content_event_id(ev) == content_event_id(same)
    assert content_event_id(ev).startswith("ev-") and len(content_event_id(ev)) == 15
    other = ContentEventRecord(ev.ts, "video", "view", 31.0)
    assert content_event_id(other) != content_event_id(ev)


# ---- into personas (pure) ---------------------------------------------------------------------
PS = PersonaSettings(tz=SH)


def order(oid: str, days_ago: float, amount: float = 100.0, category: str | None = "母婴用品",
          coupon: bool = False) -> OrderRecord:
    return OrderRecord(oid, AS_OF - timedelta(days=days_ago), amount, category, coupon)


def tags_of(persona: Persona) -> dict[str, Tag]:
    return {t.code: t for t in persona.tags}


def test_persona_stats_from_orders() -> None:
    p = build_persona("m", "n", [], AS_OF, PS, LABELS, orders=[
        order("a", 40, 100.0), order("b", 5, 50.5), order("c", 1, 0.1), order("d", 0.2, 0.2),
        order("future", -1, 999.0)])
    assert p.stats["orders"] == 4
    assert p.stats["monetary"] == 150.8  # fen-exact: 0.1 + 0.2 is no float noise here
    assert p.stats["aov"] == 37.7
    # a buyer is growth by the rule every run uses; only "high" (relative to the other
    # buyers) is the segmentation run's job
    assert p.segments["value"] == "growth"
    empty = build_persona("m", "n", [], AS_OF, PS, LABELS)
    assert (empty.stats["orders"], empty.stats["monetary"], empty.stats["aov"]) == (0, 0.0, 0.0)
    assert order_stats([]) == {"orders": 0, "monetary": 0.0, "aov": 0.0}


def test_bought_category_tag_and_its_expiry_boundary() -> None:
    edge = timedelta(days=30)
    inside = OrderRecord("in", AS_OF - edge + timedelta(seconds=1), 10.0, "母婴用品")
    outside = OrderRecord("out", AS_OF - edge, 10.0, "数码配件")
    older = order("old", 12, category="母婴用品")
    p = build_persona("m", "n", [], AS_OF, PS, LABELS, orders=[outside, inside, older])
    tags = tags_of(p)
    assert "bought:数码配件" not in tags  # exactly 30 days ago: expired at this very moment
    tag = tags["bought:母婴用品"]
    assert tag.kind == "value" and tag.label == "近30天购买 母婴用品"
    assert tag.evidence == ["old", "in"]
    # Expires 30 days after the *last* order of that category.
    assert tag.expires_at == older.ts + edge
    only_edge = build_persona("m", "n", [], AS_OF, PS, LABELS, orders=[inside])
    assert tags_of(only_edge)["bought:母婴用品"].expires_at == AS_OF + timedelta(seconds=1)
    # No category, no tag; and a past as-of sees the tag again.
    assert not any(c.startswith("bought:") for c in tags_of(build_persona(
        "m", "n", [], AS_OF, PS, LABELS, orders=[order("x", 1, category=None)])))
    past = build_persona("m", "n", [], AS_OF - timedelta(days=2), PS, LABELS, orders=[outside])
    assert "bought:数码配件" in tags_of(past)


def test_coupon_use_adds_decayed_price_motivation_with_order_evidence() -> None:
    plain = build_persona("m", "n", [], AS_OF, PS, LABELS, orders=[order("p1", 1), order("p2", 2)])
    assert "price" not in tags_of(plain)
    fresh = build_persona("m", "n", [], AS_OF, PS, LABELS,
                          orders=[order("c1", 1, coupon=True), order("c2", 3, coupon=True)])
    price = tags_of(fresh)["price"]
    assert price.kind == "motivation" and price.evidence == ["c1", "c2"]
    assert fresh.segments["motivation"] == "price"
    stale = build_persona("m", "n", [], AS_OF, PS, LABELS,
                          orders=[order("c1", 91, coupon=True), order("c2", 93, coupon=True)])
    assert tags_of(stale)["price"].score < price.score


def test_content_preference_from_events() -> None:
    def ev(days: float, ctype: str, action: str, duration: float | None = None
           ) -> ContentEventRecord:
        return ContentEventRecord(AS_OF - timedelta(days=days), ctype, action, duration)

    events = [ev(1, "live", "comment"), ev(2, "live", "share"), ev(1, "article", "view", 120),
              ev(1, "video", "view", 3), ev(-1, "article", "share")]
    p = build_persona("m", "n", [], AS_OF, PS, LABELS, events=events)
    tags = tags_of(p)
    assert tags["live"].label == "直播" and tags["live"].kind == "content"
    assert tags["article"].label == "图文"
    assert tags["live"].evidence == [content_event_id(events[0]), content_event_id(events[1])]
    # Taking part says more than looking; a 3-second view is a bounce and below the floor.
    assert tags["live"].score > tags["article"].score
    assert "video" not in tags
    assert tags["article"].evidence == [content_event_id(events[2])]


# ---- into personas (through storage) ----------------------------------------------------------
def test_import_marks_stale_and_refresh_stores_commerce_tags(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    # Orders later than the last chat message: stored tags are judged as of the newest fact.
    path = write(tmp_path / "o.csv", HEADER + "\n".join([
        "wxid_b,O1,2026-11-25T20:00:00+08:00,120,运动健身,1",
        "wxid_b,O2,2026-11-26T20:00:00+08:00,80,运动健身,1",
    ]) + "\n")
    import_orders(store, open_orders(path), SETTINGS)
    assert store.stale_members() == [pk(store, "wxid_b")]
    report = import_orders(store, open_orders(path), SETTINGS)
    assert finish(store, SETTINGS, LABELS, report) == 1 and report.personas_updated == 1
    assert store.stale_members() == []
    stored = store.tags_for([pk(store, "wxid_b")], source="derived")[pk(store, "wxid_b")]
    codes = {t.code: t for t in stored}
    assert codes["bought:运动健身"].evidence == ["O2", "O1"]
    assert codes["bought:运动健身"].expires_at == datetime(2026, 12, 26, 20, tzinfo=SH)
    assert codes["price"].evidence == ["O2", "O1"]

    (view,) = build_personas(store, SETTINGS, LABELS, AS_OF.replace(day=27),
                             [pk(store, "wxid_b")])
    assert (view.persona.stats["orders"], view.persona.stats["monetary"],
            view.persona.stats["aov"]) == (2, 200.0, 100.0)
    (before,) = build_personas(store, SETTINGS, LABELS, AS_OF, [pk(store, "wxid_b")])
    assert before.persona.stats["orders"] == 0  # orders after --as-of do not count


def test_opted_out_members_rows_are_dropped(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    con = sqlite3.connect(tmp_path / "siyu.db")
    con.execute("UPDATE member SET opted_out = 1 WHERE member_id = 'wxid_c'")
    con.commit()
    con.close()
    path = write(tmp_path / "o.csv", HEADER + "wxid_c,O1,2026-11-02T20:00:00+08:00,10,x,0\n")
    report = import_orders(store, open_orders(path), SETTINGS)
    assert (report.new, report.opted_out) == (0, 1)
    assert BusinessStore.of(store).counts()["orders"] == 0


# ---- the CLI, as a user runs it ---------------------------------------------------------------


def chat_export(path: Path) -> Path:
    def ts(day: int, hour: int) -> int:
        return int(datetime(2026, 11, day, hour, tzinfo=SH).timestamp())

    doc = {
        "chatlab": {"version": "0.0.2", "exportedAt": ts(20, 20)},
        "meta": {"name": "宝妈群", "platform": "wechat", "type": "group",
                 "groupId": "1001@chatroom"},
        "members": [{"platformId": "wxid_duoduo", "accountName": "朵朵妈"},
                    {"platformId": "wxid_laozhou", "accountName": "健身的老周"}],
        "messages": [
            {"sender": "wxid_duoduo", "accountName": "朵朵妈", "timestamp": ts(2, 21),
             "type": 0, "content": "宝宝的米粉有没有优惠？", "platformMessageId": "pm-1"},
            {"sender": "wxid_laozhou", "accountName": "健身的老周", "timestamp": ts(4, 7),
             "type": 0, "content": "今天晨跑5公里打卡", "platformMessageId": "pm-2"},
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_cli_end_to_end(tmp_path: Path) -> None:
    siyu("ingest", str(chat_export(tmp_path / "chat.json")), cwd=tmp_path)
    orders = write(tmp_path / "orders.csv", "客户ID,订单号,下单时间,实付金额,商品类目,是否用券\n"
                   "wxid_duoduo,X1,2026-11-10 20:00:00,\"¥1,299.00\",母婴用品,是\n"
                   "C001,X2,2026-11-12 20:00:00,99,母婴用品,否\n"
                   "wxid_laozhou,X3,2026-11-12 07:00:00,-1,运动健身,否\n")
    mapping = ["--map", "客户ID=member,订单号=order_id", "--map", "下单时间=ts",
               "--map", "实付金额=amount", "--map", "商品类目=category 是否用券=coupon_used"]
    proc = siyu("import-orders", str(orders), *mapping, cwd=tmp_path)
    assert "新增 1 笔订单，重复 0 笔，拒绝 2 行" in proc.stdout and "更新画像 1 人" in proc.stdout
    errs = proc.stderr.strip().splitlines()
    assert errs[0].startswith(f"跳过 {orders}:3: member 'C001' 找不到对应成员")
    assert errs[1].startswith(f"跳过 {orders}:4: amount（列「实付金额」） 为负数")

    links = write(tmp_path / "links.csv", "external_id,member\nC001,朵朵妈\n")
    assert "新增 1 条关联" in siyu("link", str(links), cwd=tmp_path).stdout
    doc = json.loads(siyu("import-orders", str(orders), *mapping, "--json", cwd=tmp_path).stdout)
    assert (doc["new"], doc["duplicate"], len(doc["rejected"])) == (1, 1, 1)
    assert doc["rejected"][0]["origin"] == f"{orders}:4"

    events = write(tmp_path / "events.csv", "member,ts,content_type,action,duration\n"
                   "wxid_duoduo,2026-11-11T21:00:00+08:00,直播,评论,\n"
                   "wxid_duoduo,2026-11-12T21:00:00+08:00,直播,分享,\n")
    out = siyu("import-events", str(events), cwd=tmp_path).stdout
    assert "新增 2 条内容互动，重复 0 条，拒绝 0 行" in out

    persona = json.loads(siyu("persona", "朵朵妈", "--json", "--as-of", "2026-11-20",
                              cwd=tmp_path).stdout)
    assert persona["stats"]["orders"] == 2 and persona["stats"]["monetary"] == 1398.0
    assert persona["stats"]["aov"] == 699.0
    tags = {t["code"]: t for t in persona["tags"]}
    assert tags["bought:母婴用品"]["evidence"] == ["X2", "X1"]
    assert tags["bought:母婴用品"]["expires_at"] == "2026-12-12T20:00:00+08:00"
    assert "X1" in tags["price"]["evidence"] and tags["live"]["label"] == "直播"
    text = siyu("persona", "朵朵妈", "--as-of", "2026-11-20", cwd=tmp_path).stdout
    assert "客单价 ¥699.00" in text and "近30天购买 母婴用品" in text and "订单 X2、X1" in text

    before = dump(tmp_path / "siyu.db")
    again = siyu("import-orders", str(orders), *mapping, cwd=tmp_path).stdout
    assert "新增 0 笔订单，重复 2 笔，拒绝 1 行" in again
    assert dump(tmp_path / "siyu.db") == before


def test_cli_whole_file_errors_exit_non_zero(tmp_path: Path) -> None:
    siyu("ingest", str(chat_export(tmp_path / "chat.json")), cwd=tmp_path)
    bad = write(tmp_path / "orders.csv", "member,order_id,ts\nwxid_duoduo,X1,1762000000\n")
    proc = siyu("import-orders", str(bad), cwd=tmp_path, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"错误: {bad}:1: 缺少必需列 amount"
        "（表头：member、order_id、ts；可用 --map 列名=amount 指定）"]
    proc = siyu("import-orders", str(bad), "--map", "金额=price", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "未知字段 'price'" in proc.stderr
    proc = siyu("--db", f"sqlite:///{tmp_path / 'none.db'}", "import-events",
                str(write(tmp_path / "e.csv", "member,ts,content_type,action\n")),
                cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "数据库不存在" in proc.stderr


def test_demo_imports_the_sample_orders(tmp_path: Path) -> None:
    out = siyu("demo", cwd=tmp_path).stdout
    assert "导入订单 53 笔（重复 0，拒绝 0 行）" in out
    assert "客单价" in out
    con = sqlite3.connect(tmp_path / "siyu-demo.db")
    assert con.execute('SELECT count(*) FROM "orders"').fetchone()[0] == 53
    con.close()


@pytest.mark.parametrize(("encoding", "sep", "read_as"), [
    ("gbk", ",", "GBK"), ("utf-16", "\t", "UTF-16，制表符分隔"), ("utf-8", "\t", "制表符分隔")])
def test_excel_gbk_csv_and_unicode_text_are_read(tmp_path: Path, encoding: str, sep: str,
                                                 read_as: str) -> None:
    """Excel on a Chinese Windows saves "CSV" in GBK and "Unicode 文本" as UTF-16 with tabs:
    both were refused with a hint to re-save, the first thing a new operator's own orders
    file met. Now read as they are, rows, rejects and line numbers as in UTF-8."""
    store = make_store(tmp_path)
    text = (HEADER + "wxid_a,O1,1762000000,199,母婴用品,0\n"
            + "wxid_b,O2,昨天,76.8,食品生鲜,0\n" + "wxid_b,O3,1762000200,39,食品生鲜,是\n")
    path = tmp_path / "o.csv"
    path.write_bytes(text.replace(",", sep).encode(encoding))
    source = open_orders(path)
    assert source.read_as == read_as and source.lines == 4
    report = import_orders(store, source, SETTINGS)
    assert report.new == 2
    assert [str(r).split(": ")[0] for r in report.rejects] == [f"{path}:3"]
    stored = BusinessStore.of(store).stored_orders(["O1", "O3"])
    assert stored["O1"].category == "母婴用品" and stored["O3"].coupon_used
    assert open_orders(write(tmp_path / "u.csv", text)).read_as is None


def test_a_gbk_orders_file_says_how_it_was_read(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.engine.dispose()
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "wxid_a,O1,1762000000,1,食品生鲜,0\n").encode("gbk"))
    done = siyu("--db", f"sqlite:///{tmp_path / 'siyu.db'}", "import-orders", str(path),
                cwd=tmp_path, check=False)
    assert f"{path}：按 GBK 读取" in done.stderr


def test_a_cut_or_corrupt_utf16_file_costs_its_bad_row_only(tmp_path: Path) -> None:
    """The UTF-16 codec refuses surrogateescape for bytes below 0x80: a copy cut in the last
    character, or a lone surrogate in a row, crashed the whole read. Now one reject."""
    store = make_store(tmp_path)
    text = (HEADER + "wxid_a,O1,1762000000,199,母婴用品,0\n"
            + "wxid_b,O2,1762000100,76.8,食品生鲜,0\n" + "wxid_b,O3,1762000200,39,食品生鲜,1\n")
    data = text.replace(",", "\t").encode("utf-16")
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[:-1])
    report = import_orders(store, open_orders(cut), SETTINGS)
    assert report.new == 2
    assert [str(r) for r in report.rejects] == [
        f"{cut}:4: 列「coupon_used」含无法按 UTF-16 解码的字节（文件损坏或复制不完整？）"]
    second_row = len((HEADER + "wxid_a,O1,1762000000,199,母婴用品,0\n").encode("utf-16"))
    lone = tmp_path / "lone.csv"
    lone.write_bytes(data[:second_row + 4] + b"\x00\xd8" + data[second_row + 4:])
    report = import_orders(store, open_orders(lone), SETTINGS)
    assert [str(r).split(": ")[0] for r in report.rejects] == [f"{lone}:3"]
    assert (report.new, report.duplicate) == (1, 1)  # O3 (its row was cut before), O1


def test_a_gbk_file_with_one_broken_line_loses_that_line_only(tmp_path: Path) -> None:
    """A GBK file with one line that is not GBK either was read as UTF-8: every Chinese row
    rejected for its encoding."""
    store = make_store(tmp_path)
    path = tmp_path / "g.csv"
    path.write_bytes((HEADER + "wxid_a,O1,1762000000,199,母婴用品,0\n").encode("gbk")
                     + b"wxid_b,O2,1762000100,76.8,\x81\x20,0\n"
                     + "wxid_c,O3,1762000200,7,食品生鲜,0\n".encode("gbk"))
    source = open_orders(path)
    assert source.read_as == "GBK"
    report = import_orders(store, source, SETTINGS)
    assert report.new == 2
    assert [str(r) for r in report.rejects] == [
        f"{path}:3: 列「category」含无法按 GBK 解码的字节（文件损坏或复制不完整？）"]


def test_a_shop_backend_export_imports_without_a_map(tmp_path: Path) -> None:
    """An operator's first orders file is the back-end's export as it is: 订单号, 下单时间,
    实付金额 … The usual names are recognised (the most specific first: 实付金额 over
    订单金额), each column for one field, and the CLI lists what it matched."""
    store = make_store(tmp_path)
    store.engine.dispose()
    path = write(tmp_path / "有赞订单.csv",
                 "订单号,下单时间,收货人,买家,订单金额,实付金额,商品类目,是否用券\n"
                 "YZ1,2026-11-02 20:00,张三,wxid_a,120,99.5,母婴用品,是\n")
    source = open_orders(path)
    assert source.columns == {"order_id": "订单号", "ts": "下单时间", "member": "买家",
                              "amount": "实付金额", "category": "商品类目",
                              "coupon_used": "是否用券"}
    done = siyu("--db", f"sqlite:///{tmp_path / 'siyu.db'}", "import-orders", str(path),
                cwd=tmp_path)
    assert ("按列名识别：买家=member，订单号=order_id，下单时间=ts，实付金额=amount，"
            "商品类目=category，是否用券=coupon_used（不对请用 --map 列名=字段 指定）"
            in done.stderr)
    assert "新增 1" in done.stdout
    # a --map and a column named like its field are no guesses
    mapped = siyu("--db", f"sqlite:///{tmp_path / 'siyu.db'}", "import-orders", str(path),
                  "--map", "订单金额=amount", cwd=tmp_path)
    assert "订单金额=amount" not in mapped.stderr and "实付金额" not in mapped.stderr
    links = open_links(write(tmp_path / "l.csv", "手机号,客户ID,会员\n13800000000,C1,wxid_a\n"))
    assert links.columns == {"external_id": "客户ID", "phone": "手机号", "member": "会员"}
