"""WeChatMsg CSV source: group/private files, old and new headers, broken rows, line numbers."""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sources import SourceError, open_source
from handlers.events import MessageEvent, MessageType, Reject, SourceItem, stable_message_id

DATA = Path(__file__).parent / "data"
ROOM = "20231101888@chatroom"
HEADER = ("localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
          "Remark,NickName,Sender")
T = MessageType


def events(path: Path, tz: ZoneInfo | None = None) -> list[SourceItem]:
    return list(open_source(path, tz=tz) if tz else open_source(path))


def messages(found: list[SourceItem]) -> list[MessageEvent]:
    return [i for i in found if isinstance(i, MessageEvent)]


def line(item: SourceItem) -> int:
    return int(item.origin.rsplit(":", 1)[1])


def write_csv(path: Path, *rows: str, header: str = HEADER, bom: bool = True) -> Path:
    text = "\r\n".join([header, *rows]) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def row(type_: str = "1", sub: str = "0", content: str = "好的", sender: str = "wxid_afang",
        create: str = "1700443800", is_sender: str = "0", talker: str = ROOM) -> str:
    return (f"1,{talker},{type_},{sub},{is_sender},{create},2,{content},"
            f"2023-11-20 09:30:00,,阿芳,{sender}")


# ---- the good group file -------------------------------------------------------------------------

def test_group_file() -> None:
    source = open_source(DATA / "wechatmsg_group.csv")
    assert source.format == "wechatmsg-csv"
    found = list(source)
    assert source.total == len(found) == 15  # multi-line XML rows counted once
    assert all(isinstance(i, MessageEvent) for i in found)
    got = messages(found)
    # Physical start lines: the link row's XML spans lines 6-14, the text row 18-19.
    assert [line(m) for m in got] == [2, 3, 4, 5, 6, 15, 16, 17, 18, 20, 21, 22, 23, 24, 25]
    assert {(m.chat, m.is_group, m.platform) for m in got} == {(ROOM, True, "wechat")}
    assert [m.type for m in got] == [
        T.SYSTEM, T.TEXT, T.TEXT, T.IMAGE, T.LINK, T.MINI_PROGRAM, T.QUOTE, T.FILE, T.TEXT,
        T.RECALL, T.VOICE, T.STICKER, T.LOCATION, T.LINK, T.OTHER]
    assert [m.text for m in got] == [
        '"小王"邀请"小李"加入了群聊',
        "牛奶我要两箱，家里老大老二都爱喝",
        "收到～张姐两箱已登记",
        None,
        "宝宝辅食添加时间表（收藏版）",  # <title> out of the app-message XML
        "小禾优选｜有机纯牛奶 3 人拼团",  # CDATA title
        "纸尿裤侧漏的问题，售后能换吗？",  # the reply text, not the quoted message
        "11月团购清单 & 价目表.xlsx",  # entities unescaped
        "好的\n我晚上下班来拿",
        '"小王" 撤回了一条消息',
        None, None,  # voice, sticker XML
        "上海市杨浦区五角场万达广场",  # location label
        None,  # 49 with an unknown SubType and no content
        "奇怪的新消息类型",
    ]


def test_group_file_senders_names_and_time() -> None:
    got = messages(events(DATA / "wechatmsg_group.csv"))
    system, zhang, me = got[:3]
    # A group notice has no sender: WeChat's own line, never a member (the chatroom was one).
    assert system.sender == "self" and system.sender_name is None and system.is_self
    assert ROOM not in {m.sender for m in got}
    assert (zhang.sender, zhang.sender_name) == ("wxid_zhangli01", "张姐")  # Remark over NickName
    assert (me.sender, me.sender_name, me.is_self) == ("wxid_xiaohe_op", "小禾优选-运营小禾", True)
    assert zhang.ts == datetime(2023, 11, 20, 1, 30, tzinfo=UTC)
    assert all(m.ts.tzinfo is not None for m in got)
    assert zhang.chat_name == "wechatmsg_group"


def test_ids_are_stable_hashes_not_local_ids() -> None:
    first = messages(events(DATA / "wechatmsg_group.csv"))
    again = messages(events(DATA / "wechatmsg_group.csv"))
    assert [m.id for m in first] == [m.id for m in again]
    assert len({m.id for m in first}) == len(first)
    zhang = first[1]
    text = "牛奶我要两箱，家里老大老二都爱喝"
    assert zhang.id == stable_message_id(ROOM, "wxid_zhangli01", zhang.ts, text)
    assert not any(m.id in {str(n) for n in range(101, 116)} for m in first)


# ---- what real exports look like -----------------------------------------------------------

def test_numeric_talker_group_file() -> None:
    """The real exporter writes MSG.TalkerId (a local number); senders make it a group."""
    got = messages(events(DATA / "宝妈群_utf8.csv"))
    chat = "wechatmsg:group:" + hashlib.sha1("宝妈群".encode()).hexdigest()[:12]
    assert {(m.chat, m.chat_name, m.is_group) for m in got} == {(chat, "宝妈群", True)}
    assert [m.sender for m in got] == ["self", "wxid_zhangli01", "wxid_xiaohe_op", "wxid_xiaoli"]
    assert [m.is_self for m in got] == [True, False, True, False]  # the join notice: no one's


def test_numeric_talker_private_file() -> None:
    got = messages(events(DATA / "售后-王女士_utf8.csv"))
    # One contact: the chat is the contact's wxid and is named after them.
    assert {(m.chat, m.chat_name, m.is_group) for m in got} == {("wxid_wangnvshi", "王女士", False)}
    assert [(m.sender, m.is_self) for m in got] == [
        ("wxid_wangnvshi", False), ("wxid_xiaohe_op", True), ("wxid_wangnvshi", False)]


def test_old_header_private_chat_and_local_time() -> None:
    path = DATA / "wechatmsg_private_old.csv"  # 9 columns, no BOM, TalkerId is the wxid
    got = messages(events(path))
    assert {(m.chat, m.is_group) for m in got} == {("wxid_wangnvshi", False)}
    assert [m.sender for m in got] == ["wxid_wangnvshi", "self", "wxid_wangnvshi", "wxid_wangnvshi"]
    assert [m.is_self for m in got] == [False, True, False, False]
    assert [m.sender_name for m in got] == [None] * 4
    # CreateTime 0 / empty: StrTime is local time in the community's zone (Shanghai, UTC+8).
    assert got[2].ts == datetime(2024, 3, 8, 2, 5, tzinfo=UTC)
    assert got[3].ts == datetime(2024, 3, 8, 2, 6, 30, tzinfo=UTC)
    in_utc = messages(events(path, tz=ZoneInfo("UTC")))
    assert in_utc[2].ts - got[2].ts == timedelta(hours=8)
    assert in_utc[0].ts == got[0].ts  # CreateTime is absolute


def test_short_private_rows_under_a_full_header(tmp_path: Path) -> None:
    """Some versions write 12 header columns but 9 values on private-chat rows."""
    path = write_csv(tmp_path / "王女士_utf8.csv",
                     "1,88,1,0,0,1709863200,2,奶粉还没到,2024-03-08 10:00:00",
                     "2,88,1,0,1,1709863260,2,我查一下,2024-03-08 10:01:00")
    got = messages(events(path))
    assert len(got) == 2
    chat = "wechatmsg:private:" + hashlib.sha1("王女士".encode()).hexdigest()[:12]
    assert [(m.chat, m.sender, m.is_self, m.chat_name) for m in got] == [
        (chat, chat, False, "王女士"), (chat, "self", True, "王女士")]


# ---- broken rows ---------------------------------------------------------------------------------

def test_broken_file_rejects_with_start_lines() -> None:
    source = open_source(DATA / "wechatmsg_broken.csv")
    found = list(source)
    assert source.total == len(found) == 11
    got = {line(i): i.reason for i in found if isinstance(i, Reject)}
    assert got == {
        6: "列数不对：应为 12 或 9 列，实际 8 列",
        7: "Type 不是数字: 'abc'",
        8: "CreateTime 不是数字: '昨天'",
        9: "CreateTime 为空且 StrTime 无法解析: '不知道'",
        11: "缺少 Type",  # a row spanning lines 11-12 is reported where it starts
        15: "列数不对：应为 12 或 9 列，实际 13 列",
        16: "CreateTime 超出范围（晚于 2100 年，像是毫秒）: '1700443920000'",
    }
    good = messages(found)
    assert [line(m) for m in good] == [2, 3, 10, 14]
    assert good[1].text == "到了到了\n今天下午\n自提点取"
    assert good[2].ts == datetime(2023, 11, 20, 1, 33, tzinfo=UTC)  # StrTime in Shanghai


@pytest.mark.parametrize(("type_", "sub", "kind"), [
    ("1", "0", T.TEXT), ("3", "0", T.IMAGE), ("34", "0", T.VOICE), ("43", "0", T.VIDEO),
    ("47", "0", T.STICKER), ("49", "5", T.LINK), ("49", "6", T.FILE),
    ("49", "33", T.MINI_PROGRAM), ("49", "36", T.MINI_PROGRAM), ("49", "57", T.QUOTE),
    ("49", "19", T.FORWARD), ("49", "2000", T.TRANSFER), ("49", "2001", T.RED_PACKET),
    ("49", "8", T.LINK), ("49", "", T.LINK), ("50", "0", T.CALL), ("10000", "0", T.SYSTEM),
    ("10002", "0", T.RECALL), ("42", "0", T.CONTACT_CARD), ("48", "0", T.LOCATION),
    ("9999", "0", T.OTHER), (" 1 ", "0", T.TEXT),
])
def test_type_mapping(tmp_path: Path, type_: str, sub: str, kind: MessageType) -> None:
    (event,) = events(write_csv(tmp_path / "t.csv", row(type_, sub)))
    assert isinstance(event, MessageEvent) and event.type == kind


@pytest.mark.parametrize(("content", "type_", "sub", "text"), [
    ("纯文字的链接标题", "49", "5", "纯文字的链接标题"),  # no XML: StrContent as is
    ('"<msg><appmsg><des>没有标题</des></appmsg></msg>"', "49", "5", None),
    ('"<msg><appmsg><title>  </title></appmsg></msg>"', "49", "33", None),
    ('"<msg><img md5=""x""/></msg>"', "3", "0", None),
    ('"<voipmsg type=""VoIPBubbleMsg""/>"', "50", "0", None),
    ('"<sysmsg type=""revokemsg""><revokemsg><![CDATA[你撤回了一条消息]]></revokemsg></sysmsg>"',
     "10002", "0", "你撤回了一条消息"),
    ("<weird/>", "9999", "0", None),
])
def test_text_extraction(tmp_path: Path, content: str, type_: str, sub: str,
                         text: str | None) -> None:
    (event,) = events(write_csv(tmp_path / "t.csv", row(type_, sub, content=content)))
    assert isinstance(event, MessageEvent) and event.text == text


def test_header_problems(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", "1,2,3", header="localId,TalkerId,Type,CreateTime")
    with pytest.raises(SourceError) as exc:
        open_source(path, "wechatmsg-csv")
    assert str(exc.value).startswith(f"{path}:1: 表头缺少列 StrContent（WeChatMsg CSV 表头应为")
    assert "\n" not in str(exc.value)


def test_header_only_and_plain_utf8(tmp_path: Path) -> None:
    empty = write_csv(tmp_path / "empty.csv", bom=False)
    source = open_source(empty)
    assert source.total == 0 and list(source) == []
    plain = write_csv(tmp_path / "plain.csv", row(), bom=False)
    assert len(messages(events(plain))) == 1


def test_columns_found_by_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", "订单群,1,0,1700443800,wxid_b,在吗@chatroom,阿宝",
                     header="StrContent,Type,IsSender,CreateTime,Sender,TalkerId,NickName")
    (event,) = events(path)
    assert isinstance(event, MessageEvent)
    assert (event.chat, event.sender, event.sender_name, event.text, event.is_group) == (
        "在吗@chatroom", "wxid_b", "阿宝", "订单群", True)


def test_csv_error_is_one_reject_and_reading_goes_on(tmp_path: Path) -> None:
    rows = [row(content=f"第{i}条", create=str(1700443800 + i)) for i in range(2000)]
    too_big = row(content="长" * 5000)
    path = write_csv(tmp_path / "t.csv", *rows, too_big, row(content="最后一条"))
    limit = csv.field_size_limit(1000)  # stands in for any error the csv module raises
    try:
        found = events(path)
    finally:
        csv.field_size_limit(limit)
    bad = [i for i in found if isinstance(i, Reject)]
    assert [(line(b), b.reason) for b in bad] == [
        (2002, "CSV 格式错误（field larger than field limit (1000)）")]
    got = messages(found)
    assert len(got) == 2001 and got[-1].text == "最后一条"


def test_nul_byte_beyond_the_head_is_kept_as_text(tmp_path: Path) -> None:
    rows = [row(content=f"第{i}条", create=str(1700443800 + i)) for i in range(2000)]
    path = write_csv(tmp_path / "t.csv", *rows, row(content="坏\x00字节"))
    got = messages(events(path))
    assert len(got) == 2001 and got[-1].text == "坏\x00字节"


def test_huge_field_does_not_stop_the_file(tmp_path: Path) -> None:
    xml = ('"<msg><appmsg><title>超长的小程序卡片</title><des>' + "长" * 200_000
           + '</des></appmsg></msg>"')
    path = write_csv(tmp_path / "t.csv", row("49", "33", content=xml), row())
    got = messages(events(path))
    assert [m.text for m in got] == ["超长的小程序卡片", "好的"]


def test_an_imported_group_has_no_chatroom_member(tmp_path: Path) -> None:
    """End to end: `siyu ingest` of a group export with a join notice and a recall notice
    lists people only, never `20231101888@chatroom`."""
    import json

    from cli_helpers import siyu

    siyu("ingest", str(DATA / "wechatmsg_group.csv"), str(DATA / "宝妈群_utf8.csv"), cwd=tmp_path)
    members = json.loads(siyu("personas", "--json", cwd=tmp_path).stdout)["members"]
    ids = {m["member_id"] for m in members}
    assert ids and not any(i.endswith("@chatroom") or i.startswith("wechatmsg:group:")
                           for i in ids), ids
