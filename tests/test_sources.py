"""File sources, format-independent parts: paths, detection, files that cannot be read at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.sources import FORMATS, Source, SourceError, detect_format, expand_paths, open_source
from handlers.events import MessageEvent, Reject

DATA = Path(__file__).parent / "data"
CSV_HEADER = ("localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,"
              "Remark,NickName,Sender")


def one_line(exc: pytest.ExceptionInfo[SourceError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ---- expand_paths --------------------------------------------------------------------------

def test_formats_contract() -> None:
    assert FORMATS == ("auto", "chatlab", "wechatmsg-csv")


def test_folder_expands_recursively_sorted_and_filtered(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / "b" / "c.CSV").write_text("x", encoding="utf-8")
    (tmp_path / "b" / "d.json").write_text("{}", encoding="utf-8")
    (tmp_path / "readme.txt").write_text("说明", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".hidden.csv").write_text("x", encoding="utf-8")
    assert expand_paths([tmp_path]) == [
        tmp_path / "a.jsonl", tmp_path / "b" / "c.CSV", tmp_path / "b" / "d.json"]


def test_files_are_kept_as_given_and_once(tmp_path: Path) -> None:
    notes = DATA / "notes.txt"
    group = DATA / "chatlab_group.json"
    result = expand_paths([str(notes), group, DATA])
    assert result[0] == notes  # a file given by name is kept, whatever its extension
    assert result[1] == group
    assert result.count(group) == 1  # not again from the folder
    assert DATA / "wechatmsg_group.csv" in result
    assert DATA / "notes.txt" not in result[2:]


def test_missing_path_is_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "没有这个文件.json"
    with pytest.raises(SourceError) as exc:
        expand_paths([DATA / "chatlab_group.json", missing])
    assert one_line(exc) == f"{missing}: 文件或文件夹不存在"


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("x", encoding="utf-8")
    with pytest.raises(SourceError) as exc:
        expand_paths([tmp_path])
    assert one_line(exc).startswith(f"{tmp_path}: 文件夹里没有可导入的文件")


# ---- detect_format ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "fmt"), [
    ("chatlab_group.json", "chatlab"),
    ("chatlab_minified.json", "chatlab"),
    ("chatlab_private.jsonl", "chatlab"),
    ("chatlab_mixed.jsonl", "chatlab"),  # starts with a comment line and a message, no header
    ("exported_chat.txt", "chatlab"),  # JSONL under a .txt name
    ("wechatmsg_group.csv", "wechatmsg-csv"),
    ("wechatmsg_private_old.csv", "wechatmsg-csv"),  # old 9-column header, no BOM
])
def test_detect_by_content(name: str, fmt: str) -> None:
    assert detect_format(DATA / name) == fmt


def test_detect_ignores_extension(tmp_path: Path) -> None:
    csv_as_json = tmp_path / "export.json"
    shutil.copy(DATA / "wechatmsg_group.csv", csv_as_json)
    assert detect_format(csv_as_json) == "wechatmsg-csv"
    jsonl_as_csv = tmp_path / "export.csv"
    shutil.copy(DATA / "chatlab_private.jsonl", jsonl_as_csv)
    assert detect_format(jsonl_as_csv) == "chatlab"
    assert open_source(jsonl_as_csv).format == "chatlab"


@pytest.mark.parametrize("content", [
    "运营周会纪要\n1. 宝妈群团购转化率 12%\n",
    '{"name": "siyu", "version": "1.0.0", "dependencies": {}}\n',  # some other JSON
    "member,order_id,ts,amount\nwxid_a,1001,2024-03-08,59.0\n",  # an orders CSV
    "[1, 2, 3]\n",
])
def test_unknown_content_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "notes.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as exc:
        detect_format(path)
    assert one_line(exc) == f"{path}: 无法识别的格式（支持 chatlab JSON/JSONL、wechatmsg CSV）"
    with pytest.raises(SourceError) as exc2:
        open_source(path)
    assert str(exc2.value) == str(exc.value)


def test_notes_txt_is_refused() -> None:
    with pytest.raises(SourceError, match=r"notes\.txt: 无法识别的格式"):
        open_source(DATA / "notes.txt")


# ---- files that cannot be read ---------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    with pytest.raises(SourceError) as exc:
        open_source(path)
    assert one_line(exc) == f"{path}: 文件不存在"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as exc:
        open_source(tmp_path)
    assert one_line(exc) == f"{tmp_path}: 是文件夹，不是文件"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "chat.jsonl"
    shutil.copy(DATA / "chatlab_private.jsonl", path)
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(SourceError) as exc:
        open_source(path)
    assert one_line(exc) == f"{path}: 没有读取权限"


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "是二进制文件，不是聊天记录导出"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "是 ZIP/Excel 文件"),
    ("localId,TalkerId\n".encode("utf-16"), "是 UTF-16 编码"),
    (b"SQLite format 3\x00" + b"\x00" * 100, "是二进制文件"),
])
def test_binary_files(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "chat.csv"
    path.write_bytes(data)
    with pytest.raises(SourceError) as exc:
        open_source(path)
    assert one_line(exc).startswith(f"{path}: {reason}")


def test_gbk_csv_is_refused_with_line(tmp_path: Path) -> None:
    path = tmp_path / "宝妈群.csv"
    text = (CSV_HEADER + "\r\n"
            "1,123@chatroom,1,0,0,1700443800,2,团购的牛奶到了吗,2023-11-20 09:30:00,,"
            "张丽,wxid_z\r\n")
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(SourceError) as exc:
        open_source(path)
    assert one_line(exc) == (
        f"{path}:2: 不是 UTF-8 编码（看起来是 GBK 编码，请用 UTF-8 重新导出或另存为 UTF-8）")


def test_one_gbk_row_deep_in_a_big_utf8_file_is_one_reject(tmp_path: Path) -> None:
    """A row pasted in from a GBK tool costs that row, not the 40,000 around it (issue 16)."""
    path = tmp_path / "big.csv"
    good = "1,123@chatroom,1,0,0,1700443800,2,好的,2023-11-20 09:30:00,,张丽,wxid_z\n"
    rows = 40_000  # > 1 MiB, beyond both the sniffed head and the first read block
    with path.open("wb") as fh:
        fh.write((CSV_HEADER + "\n").encode("utf-8"))
        fh.write(good.encode("utf-8") * rows)
        fh.write(good.replace("好的", "收到谢谢").encode("gbk"))
        fh.write(good.replace("好的", "最后一条").encode("utf-8"))
    found = list(open_source(path))
    assert [str(r) for r in found if isinstance(r, Reject)] == [
        f"{path}:{rows + 2}: 不是 UTF-8 编码（看起来是 GBK 编码，"
        "请用 UTF-8 重新导出或另存为 UTF-8）"]
    texts = [m.text for m in found if isinstance(m, MessageEvent)]
    assert len(texts) == rows + 1 and texts[-1] == "最后一条"


def test_gbk_jsonl_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_bytes(
        b'{"_type":"header","meta":{"name":"x","type":"group"}}\n'
        + '{"_type":"message","sender":"a","timestamp":1,"type":0,"content":"团购"}\n'
        .encode("gbk"))
    with pytest.raises(SourceError, match=r"chat\.jsonl:2: 不是 UTF-8 编码"):
        open_source(path)


def test_unknown_format_argument() -> None:
    with pytest.raises(SourceError, match="未知的格式 'xlsx'"):
        open_source(DATA / "chatlab_group.json", "xlsx")


# ---- empty files, explicit formats, the Source object ------------------------------------------

@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n  \r\n"])
@pytest.mark.parametrize("name", ["chat.json", "chat.jsonl", "chat.csv"])
def test_empty_file_yields_one_reject(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    source = open_source(path)
    assert source.format == ("wechatmsg-csv" if name.endswith(".csv") else "chatlab")
    assert list(source) == [Reject(str(path), "文件为空，没有可导入的内容")]
    with pytest.raises(SourceError, match="文件为空"):
        detect_format(path)


def test_explicit_format_skips_sniffing(tmp_path: Path) -> None:
    source = open_source(DATA / "exported_chat.txt", "chatlab")
    assert source.format == "chatlab"
    assert sum(isinstance(i, MessageEvent) for i in source) == 6
    with pytest.raises(SourceError) as exc:
        open_source(DATA / "chatlab_group.json", "wechatmsg-csv")
    assert one_line(exc).startswith(f"{DATA / 'chatlab_group.json'}:1: 表头缺少列 TalkerId")


def test_origins_use_the_path_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent)
    items = list(open_source(Path("data/chatlab_private.jsonl")))
    assert items[0].origin == "data/chatlab_private.jsonl:3"


def test_source_reads_again_on_each_iteration() -> None:
    for name in ("chatlab_group.json", "chatlab_private.jsonl", "wechatmsg_group.csv"):
        source = open_source(DATA / name)
        assert isinstance(source, Source)
        first, second = list(source), list(source)
        assert first == second and first
        assert source.total == len(first)


# ---- json_line: orjson when installed, always the standard library's result ----------------

TRICKY_LINES = [
    '{"_type": "message", "sender": "wxid_a", "timestamp": 1763640000, "content": "好的"}',
    '{"sender": 123456789012345678901234567890}',  # beyond 64 bits: orjson would give a float
    '{"timestamp": 18446744073709551616}',
    '{"timestamp": -9223372036854775809}',
    '{"timestamp": 1763640000.5, "x": 1e2, "y": -0.0, "z": 5e-324}',
    '{"a": NaN, "b": Infinity, "c": -Infinity}',  # the standard library takes these
    '{"a": 1, "b": 2, "a": 3}',  # repeated key: last value, first position
    '{"content": "\\ud800"}',  # a lone surrogate escape
    '{"content": "\\ud83d\\ude00 \\u0000 \\u00e9"}',
    "[" * 50 + "]" * 50,
    '{"a": [[[{"b": [1, 2, 1e3]}]]]}',  # a float deep inside
]


def test_json_line_takes_nesting_deeper_than_the_recursion_limit() -> None:
    """orjson accepts 1,000 levels; looking for floats in them must not recurse."""
    import json
    import sys

    from bot.sources.common import json_line

    line = "[" * 1000 + "1" + "]" * 1000
    if getattr(sys.modules["bot.sources.common"], "_orjson_loads", None) is None:
        pytest.skip("orjson not installed")
    value = json_line(line)
    for _ in range(1000):
        value = value[0]
    assert value == 1
    with pytest.raises(RecursionError):
        json.loads(line)  # why the standard library alone cannot be the reference here


@pytest.mark.parametrize("line", TRICKY_LINES)
def test_json_line_gives_exactly_what_json_loads_gives(line: str) -> None:
    import json
    import math

    from bot.sources.common import json_line

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
            return math.isnan(b)
        if isinstance(a, dict) and isinstance(b, dict):
            return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return type(a) is type(b) and (a == b) and repr(a) == repr(b)

    assert same(json_line(line), json.loads(line))


@pytest.mark.parametrize("line", ['{"a": 1', '{"a": 1}}', "", '{"a": tru}', "{'a': 1}"])
def test_json_line_errors_are_the_standard_librarys(line: str) -> None:
    import json

    from bot.sources.common import json_line

    with pytest.raises(json.JSONDecodeError) as ours:
        json_line(line)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(line)
    assert (type(ours.value), str(ours.value), ours.value.colno) == (
        type(theirs.value), str(theirs.value), theirs.value.colno)


def test_without_orjson_lines_still_parse(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    """The `fast` extra is optional: the standard library reads the same file the same way."""
    import bot.sources.common as common

    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join([
        '{"_type": "header", "chatlab": {"version": "0.0.2"}, "meta": {"name": "群", '
        '"type": "group", "groupId": "g1@chatroom"}}',
        '{"_type": "message", "sender": "wxid_a", "timestamp": 1763640000, "type": 0, '
        '"content": "有没有优惠？", "platformMessageId": "m1"}',
        '{"_type": "message", "sender": 123456789012345678901234567890, '
        '"timestamp": 1763640001, "type": 0, "content": "好的"}',
        '{"_type": "message", "sender": "wxid_b", "timestamp": NaN, "type": 0}',
        '{"_type": "message", "sender": "wxid_b", "timestamp": 1763640002, "type": 0',
    ]) + "\n", encoding="utf-8")

    def items() -> list[object]:
        return [(type(i).__name__, getattr(i, "id", None), getattr(i, "sender", None),
                 str(i) if isinstance(i, Reject) else None)
                for i in open_source(path)]

    fast = items()
    monkeypatch.setattr(common, "_orjson_loads", None)
    assert items() == fast
    assert [kind for kind, *_ in fast] == ["MessageEvent", "MessageEvent", "Reject", "Reject"]
    assert fast[1][2] == "123456789012345678901234567890"  # an int id, never a float's repr
