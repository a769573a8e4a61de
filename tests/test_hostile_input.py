"""Hostile input: whatever an export, a member or a typo throws at us, nothing crashes.

An operator imports files they did not write (renamed exports, half-copied JSON, Excel-mangled
CSV, a year of emoji) and the live bot reads whatever members type. The contract is that a bad
line, row or message never stops anything: it becomes a `Reject` whose str() is one line naming
``file:line`` (or a one-line `SourceError` for a file that cannot be read at all), and
everything usable still comes through. These tests generate such input with hypothesis and
check that contract, not just "no exception":

- every item-bearing line/row of a file yields exactly one item, at the line it starts on,
  and lines built to be valid come out as messages with their content intact;
- the normaliser and the analyser accept any text, any message type and any aware time and
  give results within their documented codes;
- command parsing in the dispatcher never logs a handler crash, never ingests a command,
  always ingests chat, and never answers into a member group.

Runs are deterministic (`derandomize=True`, no example database) and bounded, so a failure
reproduces on every machine and the file stays within a few seconds.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dispatcher import Audit, Dispatcher
from bot.sources import SourceError, open_source
from bot.sources.common import HEAD_SIZE
from bot.sources.wechatmsg import COLUMNS
from bot.transports.base import RecordingSends
from handlers.events import JoinEvent, MemberInfo, MessageEvent, MessageType, Reject, SourceItem
from handlers.live import Outgoing
from handlers.settings import Settings
from persona.analyze import MAX_KEYWORDS, MAX_SCORE, Analyzer
from persona.resources import default_lexicon
from persona.signals import (
    ATTRIBUTE_FIELDS,
    CONTENT_CODES,
    INTENT_CODES,
    MOTIVATION_CODES,
    Signals,
)
from persona.text import normalise

HOSTILE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)

# ---- text strategies ------------------------------------------------------------------------
# Any Unicode scalar value except NUL (a NUL near the top of a file is a "binary file" refusal,
# covered by its own test). Surrogates cannot be written as UTF-8, so they are out too.
ANY_CHAR = st.characters(codec="utf-8", exclude_characters="\x00")
# Control, format, separator and combining characters: what breaks naive line handling.
ODD_CHAR = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Mn", "Co"],
                         exclude_characters="\x00")
EMOJI = ["😀", "👍🏻", "👨‍👩‍👧", "🇨🇳", "1️⃣", "❤️", "✨", "⏰", "[微笑]", "[捂脸]",
         "［微笑］", "[Smile]", "[666]"]
CHAT_BITS = ["有没有优惠？", "我家宝宝8个月了", "太贵了", "不贵", "我是90后", "坐标杭州",
             "@小张\u2005你好", "https://x.cn/a?b=1", "二十八岁", "九零后", "好不好用", "吗",
             "呢", "？", "我是上海的", "不喜欢", "宝宝们晚上好", "吃火锅", "iphone15", "\u2028",
             "\u200b", "ﷺ", "İ", "ß", "²", "٣", "𝟘", "Ⅻ", "\ufeff", "\r\n", "\x85"]
# Strings that look numeric to one parser and not to another.
NUMERIC_TRAPS = ["²", "٣", "१२", "𝟘", "9" * 400, "9" * 5000, "1e400", "-1", "NaN", " 12 ",
                 "0x1f", "", "１２", "1_000", "+5", "١٧٠٠٠٠٠٠٠٠"]

hostile_text = st.one_of(
    st.text(ANY_CHAR, max_size=120),
    st.text(ODD_CHAR, max_size=40),
    st.lists(st.sampled_from(EMOJI), min_size=1, max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(CHAT_BITS + EMOJI), st.text(ANY_CHAR, max_size=4)),
             max_size=10).map("".join),
    st.sampled_from(NUMERIC_TRAPS),
)

json_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=10**300, max_value=10**400),  # finite ints no float can hold
    st.floats(),  # nan and ±inf are written as NaN / Infinity, which json.loads accepts
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(ANY_CHAR, max_size=6), inner, max_size=3)),
    max_leaves=6,
)

GOOD_SENDERS = ["wxid_duoduo", "wxid_laozhou", "小张", "12345"]
GOOD_TYPES = [0, 1, 2, 3, 4, 5, 7, 8, 20, 21, 22, 23, 24, 25, 26, 27, 80, 81, 99, 6, 1000]
good_ts = st.integers(min_value=1_500_000_000, max_value=1_800_000_000)


def sometimes_wrong(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value, sometimes any JSON value at all (wrong type, null, huge …)."""
    return st.one_of(good, good, good, json_values)


@dataclass(frozen=True)
class Line:
    """One generated line (or element) and what the reader must make of it."""

    text: str
    # "message": must become a MessageEvent with `content` as its text; "member": a
    # MemberInfo; "item": exactly one item of any kind; "none": no item (blank, comment, header)
    expect: str
    content: str | None = None
    obj: Any = None


def _dumps(obj: Any, ascii_only: bool) -> str:
    return json.dumps(obj, ensure_ascii=ascii_only)


@st.composite
def good_message(draw: st.DrawFn) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "sender": draw(st.sampled_from(GOOD_SENDERS)),
        "accountName": draw(hostile_text),
        "timestamp": draw(st.one_of(good_ts, good_ts.map(float))),
        "type": draw(st.sampled_from(GOOD_TYPES)),
        "content": draw(st.one_of(st.none(), hostile_text)),
    }
    if draw(st.booleans()):
        msg["groupNickname"] = draw(hostile_text)
    if draw(st.booleans()):
        msg["platformMessageId"] = draw(st.one_of(st.text(ANY_CHAR, max_size=20), json_values))
    return msg


@st.composite
def bad_message(draw: st.DrawFn) -> dict[str, Any]:
    """A message with some fields missing or of the wrong type."""
    msg = draw(good_message())
    for key in ("sender", "timestamp", "type", "content", "accountName"):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            msg.pop(key, None)
        elif choice == 1:
            msg[key] = draw(json_values)
    return msg


member_obj = st.fixed_dictionaries(
    {"platformId": sometimes_wrong(st.sampled_from(GOOD_SENDERS))},
    optional={"accountName": sometimes_wrong(hostile_text),
              "groupNickname": sometimes_wrong(hostile_text),
              "aliases": sometimes_wrong(st.lists(hostile_text, max_size=3))})

HEADER = {"_type": "header", "chatlab": {"version": "0.0.2", "exportedAt": 1763640000},
          "meta": {"name": "宝妈群", "platform": "wechat", "type": "group"}}


@st.composite
def jsonl_line(draw: st.DrawFn) -> Line:
    ascii_only = draw(st.booleans())
    kind = draw(st.integers(0, 11))
    if kind <= 2:
        msg = draw(good_message())
        return Line(_dumps({"_type": "message", **msg}, ascii_only), "message",
                    content=msg["content"], obj=msg)
    if kind == 3:
        return Line(_dumps({"_type": "message", **draw(bad_message())}, ascii_only), "item")
    if kind == 4:
        member = draw(member_obj)
        pid = member["platformId"]
        return Line(_dumps({"_type": "member", **member}, ascii_only),
                    "member" if isinstance(pid, str) and pid.strip() else "item")
    if kind == 5:  # raw garbage on one line (no line breaks: those make more lines)
        text = draw(st.text(ANY_CHAR.filter(lambda c: c not in "\r\n"), max_size=80))
        return Line(text, "item" if text.strip() and not text.strip().startswith("#")
                    else "none")
    if kind == 6:  # a valid message cut short
        full = _dumps({"_type": "message", **draw(good_message())}, ascii_only)
        cut = draw(st.integers(1, max(1, len(full) - 1)))
        return Line(full[:cut], "item")
    if kind == 7:  # numbers no parser agrees on, written raw into the JSON text
        raw = draw(st.sampled_from(["9" * 400, "9" * 5000, "1e400", "-0", "1.5e9", "NaN",
                                    "-Infinity", "17e8", "1" + "0" * 30]))
        where = draw(st.sampled_from(["timestamp", "type"]))
        other = "1700000000" if where == "type" else "0"
        key = "type" if where == "timestamp" else "timestamp"
        return Line(f'{{"_type":"message","sender":"wxid_a","{where}":{raw},'
                    f'"{key}":{other},"content":"x"}}', "item")
    if kind == 8:  # valid JSON that is not an object, or an object of no known _type
        value = draw(st.one_of(json_values, st.fixed_dictionaries(
            {"_type": json_values}), st.dictionaries(st.text(max_size=4), json_values)))
        text = _dumps(value, ascii_only)
        return Line(text, "none" if isinstance(value, dict) and value.get("_type") == "header"
                    else "item")
    if kind == 9:
        return Line("# " + draw(st.text(ANY_CHAR.filter(lambda c: c not in "\r\n"),
                                        max_size=20)), "none")
    if kind == 10:
        return Line(draw(st.sampled_from(["", "   ", "\t"])), "none")
    return Line(_dumps(HEADER, ascii_only), "none")  # a second header switches chats


# ---- helpers --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def one_line(text: str) -> bool:
    """True if `text` is one line by every definition a terminal or editor might use."""
    return len(text.splitlines()) == 1 and "\r" not in text and "\n" not in text


def assert_reject_is_one_line(reject: Reject, path: Path, line_based: bool) -> None:
    text = str(reject)
    assert one_line(text), f"reject spans lines: {text!r}"
    where = re.escape(str(path))
    pattern = rf"{where}:\d+" if line_based else rf"{where}(:\d+|:(members|messages)\[\d+\])?"
    assert re.fullmatch(pattern, reject.origin), reject.origin
    assert reject.reason.strip(), "a reject must say why"


def assert_message_sane(ev: MessageEvent) -> None:
    assert ev.ts.tzinfo is not None and ev.ts.utcoffset() == timedelta(0)
    assert 1970 <= ev.ts.year < 2100
    assert isinstance(ev.id, str) and ev.id
    assert isinstance(ev.sender, str) and ev.sender.strip() == ev.sender and ev.sender
    assert ev.text is None or isinstance(ev.text, str)
    assert isinstance(ev.type, MessageType)


def line_of(item: SourceItem) -> int:
    return int(item.origin.rsplit(":", 1)[1])


def read_all(path: Path, fmt: str = "auto") -> list[SourceItem]:
    """Open and iterate twice: a Source must give the same items every time (re-imports)."""
    source = open_source(path, fmt)
    first = list(source)
    assert [str(i) if isinstance(i, Reject) else i for i in list(source)] == [
        str(i) if isinstance(i, Reject) else i for i in first]
    return first


# ---- ChatLab JSONL ----------------------------------------------------------------------------
@HOSTILE
@given(lines=st.lists(jsonl_line(), max_size=40), first_header=st.booleans())
def test_chatlab_jsonl_every_line_accounted_for(workdir: Path, lines: list[Line],
                                                first_header: bool) -> None:
    """Each item line gives exactly one item, at its own line; valid messages come through."""
    head = [Line(json.dumps(HEADER), "none")] if first_header else [
        Line('{"_type": "message", "sender": "wxid_a", "timestamp": 1763640000, "type": 0, '
             '"content": "开头"}', "message", content="开头")]
    all_lines = head + lines
    path = write(workdir / "chat.jsonl", "\n".join(ln.text for ln in all_lines) + "\n")
    items = read_all(path)

    by_line: dict[int, list[SourceItem]] = {}
    for item in items:
        if isinstance(item, Reject):
            assert_reject_is_one_line(item, path, line_based=True)
        else:
            assert re.fullmatch(rf"{re.escape(str(path))}:\d+", item.origin), item.origin
        by_line.setdefault(line_of(item), []).append(item)
    for number, ln in enumerate(all_lines, 1):
        got = by_line.pop(number, [])
        if ln.expect == "none":
            assert got == [], (number, ln.text, got)
            continue
        assert len(got) == 1, (number, ln.text, got)
        (item,) = got
        if ln.expect == "message":
            assert isinstance(item, MessageEvent), (ln.text, item)
            assert_message_sane(item)
            assert item.text == ln.content
        elif ln.expect == "member":
            assert isinstance(item, MemberInfo)
        if isinstance(item, MessageEvent):
            assert_message_sane(item)
    assert by_line == {}, f"items at lines that were not written: {by_line}"


# ---- ChatLab JSON document ------------------------------------------------------------------
@st.composite
def chatlab_document(draw: st.DrawFn) -> tuple[str, list[Line], list[Any] | Any]:
    messages = draw(st.lists(st.one_of(
        good_message().map(lambda m: Line("", "message", content=m["content"], obj=m)),
        bad_message().map(lambda m: Line("", "item", obj=m)),
        json_values.map(lambda v: Line("", "item", obj=v)),
    ), max_size=12))
    members = draw(st.one_of(st.lists(member_obj, max_size=4), json_values))
    meta = draw(sometimes_wrong(st.fixed_dictionaries(
        {"name": sometimes_wrong(hostile_text), "type": sometimes_wrong(
            st.sampled_from(["group", "private"])), "platform": sometimes_wrong(
            st.just("wechat"))})))
    doc = {"chatlab": {"version": "0.0.2", "exportedAt": 1763640000}, "meta": meta,
           "members": members, "messages": [m.obj for m in messages]}
    indent = draw(st.sampled_from([None, 1, 2]))
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()), indent=indent)
    return text, messages, members


@HOSTILE
@given(doc=chatlab_document(), corrupt=st.one_of(st.none(), st.tuples(
    st.floats(0, 1), st.text(ANY_CHAR, max_size=6))))
def test_chatlab_json_document(workdir: Path, doc: tuple[str, list[Line], Any],
                               corrupt: tuple[float, str] | None) -> None:
    """A whole document either fails as one line or yields one item per element, in order."""
    text, messages, members = doc
    if corrupt is not None:  # splice garbage in somewhere: a hand-edited or truncated export
        at = int(corrupt[0] * len(text))
        text = text[:at] + corrupt[1] + text[at + len(corrupt[1]):]
    path = write(workdir / "chat.json", text)
    try:
        items = read_all(path)
    except SourceError as exc:
        assert one_line(str(exc)) and str(exc).startswith(str(path)), str(exc)
        assert corrupt is not None, f"an intact document was refused: {exc}"
        return
    for item in items:
        if isinstance(item, Reject):
            assert_reject_is_one_line(item, path, line_based=False)
        elif isinstance(item, MessageEvent):
            assert_message_sane(item)
    if corrupt is not None:
        return  # the splice may have produced another valid document: no more to promise
    n_members = len(members) if isinstance(members, list) else 0
    problems = 0 if members is None or isinstance(members, list) else 1
    message_items = items[len(items) - len(messages):] if messages else []
    assert len(items) == problems + n_members + len(messages)
    if "\n" in text:  # pretty-printed: every element starts on its own line, so name it
        assert all(re.search(r":\d+$", i.origin) for i in items[problems:]), items
    for ln, item in zip(messages, message_items, strict=True):
        if ln.expect == "message":
            assert isinstance(item, MessageEvent), item
            assert item.text == ln.content
    origins = [line_of(i) for i in message_items if re.search(r":\d+$", i.origin)]
    assert origins == sorted(set(origins)), "message lines must increase"


# ---- WeChatMsg CSV --------------------------------------------------------------------------
WECHAT_TYPES = ["1", "3", "34", "42", "43", "47", "48", "49", "50", "10000", "10002"]
XMLISH = ['<msg><appmsg><title>好物分享</title></appmsg></msg>',
          '<msg><appmsg><title><![CDATA[A&amp;B]]></title></appmsg></msg>',
          '<sysmsg><revokemsg>"小张" 撤回了一条消息</revokemsg></sysmsg>',
          '<msg><location label="杭州西湖" poiname="&amp;" /></msg>', "<title>", "<"]
cell_text = st.one_of(hostile_text, st.sampled_from(XMLISH),
                      st.text(ANY_CHAR, max_size=10).map(lambda s: f'"{s}"\n,{s}'))


@st.composite
def csv_row(draw: st.DrawFn, columns: Sequence[str]) -> tuple[list[str], str]:
    """A row for `columns` and what it must become: "message" or "item"."""
    good = {
        "localId": str(draw(st.integers(0, 10**6))),
        "TalkerId": draw(st.sampled_from(["wxid_duoduo", "123", "4567@chatroom", "gh_x"])),
        "Type": draw(st.sampled_from(WECHAT_TYPES)),
        "SubType": draw(st.sampled_from(["0", "5", "6", "33", "57", "2000", ""])),
        "IsSender": draw(st.sampled_from(["0", "1"])),
        "CreateTime": str(draw(good_ts)),
        "Status": "2",
        "StrContent": draw(cell_text),
        "StrTime": "2025-11-20 20:00:00",
        "Remark": draw(st.one_of(st.just(""), hostile_text)),
        "NickName": draw(st.one_of(st.just(""), hostile_text)),
        "Sender": draw(st.one_of(st.just(""), st.sampled_from(GOOD_SENDERS))),
    }
    expect = "message"
    if draw(st.integers(0, 2)) == 0:  # spoil some fields
        expect = "item"
        for key in draw(st.lists(st.sampled_from(list(good)), max_size=4)):
            good[key] = draw(st.one_of(st.sampled_from(NUMERIC_TRAPS), hostile_text))
    if draw(st.booleans()) and good["CreateTime"].strip() in ("", "0"):
        good["StrTime"] = draw(hostile_text)
    row = [good[c] for c in columns]
    shape = draw(st.integers(0, 9))
    if shape == 0:  # wrong number of columns
        expect = "item"
        row = row[: draw(st.integers(1, len(row)))] if draw(st.booleans()) else (
            row + draw(st.lists(hostile_text, min_size=1, max_size=3)))
    return row, expect


@HOSTILE
@given(data=st.data(), full=st.booleans())
def test_wechatmsg_csv_every_row_accounted_for(workdir: Path, data: st.DataObject,
                                               full: bool) -> None:
    """Each row (quoted line breaks and all) gives one item at the physical line it starts on."""
    columns = list(COLUMNS if full else COLUMNS[:9])
    rows = data.draw(st.lists(csv_row(columns), max_size=20))
    buf = io.StringIO()
    # The csv module's own "\r\n" (what exporters and Excel write): with it, a cell holding a
    # lone "\r" is quoted, as it must be for any reader to see one row.
    writer = csv.writer(buf)
    writer.writerow(columns)
    starts: list[int] = []
    for row, _ in rows:
        # Lines as Python reads them back (newline=""): \n, \r\n and a lone \r each end one.
        starts.append(len(io.StringIO(buf.getvalue(), newline="").readlines()) + 1)
        writer.writerow(row)
    path = write(workdir / "宝妈群_utf8.csv", buf.getvalue())
    items = read_all(path)

    by_line: dict[int, list[SourceItem]] = {}
    for item in items:
        if isinstance(item, Reject):
            assert_reject_is_one_line(item, path, line_based=True)
        else:
            assert_message_sane(item)
        by_line.setdefault(line_of(item), []).append(item)
    for start, (row, expect) in zip(starts, rows, strict=True):
        got = by_line.pop(start, [])
        assert len(got) == 1, (start, row, got)
        if expect == "message":
            assert isinstance(got[0], MessageEvent), (row, got[0])
    assert by_line == {}, f"items at lines where no row starts: {by_line}"


# ---- numbers that fool parsers, pinned (random search reaches them too rarely) ---------------
def _jsonl(**fields: str) -> str:
    base = {"sender": '"wxid_a"', "timestamp": "1763640000", "type": "0", "content": '"x"'}
    base.update(fields)
    body = ",".join(f'"{k}":{v}' for k, v in base.items())
    return json.dumps(HEADER) + '\n{"_type":"message",' + body + "}\n"


def _csv(**cells: str) -> str:
    row = dict(zip(COLUMNS, ["1", "wxid_a", "1", "0", "0", "1763640000", "2", "你好", "",
                             "", "", ""], strict=True))
    row.update(cells)
    buf = io.StringIO()
    csv.writer(buf).writerows([COLUMNS, [row[c] for c in COLUMNS]])
    return buf.getvalue()


TRAPS = [
    ("big-int-timestamp.jsonl", _jsonl(timestamp="9" * 400)),
    ("big-int-type.jsonl", _jsonl(type="9" * 400)),
    ("superscript-type.jsonl", _jsonl(type='"²"')),
    ("long-digit-type.jsonl", _jsonl(type='"' + "9" * 5000 + '"')),
    ("arabic-digit-type.jsonl", _jsonl(type='"٣"')),
    ("inf-timestamp.jsonl", _jsonl(timestamp="Infinity")),
    ("str-big-timestamp.jsonl", _jsonl(timestamp='"' + "9" * 400 + '"')),
    ("bool-timestamp.jsonl", _jsonl(timestamp="true")),
    ("superscript-subtype.csv", _csv(Type="49", SubType="²")),
    ("long-subtype.csv", _csv(Type="49", SubType="9" * 5000)),
    ("long-type.csv", _csv(Type="9" * 5000)),
    ("superscript-type.csv", _csv(Type="²")),
    ("big-createtime.csv", _csv(CreateTime="9" * 400)),
    ("arabic-createtime.csv", _csv(CreateTime="١٧٠٠٠٠٠٠٠٠")),
]


@pytest.mark.parametrize(("name", "content"), TRAPS, ids=[t[0] for t in TRAPS])
def test_numeric_traps_give_one_item(workdir: Path, name: str, content: str) -> None:
    """Digits Python's own parsers disagree on (², ٣, 400-digit ints, > 4300 digits) are a
    message or a one-line reject on their own line, never an exception out of the reader."""
    path = write(workdir / name, content)
    (item,) = read_all(path)
    assert line_of(item) == 2
    if isinstance(item, Reject):
        assert_reject_is_one_line(item, path, line_based=True)
    else:
        assert_message_sane(item)


def test_big_integer_timestamp_in_json_document(workdir: Path) -> None:
    text = ('{"chatlab": {}, "meta": {},\n "messages": [\n  {"sender": "a", "timestamp": '
            + "9" * 400 + ', "type": 0, "content": "x"},\n  {"sender": "a", "timestamp": '
            '1763640000, "type": "²", "content": "x"}\n]}')
    path = write(workdir / "bigint.json", text)
    items = read_all(path)
    assert [line_of(i) for i in items] == [3, 4]
    for item in items:
        assert isinstance(item, Reject)
        assert_reject_is_one_line(item, path, line_based=True)


# ---- whole-file refusals and the explicit edge cases -----------------------------------------
@pytest.mark.parametrize(("name", "content"), [
    ("nul-head.jsonl", json.dumps(HEADER) + "\n\x00\x00\n"),
    ("nul-head.csv", ",".join(COLUMNS) + "\n1,wxid_a,1,0,0,1763640000,2,a\x00b,\n"),
    ("utf16.json", "\ufeff{}"),
    ("broken.json", '{"chatlab": {}, "meta": {}, "messages": [{"sender": "a",\n\n'),
    ("hugeint.json", '{"chatlab": {}, "meta": {}, "messages": [{"sender": "a", '
                     '"timestamp": ' + "9" * 5000 + ', "type": 0, "content": "x"}]}'),
    ("list.json", '[{"chatlab": {}}]'),
    ("csv-bad-header.csv", "localId,TalkerId,Type\n1,2,3\n"),
    ("garbage.json", "{" + "\u2028" * 10 + "not json"),
    ("emoji.json", "😀" * 100),
])
def test_unusable_files_fail_with_one_line(workdir: Path, name: str, content: str) -> None:
    """A file that cannot be imported at all is one SourceError line naming it, never a crash."""
    encoding = "utf-16" if name.startswith("utf16") else "utf-8"
    path = workdir / name
    path.write_bytes(content.encode(encoding))
    with pytest.raises(SourceError) as info:
        read_all(path)
    assert one_line(str(info.value)) and str(info.value).startswith(str(path))


def test_nul_after_the_head_only_costs_its_own_line(workdir: Path) -> None:
    """Binary detection looks at the head; a NUL deep in the file is one bad line, not a crash."""
    filler = json.dumps({"_type": "message", "sender": "wxid_a", "timestamp": 1763640000,
                         "type": 0, "content": "填充" * 50}) + "\n"
    count = HEAD_SIZE // len(filler.encode()) + 2
    text = json.dumps(HEADER) + "\n" + filler * count + "\x00{\x00}\n" + filler
    path = write(workdir / "late-nul.jsonl", text)
    items = read_all(path)
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [line_of(r) for r in rejects] == [count + 2]
    assert sum(isinstance(i, MessageEvent) for i in items) == count + 1


BIG = 1_000_000


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_one_megabyte_message_is_read_whole(workdir: Path, fmt: str) -> None:
    """A 1 MB message (a pasted e-book, runaway XML) is one message like any other."""
    body = ("我家宝宝8个月了，有没有优惠？😀\u2028" * (BIG // 18 + 1))[:BIG]
    msg = {"sender": "wxid_a", "timestamp": 1763640000, "type": 0, "content": body}
    if fmt == "jsonl":
        text = json.dumps(HEADER) + "\n" + json.dumps({"_type": "message", **msg},
                                                      ensure_ascii=False) + "\n"
    elif fmt == "json":
        text = json.dumps({"chatlab": {}, "meta": HEADER["meta"], "messages": [msg]}, indent=1)
    else:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(
            [COLUMNS, ["1", "wxid_a", "1", "0", "0", "1763640000", "2", body, "", "", "", ""]])
        text = buf.getvalue()
    path = write(workdir / f"big.{fmt}", text)
    (item,) = read_all(path)
    assert isinstance(item, MessageEvent) and item.text == body


def test_one_megabyte_message_is_stored_whole_and_analysed_truncated(workdir: Path) -> None:
    """Over the limit: analysed on its first MAX_ANALYSED_CHARS characters, stored whole, and
    counted in the report, never dropped; a message exactly at the limit is not truncated."""
    from bot.app import App
    from handlers.ingest import MAX_ANALYSED_CHARS, Ingestor, IngestReport

    body = ("我家宝宝8个月了，有没有优惠？" * (BIG // 15 + 1))[:BIG]
    at_limit = ("太贵了" * MAX_ANALYSED_CHARS)[:MAX_ANALYSED_CHARS]
    lines = [json.dumps(HEADER)] + [
        json.dumps({"_type": "message", "sender": sender, "timestamp": 1763640000 + i,
                    "type": 0, "content": text, "platformMessageId": f"m{i}"},
                   ensure_ascii=False)
        for i, (sender, text) in enumerate([("wxid_duoduo", body), ("wxid_laozhou", at_limit)])]
    path = write(workdir / "one-mb.jsonl", "\n".join(lines) + "\n")
    app = App(Settings(db=f"sqlite:///{workdir / 'one-mb.db'}"))
    ingestor = Ingestor(app.store, app.analyzer, app.settings, app.labels)

    report = ingestor.finish(ingestor.ingest(open_source(path), IngestReport()))

    assert (report.new, report.truncated, report.rejects) == (2, 1, [])
    assert report.to_json()["truncated"] == 1
    stored = app.store.messages_by_id(["m0", "m1"])
    assert stored["m0"].text == body  # the full megabyte, character for character
    assert stored["m1"].text == at_limit
    ts = datetime.fromtimestamp(1763640000, UTC)
    signals = Signals.from_json(stored["m0"].signals)
    assert signals == app.analyzer.analyse(body[:MAX_ANALYSED_CHARS], "text", ts)
    assert "parenting" in signals.interests and "question" in signals.intents

    again = ingestor.ingest(open_source(path))  # re-import: nothing new, still not dropped
    assert (again.new, again.duplicate) == (0, 2)


# ---- normaliser and analyser ----------------------------------------------------------------
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\ufe0e\ufe0f]")


@HOSTILE
@given(text=hostile_text)
def test_normalise_any_text(text: str) -> None:
    """Clean text is trimmed, single-spaced and free of zero-width characters, whatever came in."""
    n = normalise(text)
    assert n.text == n.text.strip()
    assert not re.search(r"\s\s", n.text), repr(n.text)
    assert not _INVISIBLE.search(n.text), repr(n.text)
    assert n.emoji >= 0
    assert all(url and url in text for url in n.urls)
    assert all(m.strip() == m and m for m in n.mentions)


PURE_EMOJI = [e for e in EMOJI if not e.startswith(("[", "［"))] + ["[微笑]", "［捂脸］"]


@HOSTILE
@given(parts=st.lists(st.sampled_from(PURE_EMOJI), min_size=1, max_size=30),
       spaces=st.lists(st.sampled_from(["", " ", "\u3000", "\u200b"]), min_size=30,
                       max_size=30))
def test_emoji_only_message_has_no_words_and_counts_each_emoji(parts: list[str],
                                                               spaces: list[str]) -> None:
    text = "".join(p + s for p, s in zip(parts, spaces, strict=False))
    n = normalise(text)
    assert n.text == ""
    assert n.emoji == len(parts)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    from persona.text import make_tokenizer

    lexicon = default_lexicon()
    return Analyzer(lexicon, make_tokenizer("auto", lexicon.user_words()))


offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m)))
aware_datetimes = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                               timezones=st.one_of(st.just(UTC), offsets, st.timezones()))
msg_types = st.one_of(st.sampled_from([t.value for t in MessageType]), st.text(max_size=12))
TAXONOMY = {i.code for i in default_lexicon().interests}


@HOSTILE
@given(text=st.one_of(st.none(), hostile_text), msg_type=msg_types, ts=aware_datetimes)
def test_analyse_anything(analyzer: Analyzer, text: str | None, msg_type: str,
                          ts: datetime) -> None:
    """Any text × any type × any aware time: signals within the documented codes, storable."""
    sig = analyzer.analyse(text, msg_type, ts)
    assert set(sig.intents) <= set(INTENT_CODES) and len(set(sig.intents)) == len(sig.intents)
    assert set(sig.interests) <= TAXONOMY
    assert set(sig.motivations) <= set(MOTIVATION_CODES)
    assert all(0 < v <= MAX_SCORE for v in [*sig.interests.values(),
                                             *sig.motivations.values()])
    assert sig.content is None or sig.content in CONTENT_CODES
    assert set(sig.attributes) <= set(ATTRIBUTE_FIELDS)
    assert len(sig.keywords) <= MAX_KEYWORDS and all(k.strip() for k in sig.keywords)
    stored = json.loads(json.dumps(sig.to_json(), ensure_ascii=False))
    assert Signals.from_json(stored) == sig


# ---- dispatcher: command parsing -------------------------------------------------------------
MANAGER, OPERATOR, MEMBER = "王经理", "运营小美", "朵朵妈"
MANAGERS_GROUP = "managers@chatroom"
MEMBER_GROUP = "baoma@chatroom"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeTransport(RecordingSends):
    """Records what would be sent; never touches a network."""

    name: str = "fake"
    self_id: str | None = "小禾助手"
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def run(self, on_event: Any) -> None:  # pragma: no cover - not used here
        return None


    async def stop(self) -> None:
        return None


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Harness:
    dispatchers: dict[str, Dispatcher]
    transport: FakeTransport
    ingested: list[MessageEvent]
    audits: list[Audit]
    errors: _Errors
    names: frozenset[str]


@dataclass
class RecordingLive:
    """The live use case's place in the dispatcher: records what would be ingested."""

    ingested: list[MessageEvent]

    def on_message(self, event: MessageEvent) -> list[Outgoing]:
        self.ingested.append(event)
        return []

    def on_join(self, event: JoinEvent) -> list[Outgoing]:
        return []


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """The real command routers over a small database; ingest itself is a no-op recorder."""
    from bot.app import App
    from bot.roles import Roles
    from bot.routers import manager, member, operator, staff
    from bot.routers.context import BotContext
    from handlers.ingest import Ingestor

    db = tmp_path_factory.mktemp("dispatch") / "bot.db"
    app_settings = Settings(db=f"sqlite:///{db}")
    app = App(app_settings)
    seed = [MessageEvent(id=f"seed-{i}", ts=NOW - timedelta(days=i), chat=MEMBER_GROUP,
                         sender=sender, type=MessageType.TEXT, text=text, is_group=True,
                         sender_name=sender)
            for i, (sender, text) in enumerate([
                (MEMBER, "我家宝宝8个月了，有没有优惠？"), ("老周", "快递还没到，太慢了"),
                (MEMBER, "这款奶粉太贵了"), ("小张", "周末一起去吃火锅吧")])]
    ingestor = Ingestor(app.store, app.analyzer, app_settings, app.labels)
    ingestor.finish(ingestor.ingest(seed))

    roles = Roles.of([MANAGER], [OPERATOR])
    context = BotContext(app, app_settings, roles)
    transport = FakeTransport()
    ingested: list[MessageEvent] = []
    audits: list[Audit] = []
    dispatchers = {}
    for prefix in ("/", "！", "小禾 "):
        d = Dispatcher(transport, roles, RecordingLive(ingested), prefix, [MANAGERS_GROUP],
                       audit=audits.append, clock=lambda: NOW)
        d.include_router(member.make_router(context))
        d.include_router(staff.make_router(context, manager.segment_describer(context)))
        d.include_router(operator.make_router(context))
        d.include_router(manager.make_router(context))
        dispatchers[prefix] = d
    names = frozenset(n for c in dispatchers["/"]._commands.values() for n in c.names)
    errors = _Errors()
    logger = logging.getLogger("siyu.dispatcher")
    logger.addHandler(errors)
    try:
        yield Harness(dispatchers, transport, ingested, audits, errors, names)
    finally:
        logger.removeHandler(errors)


SLOW_COMMANDS = {"报告", "report"}  # renders a chart; covered once, not per example


@st.composite
def command_text(draw: st.DrawFn, names: Sequence[str]) -> str:
    """What follows the prefix: a real command with hostile arguments, or anything at all."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.text(ANY_CHAR, max_size=30))
    name = draw(st.sampled_from(sorted(names)))
    if draw(st.booleans()):
        name = name.upper()
    sep = draw(st.sampled_from([" ", "\u2005", "\t", "\u3000", "  "]))
    args = draw(st.lists(st.one_of(
        st.sampled_from([f"@{MEMBER}", "@小张", "@", "@@", "#12", "12", "+高意向", "-高意向",
                         "+", "new", "declining", "c1", "price", *NUMERIC_TRAPS]),
        hostile_text), max_size=4))
    return name + sep + " ".join(args)


def _is_command(text: str, prefix: str, names: frozenset[str]) -> bool:
    """The contract: the first word after the prefix names a command (else it is chat)."""
    text = text.strip()
    if not text.startswith(prefix) or len(text) <= len(prefix):
        return False
    words = text[len(prefix):].replace("\u2005", " ").split()
    return bool(words) and (words[0] in names or words[0].lower() in names)


@settings(HOSTILE, max_examples=120)
@given(data=st.data(), prefix=st.sampled_from(["/", "！", "小禾 "]),
       sender=st.sampled_from([MANAGER, OPERATOR, MEMBER, "老周", "陌生人"]),
       chat=st.sampled_from([MEMBER_GROUP, MANAGERS_GROUP, None]),
       mentions=st.lists(st.sampled_from([MEMBER, "老周", "nobody", ""]), max_size=2))
def test_dispatcher_command_parsing(harness: Harness, data: st.DataObject, prefix: str,
                                    sender: str, chat: str | None,
                                    mentions: list[str]) -> None:
    """Random text after the prefix: no handler crash, commands never ingested, chat always
    ingested once, refusals audited, and nothing is ever said into a member group."""
    body = data.draw(command_text(sorted(harness.names - SLOW_COMMANDS)))
    text = prefix + body
    is_group = chat is not None
    event = MessageEvent(id="fuzz", ts=NOW, chat=chat or sender, sender=sender,
                         type=MessageType.TEXT, text=text, is_group=is_group,
                         sender_name=sender, mentions=tuple(mentions))
    harness.transport.sent.clear()
    harness.ingested.clear()
    harness.audits.clear()
    harness.errors.records.clear()

    asyncio.run(harness.dispatchers[prefix].feed(event))

    assert harness.errors.records == [], [r.getMessage() for r in harness.errors.records]
    command = _is_command(text, prefix, harness.names)
    assert harness.ingested == ([] if command else [event])
    assert len(harness.audits) == (1 if command else 0)
    if command:
        (audit,) = harness.audits
        assert audit.actor == sender and one_line(audit.command)
    staff = {MANAGER, OPERATOR}
    for kind, to, _ in harness.transport.sent:
        if kind == "group":
            assert to == MANAGERS_GROUP, f"spoke into a member group: {to}"
        else:
            assert to == sender or to in staff, (kind, to)
    if command and sender not in staff and harness.audits[0].command not in (
            "我的数据", "退出", "删除"):
        assert not harness.audits[0].allowed
        ((_, to, reply),) = harness.transport.sent
        # A refusal goes back privately; only the configured managers' group is answered in.
        assert to == (MANAGERS_GROUP if chat == MANAGERS_GROUP else sender)
        assert reply.startswith("抱歉") and one_line(reply)


def test_dispatcher_report_command_once(harness: Harness) -> None:
    """The chart-rendering command, kept out of the fuzz loop for time, with hostile args."""
    for text in ("/报告 " + "9" * 5000, "/REPORT \u2028\x85 @@"):
        harness.errors.records.clear()
        event = MessageEvent(id="r", ts=NOW, chat=MANAGER, sender=MANAGER,
                             type=MessageType.TEXT, text=text, sender_name=MANAGER)
        asyncio.run(harness.dispatchers["/"].feed(event))
        assert harness.errors.records == []


@pytest.mark.parametrize("number", ["9" * 30, "9" * 5000])
def test_feedback_command_with_a_huge_number(harness: Harness, number: str) -> None:
    harness.errors.records.clear()
    harness.transport.sent.clear()
    event = MessageEvent(id="n", ts=NOW, chat=OPERATOR, sender=OPERATOR, type=MessageType.TEXT,
                         text=f"/已发 {number}", sender_name=OPERATOR)
    asyncio.run(harness.dispatchers["/"].feed(event))
    assert harness.errors.records == []
    assert [to for _, to, _ in harness.transport.sent] == [OPERATOR]
