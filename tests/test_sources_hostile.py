"""Issue 16's import items, one test each: a hostile line costs that line, never the file,
never the run, and never silently.

Each test is built from the case the issue names (a lone surrogate escape, a line nested
200,000 deep, a stray quote, a cut multi-byte character, an unreadable folder, a different
message under a stored id) and checks the whole contract: the bad line is one reject naming
``file:line``, every good line is imported once. `tests/test_hostile_corpus.py` generates the
wider corpus; these are the pinned cases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app import App
from bot.sources import open_source
from handlers.events import MessageEvent, Reject, SourceItem
from handlers.ingest import Ingestor, IngestReport
from handlers.settings import Settings

HEADER = json.dumps({"_type": "header", "meta": {"name": "宝妈群", "type": "group",
                                                 "groupId": "g1@chatroom"}})


def line(i: int, content: str = "", **extra: object) -> str:
    return json.dumps({"_type": "message", "sender": f"wxid_{i % 3}", "timestamp": 1763640000 + i,
                       "type": 0, "content": content or f"第{i}条，有没有优惠？", **extra},
                      ensure_ascii=False)


def ingest(tmp_path: Path, *paths: Path) -> tuple[App, IngestReport]:
    app = App(Settings(db=f"sqlite:///{tmp_path / 'h.db'}"))
    ingestor = Ingestor(app.store, app.analyzer, app.settings, app.labels)
    report = IngestReport()
    for path in paths:
        ingestor.ingest(open_source(path), report)
    ingestor.finish(report)
    return app, report


def where(items: list[SourceItem]) -> list[str]:
    return [str(i) for i in items if isinstance(i, Reject)]


# ---- item 1: a lone surrogate escape ----------------------------------------------------------
LONE = [
    '{"_type":"message","sender":"wxid_a","timestamp":1763640000,"type":0,'
    '"content":"lone \\ud800 surrogate"}',
    '{"_type":"message","sender":"wxid_\\udfff","timestamp":1763640001,"type":0,'
    '"content":"好的","accountName":"小\\ud83d"}',
]


def test_lone_surrogate_jsonl_is_imported_with_a_replacement_character(tmp_path: Path) -> None:
    """The half character becomes U+FFFD; the message, its sender and the next file survive."""
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join([HEADER, *LONE, line(3)]) + "\n")
    second = tmp_path / "b.jsonl"
    second.write_text("\n".join([HEADER, line(4)]) + "\n")
    found = list(open_source(first))
    assert [m.text for m in found if isinstance(m, MessageEvent)] == [
        "lone \ufffd surrogate", "好的", "第3条，有没有优惠？"]
    assert [m.sender for m in found if isinstance(m, MessageEvent)][1] == "wxid_\ufffd"

    app, report = ingest(tmp_path, first, second)
    assert (report.new, report.rejects) == (4, [])
    again = ingest(tmp_path, first, second)[1]  # the ids are stable: nothing new, no conflict
    assert (again.new, again.duplicate) == (0, 4)
    assert app.store.find_members("wxid_\ufffd")


def test_lone_surrogate_in_a_json_document(tmp_path: Path) -> None:
    doc = tmp_path / "chat.json"
    doc.write_text('{"chatlab": {}, "meta": {"name": "群\\ud800", "type": "group"},\n'
                   '"messages": [\n' + ",\n".join(
                       json.dumps(json.loads(x)) for x in LONE) + "\n]}")
    report = ingest(tmp_path, doc)[1]
    assert (report.new, report.rejects) == (2, [])


# ---- item 5: nesting deeper than the decoder -------------------------------------------------
DEEP = "[" * 200_000 + "]" * 200_000


@pytest.mark.parametrize("bad", [
    DEEP,
    '{"_type":"message","sender":"wxid_a","timestamp":1,"type":0,"content":' + DEEP + "}",
    '{"_type":"header","x":' + DEEP + "}",
    "[" * 1024 + "]" * 1024,  # orjson takes it; its repr does not fit the recursion limit
])
def test_deep_jsonl_line_is_one_reject(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([HEADER, line(1), bad, line(2)]) + "\n")
    report = ingest(tmp_path, path)[1]
    assert report.new == 2
    assert [r.origin for r in report.rejects] == [f"{path}:3"]


def test_deep_element_of_a_json_document_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"chatlab": {}, "meta": {"name": "群", "type": "group"},\n"messages": [\n'
                    + ",\n".join([line(1), DEEP, '{"a": "[" , "b": ' + DEEP + "}", line(2)])
                    + "\n]}")
    found = list(open_source(path))
    assert where(found) == [f"{path}:4: 消息应为 JSON 对象: （嵌套层数过多）",
                            f"{path}:5: 消息应为 JSON 对象: （嵌套层数过多）"]
    assert len([i for i in found if isinstance(i, MessageEvent)]) == 2


# ---- item 6: an unreadable subfolder ----------------------------------------------------------
def test_unreadable_subfolder_is_reported_and_the_rest_imported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Listed like an unreadable file (one line naming it, exit 1); the other files import.

    Permissions are simulated (the tests may run as root, who reads everything)."""
    import os

    from bot.sources import SourceError, expand_paths

    root = tmp_path / "exports"
    (root / "a").mkdir(parents=True)
    (root / "locked").mkdir()
    (root / "a" / "one.jsonl").write_text("\n".join([HEADER, line(1)]) + "\n")
    (root / "locked" / "two.jsonl").write_text("\n".join([HEADER, line(2)]) + "\n")
    (root / "z.jsonl").write_text("\n".join([HEADER, line(3)]) + "\n")
    real = os.scandir
    locked = str(root / "locked")

    def scandir(path: object = ".") -> object:
        if os.fspath(path) == locked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", locked)
        return real(path)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(os, "scandir", scandir)
        problems: list[SourceError] = []
        assert expand_paths([root], problems) == [root / "a" / "one.jsonl", root / "z.jsonl"]
        assert [str(p) for p in problems] == [f"{locked}: 无法读取文件夹（Permission denied）"]
        with pytest.raises(SourceError, match="locked: 无法读取文件夹"):
            expand_paths([root])

        # The command, in this process so the simulated permission holds.
        from bot.cli import main

        m.chdir(tmp_path)
        m.delenv("SIYU_DB", raising=False)
        code = main(["ingest", str(root)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"✗ {locked}: 无法读取文件夹（Permission denied）" in out
    assert "合计：新增 2 条消息" in out


# ---- item 7: a different message under a stored id ---------------------------------------------
def test_a_different_message_under_a_stored_id_is_a_reported_conflict(tmp_path: Path) -> None:
    """Counted and named one line each, like an order conflict; never silently 重复. The id
    is the chat's: a later export of the same chat that changed a message conflicts."""
    one = tmp_path / "one.jsonl"
    one.write_text("\n".join([HEADER, line(1, platformMessageId="7"),
                              line(2, platformMessageId="8")]) + "\n")
    later = tmp_path / "later.jsonl"  # the same chat exported again, one message edited
    later.write_text("\n".join([
        HEADER,
        line(1, platformMessageId="7"),  # the same message: a duplicate
        line(5, "不一样的内容", platformMessageId="8"),
        line(6, platformMessageId="9"), line(6, platformMessageId="9"),  # a true repeat
        line(7, "后来的", platformMessageId="9")]) + "\n")  # same id again, in the file
    app, report = ingest(tmp_path, one, later)
    assert (report.new, report.duplicate) == (3, 2)
    assert [c.origin for c in report.conflicts] == [f"{later}:3", f"{later}:6"]
    assert report.conflicts[0].reason == (
        f"消息 id '8' 已导入过（来自 {one}:3）但内容不同："
        "ts 2025-11-20T12:00:02+00:00 → 2025-11-20T12:00:05+00:00；"
        "内容 '第2条，有没有优惠？' → '不一样的内容'；已有消息不会被覆盖")
    assert f"（来自 {later}:4）" in report.conflicts[1].reason
    assert report.to_json()["conflicts"][0]["origin"] == f"{later}:3"
    assert app.store.messages_by_id(["8"])["8"].text == "第2条，有没有优惠？"


# ---- item 2: message ids are per chat -----------------------------------------------------------
def numbered(path: Path, chat: str, sender: str) -> Path:
    """A chat export numbering its five messages 1..5, as many exporters do."""
    header = HEADER.replace("g1@chatroom", chat).replace("宝妈群", chat)
    path.write_text("\n".join([header, *(json.dumps(
        {"_type": "message", "sender": sender, "timestamp": 1763640000 + i, "type": 0,
         "content": f"{chat} 第{i}条", "platformMessageId": str(i)}, ensure_ascii=False)
        for i in range(1, 6))]) + "\n")
    return path


def test_two_chats_numbering_their_messages_alike_are_both_imported(tmp_path: Path) -> None:
    """Identity is (chat, platform id): the second chat is five new messages, not 重复 5,
    and a re-import of either is 重复 5."""
    a = numbered(tmp_path / "a.jsonl", "g1@chatroom", "wxid_a")
    b = numbered(tmp_path / "b.jsonl", "g2@chatroom", "wxid_b")
    app, first = ingest(tmp_path, a)
    assert (first.new, first.duplicate, first.conflicts) == (5, 0, [])
    _, second = ingest(tmp_path, b)
    assert (second.new, second.duplicate, second.conflicts) == (5, 0, [])
    for path in (a, b):
        _, again = ingest(tmp_path, path)
        assert (again.new, again.duplicate, again.conflicts) == (0, 5, [])
    texts = {(m.chat_id, m.id): m.text for ms in app.store.messages_for().values() for m in ms}
    assert len(texts) == 10
    assert texts["g1@chatroom", "3"] == "g1@chatroom 第3条"
    assert texts["g2@chatroom", "3"] == "g2@chatroom 第3条"


def test_the_cli_names_each_conflict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    one = tmp_path / "one.jsonl"
    one.write_text("\n".join([HEADER, line(1, platformMessageId="7")]) + "\n")
    two = tmp_path / "two.jsonl"
    two.write_text("\n".join([HEADER, line(1, "改过的", platformMessageId="7")]) + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIYU_DB", raising=False)
    assert main(["ingest", str(one), str(two)]) == 0
    out, err = capsys.readouterr()
    assert f"{two}: 新增 0 条，重复 0 条，冲突 1 条，拒绝 0 行" in out
    assert "合计：新增 1 条消息，重复 0 条，冲突 1 条（同一 id 内容不同，未覆盖）" in out
    assert f"冲突 {two}:2: 消息 id '7' 已导入过" in err


# ---- item 4: one undecodable byte costs one line ----------------------------------------------
CESU_EMOJI = b"\xed\xa0\xbd\xed\xb8\x80"  # 😀 as two three-byte surrogate halves


def test_jsonl_cut_inside_a_character_imports_every_whole_line(tmp_path: Path) -> None:
    body = ("\n".join([HEADER, *(line(i) for i in range(50))]) + "\n").encode()
    body += line(50, "最后一句话").encode()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(body[:-4])  # the first byte of 话 ends the file
    found = list(open_source(path))
    assert where(found) == [
        f"{path}:52: 不是完整的 UTF-8：文件在一个字符中间结束（复制或下载不完整？）"]
    assert len([m for m in found if isinstance(m, MessageEvent)]) == 50


@pytest.mark.parametrize(("bad", "hint"), [
    (line(7, "笑死").encode().replace("笑死".encode(), "笑死".encode("gbk")),
     "不是 UTF-8 编码（看起来是 GBK 编码，请用 UTF-8 重新导出或另存为 UTF-8）"),
    (line(7, "X").encode().replace(b"X", CESU_EMOJI),
     "不是标准 UTF-8 编码（像是 CESU-8：表情等字符被拆成两半，Java/MySQL 导出常见；"
     "请用标准 UTF-8 重新导出）"),
    (line(7, "X").encode().replace(b"X", b"\xff"),
     "不是 UTF-8 编码（含无法解码的字节 0xFF）"),
])
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_one_undecodable_line_is_one_reject_with_the_right_hint(
        tmp_path: Path, bad: bytes, hint: str, fmt: str) -> None:
    good = [line(i).encode() for i in range(6)]
    if fmt == "jsonl":
        data = b"\n".join([HEADER.encode(), *good[:3], bad, *good[3:]]) + b"\n"
    else:
        data = (b'{"chatlab": {}, "meta": {"name": "\xe7\xbe\xa4", "type": "group"},\n'
                b'"messages": [\n' + b",\n".join([*good[:3], bad, *good[3:]]) + b"\n]}")
    path = tmp_path / f"chat.{fmt}"
    path.write_bytes(data)
    report = ingest(tmp_path, path)[1]
    assert [str(r) for r in report.rejects] == [f"{path}:{5 if fmt == 'jsonl' else 6}: {hint}"]
    assert report.new == 6


def test_cesu8_row_in_a_wechatmsg_csv(tmp_path: Path) -> None:
    header = "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime"
    rows = [f"{i},wxid_a,1,0,0,{1700443800 + i},2,第{i}条,2023-11-20 09:30:00".encode()
            for i in range(5)]
    rows[2] = rows[2].replace("第2条".encode(), CESU_EMOJI)
    path = tmp_path / "小张_utf8.csv"
    path.write_bytes(b"\n".join([header.encode(), *rows]) + b"\n")
    found = list(open_source(path))
    assert [r.origin for r in found if isinstance(r, Reject)] == [f"{path}:4"]
    assert "CESU-8" in where(found)[0] and "GBK" not in where(found)[0]
    assert len([m for m in found if isinstance(m, MessageEvent)]) == 4


# ---- item 3: a stray opening quote in a CSV field ---------------------------------------------
CSV_HEADER = ("localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
              "Remark,NickName,Sender")


def csv_row(i: int, content: str | None = None) -> str:
    return (f"{i},123@chatroom,1,0,0,{1700443800 + i},2,{content or f'第{i}条'},"
            f"2023-11-20 09:30:00,,张丽,wxid_z{i % 7}")


@pytest.mark.parametrize("stray", [3, 500, 995])
def test_a_stray_quote_costs_one_row_not_the_rest_of_the_file(tmp_path: Path,
                                                              stray: int) -> None:
    rows = [csv_row(i) for i in range(1000)]
    rows[stray] = csv_row(stray, '"他说：好的')  # opens a quoted field that never closes
    path = tmp_path / "宝妈群_utf8.csv"
    path.write_text("\r\n".join([CSV_HEADER, *rows]) + "\r\n")
    found = list(open_source(path))
    bad = [r for r in found if isinstance(r, Reject)]
    assert [r.origin for r in bad] == [f"{path}:{stray + 2}"]
    assert bad[0].reason.startswith("引号未闭合：从这一行开始的字段吞进了后面")
    texts = [m.text for m in found if isinstance(m, MessageEvent)]
    assert texts == [f"第{i}条" for i in range(1000) if i != stray]


def test_real_multi_line_fields_stay_one_row(tmp_path: Path) -> None:
    """A quoted field with 300 line breaks (a pasted article, app XML) is one message."""
    article = "\n".join(f"第{n}段" for n in range(300))
    path = tmp_path / "宝妈群_utf8.csv"
    path.write_text("\n".join([CSV_HEADER, csv_row(1), csv_row(2, f'"{article}"'), csv_row(3)])
                    + "\n")
    found = list(open_source(path))
    assert [m.text for m in found if isinstance(m, MessageEvent)] == ["第1条", article, "第3条"]
    assert [m.origin for m in found] == [f"{path}:2", f"{path}:3", f"{path}:303"]


def test_a_stray_quote_in_an_orders_csv(tmp_path: Path) -> None:
    from bot.sources.business import open_orders
    from handlers.rows import OrderRow

    rows = [f"wxid_{i},o{i},2025-11-20 10:00,{i}.50,奶粉" for i in range(200)]
    rows[10] = 'wxid_10,o10,2025-11-20 10:00,10.50,"奶粉'
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(["member,order_id,ts,amount,category", *rows]) + "\n")
    found = list(open_orders(path))
    assert [r.origin for r in found if isinstance(r, Reject)] == [f"{path}:12"]
    assert [o.order_id for o in found if isinstance(o, OrderRow)] == [
        f"o{i}" for i in range(200) if i != 10]
