"""ChatLab JSON / JSONL sources: good, broken and mixed files, ids, line numbers."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sources import SourceError, open_source
from handlers.events import (
    MemberInfo,
    MessageEvent,
    MessageType,
    Reject,
    SourceItem,
    stable_message_id,
)

DATA = Path(__file__).parent / "data"
GROUP = "20231101888@chatroom"


def items(name: str | Path) -> list[SourceItem]:
    path = name if isinstance(name, Path) else DATA / name
    return list(open_source(path))


def messages(found: list[SourceItem]) -> list[MessageEvent]:
    return [i for i in found if isinstance(i, MessageEvent)]


def rejects(found: list[SourceItem]) -> dict[str, str]:
    """origin → reason, keyed by the part after the file name (":12" or ":messages[3]")."""
    return {i.origin.rsplit(".json", 1)[1].lstrip("l"): i.reason
            for i in found if isinstance(i, Reject)}


def write_jsonl(path: Path, *rows: object, newline: str = "\n") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_bytes(newline.join(lines).encode("utf-8") + newline.encode())
    return path


HEADER = {"_type": "header", "chatlab": {"version": "0.0.2", "exportedAt": 1700600000},
          "meta": {"name": "宝妈团购群", "platform": "wechat", "type": "group", "groupId": GROUP}}


def msg(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"_type": "message", "sender": "wxid_zhangli01",
                               "accountName": "张丽", "timestamp": 1700443800, "type": 0,
                               "content": "团购的牛奶什么时候到？"}
    base.update(fields)
    return base


# ---- good JSON -----------------------------------------------------------------------------------

def test_group_json_members() -> None:
    found = items("chatlab_group.json")
    members = [i for i in found if isinstance(i, MemberInfo)]
    assert [(m.platform_id, m.name, m.aliases) for m in members] == [
        ("wxid_xiaohe_op", "小禾优选-运营小禾", ()),
        ("wxid_zhangli01", "张姐-二宝妈", ("张丽", "丽丽")),  # group nickname wins; blanks dropped
        ("wxid_xiaowang", "小王", ()),
        ("wxid_xiaoli", "小李", ("小李Lily",)),
    ]
    assert {(m.chat, m.platform) for m in members} == {(GROUP, "wechat")}
    # Each member's origin is the line where its object starts.
    assert [m.origin.rsplit(":", 1)[1] for m in members] == ["16", "21", "27", "31"]


def test_group_json_messages() -> None:
    found = messages(items("chatlab_group.json"))
    assert [m.origin.rsplit(":", 1)[1] for m in found] == [
        "38", "46", "55", "63", "72", "80", "88", "98", "107", "115"]
    assert [m.type for m in found] == [
        MessageType.TEXT, MessageType.TEXT, MessageType.SYSTEM, MessageType.IMAGE,
        MessageType.MINI_PROGRAM,  # 24 mentioning 小程序
        MessageType.LINK,  # 24 music share
        MessageType.QUOTE, MessageType.OTHER,  # 22 poke
        MessageType.OTHER,  # 42: unknown number, kept as other
        MessageType.TEXT]
    assert {(m.chat, m.chat_name, m.is_group, m.platform) for m in found} == {
        (GROUP, "小禾优选·宝妈团购群（杨浦）", True, "wechat")}
    first, second, system, image = found[:4]
    assert first.id == "8821000000000000001"
    assert first.sender == "wxid_xiaohe_op" and first.is_self  # meta.ownerId is the exporter
    assert not any(m.is_self for m in found if m.sender != "wxid_xiaohe_op")
    assert second.sender_name == "张姐-二宝妈"  # groupNickname over accountName
    assert second.text == "我要两箱，家里老大老二都爱喝"
    assert second.ts == datetime(2023, 11, 20, 1, 32, tzinfo=UTC)
    assert system.text == '"小王"邀请"小李"加入了群聊'
    assert image.text is None
    assert all(m.ts.tzinfo is not None for m in found)


def test_group_json_timestamps_and_ids_of_odd_shapes() -> None:
    found = messages(items("chatlab_group.json"))
    quote, poke, last = found[6], found[7], found[9]
    assert quote.ts == datetime(2023, 11, 20, 12, 15, tzinfo=UTC)  # "1700482500" as a string
    assert quote.raw is not None and quote.raw["replyToMessageId"] == "8821000000000000001"
    assert poke.ts == datetime(2023, 11, 20, 12, 16, 0, 500000, tzinfo=UTC)  # float seconds
    assert poke.id == "8821000000000000008"  # numeric platformMessageId → str
    # No platformMessageId: the stable hash of (chat, sender, ts, content).
    assert last.id == stable_message_id(GROUP, "wxid_xiaoli", last.ts, "我也想拼一箱，还能上车吗？")
    assert last.id.startswith("h:")
    assert last.sender_name == "小李Lily"


@pytest.mark.parametrize(("code", "content", "kind"), [
    (0, "你好", MessageType.TEXT), (1, None, MessageType.IMAGE), (2, None, MessageType.VOICE),
    (3, None, MessageType.VIDEO), (4, "清单.xlsx", MessageType.FILE),
    (5, None, MessageType.STICKER), (7, "链接", MessageType.LINK),
    (8, "五角场", MessageType.LOCATION), (20, None, MessageType.RED_PACKET),
    (21, None, MessageType.TRANSFER), (22, None, MessageType.OTHER),
    (23, None, MessageType.CALL), (24, "[小程序] 拼团", MessageType.MINI_PROGRAM),
    (24, "[音乐] 儿歌", MessageType.LINK), (24, None, MessageType.LINK),
    (25, "回复", MessageType.QUOTE), (26, None, MessageType.FORWARD),
    (27, None, MessageType.CONTACT_CARD), (80, "入群", MessageType.SYSTEM),
    (81, None, MessageType.RECALL), (99, None, MessageType.OTHER),
    (6, None, MessageType.OTHER), (1000, None, MessageType.OTHER), ("7", None, MessageType.LINK),
    (1.0, None, MessageType.IMAGE),
])
def test_type_mapping(tmp_path: Path, code: object, content: str | None,
                      kind: MessageType) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", HEADER, msg(type=code, content=content))
    (event,) = items(path)
    assert isinstance(event, MessageEvent)
    assert event.type == kind


# ---- broken / invalid JSON ---------------------------------------------------------------------

def test_broken_json_rejects_with_lines_and_keeps_the_rest() -> None:
    found = items("chatlab_broken.json")
    assert rejects(found) == {
        ":5": "缺少字段 platformId",
        ":9": "缺少字段 sender",
        ":10": "timestamp 不是数字: 'abc'",
        ":11": "type 未知: 'x'",
        ":12": "content 应为字符串或 null: {'text': '内容是对象'}",
        ":13": "timestamp 不能为负数: -5",
        ":14": "timestamp 超出范围（晚于 2100 年，像是毫秒）: 1700443920000",
        ":15": "timestamp 不是数字: True",
        ":16": "消息应为 JSON 对象: '这一条不是对象'",
        ":18": "缺少字段 type",
        ":19": "sender 为空",
    }
    good = messages(found)
    assert [(m.origin.rsplit(":", 1)[1], m.sender) for m in good] == [
        ("8", "wxid_zhangli01"), ("17", "wxid_xiaowang")]
    assert [i.platform_id for i in found if isinstance(i, MemberInfo)] == ["wxid_zhangli01"]
    # No groupId: a synthetic chat id from platform, type and name.
    digest = hashlib.sha1("宝妈团购群-售后".encode()).hexdigest()[:12]
    assert good[0].chat == f"chatlab:wechat:group:{digest}"


def test_invalid_json_is_one_line_error_with_position() -> None:
    path = DATA / "chatlab_invalid.json"
    with pytest.raises(SourceError) as exc:
        open_source(path)
    assert str(exc.value) == f"{path}:6:5: 不是有效的 JSON（Expecting ',' delimiter）"


@pytest.mark.parametrize(("text", "reason"), [
    ('{"chatlab": {}, "meta": {}, "messages": [1, 2,]}', "1:47: 不是有效的 JSON"),
    ('{"chatlab": {}, "meta": {}, "messages": []} trailing', "1:45: 不是有效的 JSON（Extra data）"),
    ('{"chatlab": {"version": "0.0.2"}, "meta": {"name": "x"}}',
     "不是 ChatLab JSON（缺少字段 messages）"),
    ('{"chatlab": {}, "messages": {"a": 1}}', "messages 应为数组"),
])
def test_json_broken_as_a_whole(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "chat.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as exc:
        open_source(path)
    assert str(exc.value).startswith(f"{path}:{'' if reason[0].isdigit() else ' '}{reason}")
    assert "\n" not in str(exc.value)


def test_minified_json_falls_back_to_message_index() -> None:
    found = items("chatlab_minified.json")
    assert [i.origin.rsplit(".json:", 1)[1] for i in found] == ["messages[0]", "messages[1]"]
    assert rejects(found) == {":messages[1]": "timestamp 不是数字: 'soon'"}
    (event,) = messages(found)
    assert not event.is_group and event.chat.startswith("chatlab:wechat:private:")


def test_members_not_a_list_is_reported_but_messages_come_through(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({
        "chatlab": {"version": "0.0.1"}, "meta": {"name": "群", "type": "group"},
        "members": {"wxid_a": "阿花"},
        "messages": [{"sender": "wxid_a", "accountName": "阿花", "timestamp": 1700443800,
                      "type": 0, "content": "早"}]}, ensure_ascii=False, indent=2),
        encoding="utf-8")
    found = items(path)
    assert isinstance(found[0], Reject) and found[0].reason.startswith("members 应为数组")
    assert len(messages(found)) == 1


def test_json_with_bom_and_crlf(tmp_path: Path) -> None:
    text = (DATA / "chatlab_group.json").read_text(encoding="utf-8").replace("\n", "\r\n")
    path = tmp_path / "chat.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    found = messages(items(path))
    assert len(found) == 10 and found[-1].origin.endswith(":115")


# ---- JSONL -------------------------------------------------------------------------------------

def test_private_jsonl() -> None:
    source = open_source(DATA / "chatlab_private.jsonl")
    assert source.total == 8
    found = list(source)
    members = [i for i in found if isinstance(i, MemberInfo)]
    assert [(m.platform_id, m.name, m.aliases) for m in members] == [
        ("wxid_wangnvshi", "王女士", ("王姐",)), ("wxid_xiaohe_op", "小禾优选-运营小禾", ())]
    events = messages(found)
    digest = hashlib.sha1("王女士（奶粉售后）".encode()).hexdigest()[:12]
    chat = f"chatlab:wechat:private:{digest}"
    assert {(m.chat, m.chat_name, m.is_group) for m in events} == {
        (chat, "王女士（奶粉售后）", False)}
    # Comment (line 2) and blank (line 5) lines are skipped but still counted.
    assert [m.origin.rsplit(":", 1)[1] for m in events] == ["6", "7", "8", "9", "10", "11"]
    assert [m.is_self for m in events] == [False, True, False, False, False, True]
    assert events[-1].type == MessageType.MINI_PROGRAM
    assert events[2].type == MessageType.IMAGE and events[2].text is None


def test_ids_without_platform_ids_are_stable() -> None:
    first = messages(items("chatlab_private.jsonl"))
    again = messages(items("chatlab_private.jsonl"))
    renamed = messages(items("exported_chat.txt"))  # same export under another name
    assert [m.id for m in first] == [m.id for m in again] == [m.id for m in renamed]
    for m in first:
        assert m.id == stable_message_id(m.chat, m.sender, m.ts, m.text)
    # The same person saying the same thing in the same second is one message.
    assert first[3].id == first[4].id
    assert len({m.id for m in first}) == 5


def test_broken_jsonl_rejects_lines_and_keeps_the_rest() -> None:
    source = open_source(DATA / "chatlab_broken.jsonl")
    found = list(source)
    assert source.total == len(found) == 11
    assert rejects(found) == {
        ":3": "不是有效的 JSON（Expecting ',' delimiter，第 114 列）",
        ":4": "缺少字段 sender",
        ":5": "timestamp 不是数字: 'abc'",
        ":6": "type 未知: 'x'",
        ":7": "content 应为字符串或 null: 12345",
        ":8": "_type 未知: 'reaction'",
        ":9": "缺少字段 _type",
        ":10": "应为 JSON 对象: ['不是', '对象']",
        ":11": "缺少字段 platformId",
    }
    good = messages(found)
    assert [(m.id, m.origin.rsplit(":", 1)[1], m.sender_name) for m in good] == [
        ("m-1", "2", "张姐-二宝妈"), ("m-2", "12", "小王")]


def test_mixed_jsonl_late_header_and_second_chat() -> None:
    found = items("chatlab_mixed.jsonl")
    assert rejects(found) == {":9": "不是有效的 JSON（Expecting ',' delimiter，第 123 列）"}
    events = messages(found)
    # The header on line 5 applies to the messages above it as well.
    assert [(m.origin.rsplit(":", 1)[1], m.chat) for m in events] == [
        ("2", GROUP), ("4", GROUP), ("7", GROUP), ("8", GROUP),
        ("11", "20231202999@chatroom")]  # a second header switches chats
    assert events[-1].chat_name == "小禾优选·VIP 会员群"
    assert events[2].ts == datetime(2023, 11, 20, 1, 32, tzinfo=UTC)
    assert events[3].type == MessageType.SYSTEM
    assert events[3].text == '"小王"邀请"小李"加入了群聊'
    (member,) = [i for i in found if isinstance(i, MemberInfo)]
    assert member.chat == GROUP and member.origin.endswith(":6")


def test_headerless_jsonl_is_named_after_the_file() -> None:
    found = items("chatlab_headerless.jsonl")
    digest = hashlib.sha1(b"chatlab_headerless").hexdigest()[:12]
    events = messages(found)
    assert {(m.chat, m.chat_name, m.is_group) for m in events} == {
        (f"chatlab:wechat:group:{digest}", "chatlab_headerless", True)}
    assert isinstance(found[0], MemberInfo) and found[0].chat == events[0].chat


def test_jsonl_crlf_bom_and_no_final_newline(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "chat.jsonl", HEADER, "# 注释", msg(), "",
                       msg(timestamp=1700443801, content="第二条"), newline="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().rstrip(b"\r\n"))
    source = open_source(path)
    found = list(source)
    assert source.total == 2
    assert [m.origin.rsplit(":", 1)[1] for m in messages(found)] == ["3", "5"]
    assert messages(found)[1].text == "第二条"


@pytest.mark.parametrize(("value", "reason"), [
    ("abc", "timestamp 不是数字: 'abc'"),
    ("nan", "timestamp 不是数字: 'nan'"),
    (True, "timestamp 不是数字: True"),
    (None, "timestamp 不是数字: None"),
    ([1], "timestamp 不是数字: [1]"),
    (-1, "timestamp 不能为负数: -1"),
    (4102444800, "timestamp 超出范围（晚于 2100 年）: 4102444800"),
    (1700443800123, "timestamp 超出范围（晚于 2100 年，像是毫秒）: 1700443800123"),
])
def test_bad_timestamps(tmp_path: Path, value: object, reason: str) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", HEADER, msg(timestamp=value))
    assert items(path) == [Reject(f"{path}:2", reason)]


def test_missing_timestamp_and_missing_content(tmp_path: Path) -> None:
    no_ts = msg()
    del no_ts["timestamp"]
    no_content = msg(type=1)
    del no_content["content"]
    path = write_jsonl(tmp_path / "t.jsonl", HEADER, no_ts, no_content)
    first, second = items(path)
    assert first == Reject(f"{path}:2", "缺少字段 timestamp")
    # Media messages often omit `content`; that is null, not a reason to drop the message.
    assert isinstance(second, MessageEvent) and second.text is None
    assert second.ts == datetime(2023, 11, 20, 1, 30, tzinfo=UTC)


def test_numeric_sender_and_names(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "qq.jsonl",
                       {**HEADER, "meta": {"name": "QQ 群", "platform": "qq", "type": "group"}},
                       msg(sender=123456789, accountName=" ", groupNickname=""))
    (event,) = items(path)
    assert isinstance(event, MessageEvent)
    assert event.sender == "123456789" and event.sender_name is None
    assert event.platform == "qq" and event.chat.startswith("chatlab:qq:group:")


def test_json_and_jsonl_of_the_same_chat_agree(tmp_path: Path) -> None:
    """The same export in both encodings gives the same events (origins aside)."""
    doc = json.loads((DATA / "chatlab_group.json").read_text(encoding="utf-8"))
    rows: list[object] = [{"_type": "header", "chatlab": doc["chatlab"], "meta": doc["meta"]}]
    rows += [{"_type": "member", **m} for m in doc["members"]]
    rows += [{"_type": "message", **m} for m in doc["messages"]]
    as_jsonl = messages(items(write_jsonl(tmp_path / "g.jsonl", *rows)))
    as_json = messages(items("chatlab_group.json"))
    strip = [(m.id, m.ts, m.chat, m.sender, m.type, m.text, m.sender_name, m.is_self)
             for m in as_json]
    assert strip == [(m.id, m.ts, m.chat, m.sender, m.type, m.text, m.sender_name, m.is_self)
                     for m in as_jsonl]


def test_large_jsonl_total_and_laziness(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(HEADER, ensure_ascii=False) + "\n")
        for i in range(5000):
            fh.write(json.dumps(msg(timestamp=1700000000 + i, content=f"第 {i} 条"),
                                ensure_ascii=False) + "\n")
    source = open_source(path)
    assert source.total == 5000
    stream = iter(source)
    first = next(stream)
    assert isinstance(first, MessageEvent) and first.text == "第 0 条"
    # The file is read as the stream advances: a line appended now is still seen.
    with path.open("a", encoding="utf-8") as fh:
        late = msg(timestamp=1800000000, content="后来追加")
        fh.write(json.dumps(late, ensure_ascii=False) + "\n")
    rest = list(stream)
    assert len(rest) == 5000 and rest[-1].text == "后来追加"  # type: ignore[union-attr]


def test_copy_in_another_folder_gives_same_ids(tmp_path: Path) -> None:
    copy = tmp_path / "backup" / "chatlab_group.json"
    copy.parent.mkdir()
    shutil.copy(DATA / "chatlab_group.json", copy)
    assert [m.id for m in messages(items(copy))] == [
        m.id for m in messages(items("chatlab_group.json"))]


def test_message_event_fast_constructor_is_the_dataclass() -> None:
    """handlers.events.message_event fills the frozen slots directly; the event must be the same."""
    import dataclasses
    from datetime import UTC, datetime

    from handlers.events import MessageEvent, MessageType, message_event

    values = dict(id="m1", ts=datetime(2026, 11, 20, 4, tzinfo=UTC), chat="g@chatroom",
                  sender="wxid_a", type=MessageType.TEXT, text="好的", chat_name="群",
                  is_group=True, sender_name="小张", platform="wechat", mentions=("x",),
                  is_self=False, origin="chat.jsonl:2", raw={"a": 1})
    fast = message_event(**values)
    slow = MessageEvent(**values)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert [getattr(fast, f.name) for f in dataclasses.fields(MessageEvent)] == list(
        values.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.text = "改"  # type: ignore[misc]
