"""The ChatLab JSON reader streams: a window of text over the file, never the whole document.

What it must keep from the reader that loaded the document whole: the same items whatever
the window's size (so a block boundary inside a string, an escape, a number or a multi-byte
character changes nothing), json.loads' own error for a broken document (message, line and
column), and only a few blocks of memory however big the file.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sources import SourceError, encoding, json_stream, open_source
from bot.sources.encoding import ByteScan, scanned_lines, utf8_scan
from handlers.events import MemberInfo, MessageEvent, Reject, SourceItem

DATA = Path(__file__).parent / "data"
DEEP = "[" * 5000 + "]" * 5000


def msg(i: int, text: str = "有没有优惠？") -> dict[str, object]:
    return {"sender": f"wxid_{i % 3}", "accountName": f"成员{i % 3}",
            "timestamp": 1763640000 + i, "type": 0, "content": f"{text}{i}"}


def doc(messages: list[object], indent: int | None = None, **extra: object) -> str:
    top: dict[str, object] = {"chatlab": {"version": "0.0.2"},
                              "meta": {"name": "宝妈群", "type": "group"}}
    top.update(extra)
    top["messages"] = messages
    return json.dumps(top, ensure_ascii=False, indent=indent)


def shown(items: list[SourceItem]) -> list[object]:
    return [str(i) if isinstance(i, Reject) else i for i in items]


def read(path: Path) -> tuple[int | None, list[object]] | str:
    """(total, items), or the SourceError's text."""
    try:
        source = open_source(path)
        return source.total, shown(list(source))
    except SourceError as exc:
        return str(exc)


@pytest.fixture(params=[1, 3, 7, 64])
def tiny_blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Blocks of a few bytes: every value crosses block boundaries somewhere."""
    monkeypatch.setattr(json_stream, "BLOCK", request.param)
    monkeypatch.setattr(encoding, "_CHUNK", request.param)
    return int(request.param)


DOCUMENTS: dict[str, str] = {
    "indented": doc([msg(i) for i in range(6)], indent=2),
    "minified": doc([msg(i) for i in range(6)]),
    "escapes": json.dumps(json.loads(doc([msg(1, "😀\u2028\"\\/\t"), msg(2, "x\\ud800y")])),
                          indent=1),
    "lone surrogate escape": doc([msg(1)], indent=1).replace("有没有优惠？", "\\udc80半个"),
    "members last, meta after messages": json.dumps(
        {"chatlab": {}, "messages": [msg(1), msg(2)], "meta": {"name": "后置", "type": "group"},
         "members": [{"platformId": "wxid_1", "accountName": "阿花"}, {"bad": 1}]},
        ensure_ascii=False, indent=1),
    "repeated keys": '{"messages": [1, 2, 3],\n "meta": {"name": "一"},\n "messages": [\n'
                     + json.dumps(msg(5), ensure_ascii=False) + '],\n"meta": {"name": "二"}}',
    "deep element": '{"meta": {},\n"messages": [\n' + ",\n".join(
        [json.dumps(msg(1)), DEEP, '{"a": "[\\"" , "b": ' + DEEP + "}", json.dumps(msg(2))])
                    + "\n]}",
    "numbers and literals": doc([{**msg(1), "timestamp": 1763640000.5},
                                 {**msg(2), "timestamp": "1763640001"}, 12345678901234567890,
                                 -1.5e3, True, None, {"sender": "a", "timestamp": 9 ** 200}],
                                indent=1),
    "whitespace everywhere": ' \r\n\t{ "meta" :\n{ } , "messages"\t:\r\n[ \n'
                             + " ,\n\n ".join(json.dumps(msg(i)) for i in range(4))
                             + "\n\n ] }\n\n",
    "members not a list": doc([msg(1)], members={"wxid_a": "阿花"}),
    "empty arrays": doc([], members=[]),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_any_block_size_reads_the_same_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             name: str) -> None:
    path = tmp_path / "chat.json"
    path.write_bytes(b"\xef\xbb\xbf" + DOCUMENTS[name].encode("utf-8"))
    want = read(path)
    assert not isinstance(want, str), want
    for block in (1, 2, 5, 13, 100):
        monkeypatch.setattr(json_stream, "BLOCK", block)
        assert read(path) == want, block


def test_members_first_and_the_meta_wherever_it_is(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(DOCUMENTS["members last, meta after messages"], encoding="utf-8")
    source = open_source(path)
    found = list(source)
    assert source.total == 4
    assert [type(i) for i in found] == [MemberInfo, Reject, MessageEvent, MessageEvent]
    assert {i.chat_name for i in found if isinstance(i, MessageEvent)} == {"后置"}
    # The origins are the lines each element starts on, members' too.
    lines = DOCUMENTS["members last, meta after messages"].split("\n")
    for item in found:
        line = int(item.origin.rsplit(":", 1)[1])
        assert lines[line - 1].strip().startswith("{"), (item, lines[line - 1])


def test_the_last_of_a_repeated_key_wins(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(DOCUMENTS["repeated keys"], encoding="utf-8")
    source = open_source(path)
    (event,) = list(source)
    assert source.total == 1
    assert isinstance(event, MessageEvent)
    assert (event.chat_name, event.text, event.origin) == ("二", "有没有优惠？5", f"{path}:4")


# ---- broken documents: json.loads' own words --------------------------------------------------
def broken(text: str) -> Iterator[str]:
    """Every way to cut, drop a character from or splice a character into `text`."""
    for at in range(len(text)):
        yield text[:at]
        yield text[:at] + text[at + 1:]
        for char in ',]}:"x0 ':
            yield text[:at] + char + text[at:]


SMALL = ('{"chatlab": {"v": 1},\n "meta": {"name": "群"},\n "members": [],\n "messages": [\n'
         '  {"sender": "a", "timestamp": 1, "type": 0, "content": "好\\n的"},\n  [1.5e3, null]\n]}')


def expected(text: str, path: Path) -> str | None:
    """The error json.loads makes of `text`, as the reader words it; None if it parses."""
    try:
        json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        return f"{path}:{exc.lineno}:{exc.colno}: 不是有效的 JSON（{exc.msg}）"
    return None


def test_a_broken_document_fails_as_json_loads_says(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "chat.json"
    checked = 0
    for n, text in enumerate(broken(SMALL)):
        if not text.strip() or not text.lstrip().startswith("{"):
            continue  # an empty file, or one no longer sniffed as ChatLab
        want = expected(text, path)
        if want is None:
            continue
        monkeypatch.setattr(json_stream, "BLOCK", (1, 4, 1 << 20)[n % 3])
        path.write_text(text, encoding="utf-8")
        try:
            open_source(path, "chatlab")
        except SourceError as exc:
            assert str(exc) == want, (text, n % 3)
        else:
            raise AssertionError(f"opened: {text!r}")
        checked += 1
    assert checked > 800  # 889 when written


@pytest.mark.parametrize("text", [
    '{"chatlab": {}, "meta": {}, "messages": []} trailing',
    '{"messages": [' + '{"a": "' + "长" * 5000 + '"}, ' * 3 + "]}",
    '{"messages": [{"a": "\\u12"}]}',
    '{"messages": [1, 2,\n\n   ]}',
    '{"messages": [1 2]}',
    '{"messages": []\n,}',
    '{"meta": {"x": tru}, "messages": []}',
    '{"messages": [-]}',
    '{"messages": [' + "1" * 50 + "x]}",
    '{"messages": ["' + "x" * 3000,
])
def test_errors_at_block_boundaries(tmp_path: Path, tiny_blocks: int, text: str) -> None:
    path = tmp_path / "chat.json"
    path.write_text(text, encoding="utf-8")
    want = expected(text, path)
    assert want is not None
    with pytest.raises(SourceError) as exc:
        open_source(path, "chatlab")
    assert str(exc.value) == want


def test_not_an_object_and_too_deep_are_refused_whole(tmp_path: Path, tiny_blocks: int) -> None:
    path = tmp_path / "chat.json"
    for text, reason in (
            ('[{"chatlab": {}}]', "不是 ChatLab JSON（顶层应为对象，含 chatlab、meta、messages）"),
            ('{"meta": ' + DEEP + ', "messages": []}', "不是有效的 JSON（嵌套层数过多）"),
            ('{"messages": [' + "[" * 5000 + "]}", "不是有效的 JSON（嵌套层数过多）"),
            ('{"messages": [' + "9" * 5000 + "]}",
             "不是有效的 JSON（Exceeds the limit (4300 digits) for integer string conversion: "
             "value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit）")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SourceError) as exc:
            open_source(path, "chatlab")
        assert str(exc.value) == f"{path}: {reason}"


def test_bytes_that_are_not_utf8_across_blocks(tmp_path: Path, tiny_blocks: int) -> None:
    """A bad byte or a character cut by a block boundary is the same one reject."""
    good = [json.dumps(msg(i), ensure_ascii=False).encode() for i in range(4)]
    bad = good[2].replace("优惠".encode(), "优惠".encode("gbk"))
    data = b'{"meta": {"name": "\xe7\xbe\xa4"},\n"messages": [\n' + b",\n".join(
        [good[0], good[1], bad, good[3]]) + b"\n]}"
    path = tmp_path / "chat.json"
    path.write_bytes(data)
    found = list(open_source(path))
    assert [str(r) for r in found if isinstance(r, Reject)] == [
        f"{path}:5: 不是 UTF-8 编码（看起来是 GBK 编码，请用 UTF-8 重新导出或另存为 UTF-8）"]
    assert [m.text for m in found if isinstance(m, MessageEvent)] == [
        "有没有优惠？0", "有没有优惠？1", "有没有优惠？3"]


def test_scanned_lines_gathers_a_long_line_once(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The same lines and findings whatever the block size, lines longer than a block too."""
    data = (b"\xef\xbb\xbfshort\n" + "长".encode() * 40 + b"\n\xff\xfe bad\n"
            + "团购".encode("gbk") + b"\nlast \xe4\xb8")
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    results = []
    for chunk in (1, 2, 5, 64, 1 << 20):
        monkeypatch.setattr(encoding, "_CHUNK", chunk)
        scan = ByteScan()
        results.append((list(scanned_lines(path, scan)), scan))
        assert utf8_scan(path) == scan
    assert all(r == results[-1] for r in results)
    lines, scan = results[-1]
    assert lines[0] == b"short" and len(lines) == 5
    assert (scan.bad_lines, scan.first_bad and scan.first_bad[0], scan.cut_at_end) == (3, 3, True)


def test_a_utf8_file_needs_no_line_scan(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(doc([msg(1)]), encoding="utf-8")
    assert utf8_scan(path) is None


# ---- incremental: the first message before the file is read, a few blocks of memory ----------
def big_document(path: Path, messages: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"chatlab": {}, "meta": {"name": "大群", "type": "group"}, "messages": [')
        fh.write(",".join(json.dumps(msg(i, "团购的牛奶什么时候到？" * 3), ensure_ascii=False)
                          for i in range(messages)))
        fh.write("]}")


def test_the_first_message_comes_before_the_file_is_read(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_stream, "BLOCK", 4096)
    path = tmp_path / "big.json"
    big_document(path, 5000)
    size = path.stat().st_size
    windows: list[json_stream.JsonWindow] = []
    real_init = json_stream.JsonWindow.__init__

    def remember(self: json_stream.JsonWindow, *args: object) -> None:
        real_init(self, *args)  # type: ignore[arg-type]
        windows.append(self)

    monkeypatch.setattr(json_stream.JsonWindow, "__init__", remember)
    source = open_source(path)
    assert source.total == 5000
    items = iter(source)
    first = next(items)
    assert isinstance(first, MessageEvent) and first.text == "团购的牛奶什么时候到？" * 3 + "0"
    assert first.origin == f"{path}:messages[0]"
    reading = windows[-1]
    assert reading.fh.tell() <= 3 * 4096 < size // 20
    assert sum(1 for _ in items) == 4999


def test_reading_holds_a_few_blocks_not_the_document(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening and iterating a 2.4 MB document (items dropped as they come) allocates a few
    blocks at any moment (0.3 MB with 16 KiB blocks when written); the reader that loaded
    the document whole peaked at 15 MB on the same file."""
    monkeypatch.setattr(json_stream, "BLOCK", 16 * 1024)
    monkeypatch.setattr(encoding, "_CHUNK", 16 * 1024)
    path = tmp_path / "big.json"
    big_document(path, 12_000)
    size = path.stat().st_size
    assert size > 2_000_000
    tracemalloc.start()
    try:
        source = open_source(path)
        for _ in source:
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size // 4, (peak, size)
