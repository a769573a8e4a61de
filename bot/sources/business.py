"""Business-data CSV files (orders, content events, id links) → typed rows or `Reject`s.

Translation only: this module knows column names, date and money spellings, and Excel's
habits; it never looks at the database. Who a `member` value is, whether an order id is
already stored, and duplicates across the file are the importer's business
(`handlers/business.py`), because they need storage or the whole file.

Operators make these files in Excel, and Excel on a Chinese Windows saves "CSV" in GBK and
"Unicode 文本" as UTF-16 with tabs between the cells: a file that is GBK as a whole (no UTF-8
text in it, every other line reads as GBK) is read as GB18030, and a UTF-16 file (its BOM)
as UTF-16; a header with tabs and no comma is split on tabs (`_text_format`). Chat exports
still refuse such files: their exporters write UTF-8, so another encoding there means a
re-save that may have changed more than the bytes.

Two rules, as for chat exports:
- what makes the whole file unusable — empty, no header, a required column missing, a
  `--map` naming a column the header does not have — is a `SourceError`, one line, raised
  when the file is opened, before anything is imported;
- a bad row is a `Reject` naming ``path:LINE`` (the physical line, quoted line breaks counted)
  and the field at fault, and the rest of the file goes on. A row holding bytes that are not
  UTF-8 (one row pasted from a GBK tool into a UTF-8 file) is such a row: the file is read
  with surrogateescape and the row rejected naming the field (bot/sources/encoding.py).

Real exports name columns their own way (下单时间, 实付金额 …), so every file is read through a
column map: `--map 下单时间=ts` says which column holds which field; without one, the names shop
back-ends use are recognised (business_fields.py: `COLUMN_NAMES`) and the CLI lists them.
Reasons name the field and, when mapped, the column as the operator sees it:
``ts（列「下单时间」）``.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TextIO, TypeVar
from zoneinfo import ZoneInfo

from bot.sources.business_fields import (
    COLUMN_NAMES,
    SCIENTIFIC,
    parse_amount,
    parse_duration,
    parse_flag,
    parse_time,
)
from bot.sources.common import (
    BadItem,
    SourceError,
    check_head,
    csv_rows,
    read_head,
    short,
)
from bot.sources.csv_records import csv_records
from bot.sources.encoding import ESCAPED, ByteScan, escaped_reason, scanned_lines
from handlers.events import Reject
from handlers.rows import EventRow, LinkRow, OrderRow, normalize_phone
from persona.commerce import CONTENT_ACTIONS, CONTENT_TYPES, ContentEventRecord

ORDER_FIELDS = ("member", "order_id", "ts", "amount", "category", "coupon_used")
ORDER_REQUIRED = ("member", "order_id", "ts", "amount")
EVENT_FIELDS = ("member", "ts", "content_type", "action", "duration")
EVENT_REQUIRED = ("member", "ts", "content_type", "action")
LINK_FIELDS = ("external_id", "phone", "member")
LINK_REQUIRED = ("member",)

_SHANGHAI = ZoneInfo("Asia/Shanghai")

CONTENT_TYPE_ALIASES: dict[str, str] = {
    **{c: c for c in CONTENT_TYPES},
    "文章": "article", "图文": "article", "推文": "article",
    "视频": "video", "短视频": "video",
    "直播": "live",
}
ACTION_ALIASES: dict[str, str] = {
    **{a: a for a in CONTENT_ACTIONS},
    "浏览": "view", "阅读": "view", "观看": "view",
    "点击": "click",
    "分享": "share", "转发": "share",
    "评论": "comment", "留言": "comment",
}

_MAP_SPLIT = re.compile(r"[,，;；\s]+")

T = TypeVar("T")


class MapError(ValueError):
    """A `--map` argument that cannot be used; str() is the one-line reason."""


def parse_map(pairs: Sequence[str], fields: Sequence[str]) -> dict[str, str]:
    """`--map` values → {column in the file: field}.

    Each value holds one or more ``column=field`` pairs, separated by commas or spaces
    (``--map "下单时间=ts,实付金额=amount"``), so a long map fits in one argument.
    """
    out: dict[str, str] = {}
    for given in pairs:
        for pair in _MAP_SPLIT.split(given.strip()):
            if not pair:
                continue
            column, sep, name = pair.rpartition("=")
            column, name = column.strip(), name.strip()
            if not sep or not column or not name:
                raise MapError(f"--map: {pair!r} 应写成 列名=字段，例如 下单时间=ts")
            if name not in fields:
                raise MapError(f"--map: 未知字段 {name!r}（可用 {'、'.join(fields)}）")
            if column in out and out[column] != name:
                raise MapError(f"--map: 列 {column!r} 被映射了两次（{out[column]} 与 {name}）")
            out[column] = name
    taken: dict[str, str] = {}
    for column, name in out.items():
        if name in taken:
            raise MapError(f"--map: 字段 {name} 被两列映射（{taken[name]} 与 {column}）")
        taken[name] = column
    return out


@dataclass
class BusinessFile(Generic[T]):
    """One opened business CSV: header checked, rows read lazily (each iteration re-reads)."""

    path: Path
    kind: str  # "orders" | "events" | "links"
    # field → the column of the file that holds it
    columns: dict[str, str]
    # physical lines in the file, header included (for a progress display)
    lines: int
    reader: Callable[[], Iterator[T | Reject]] = field(repr=False, compare=False)
    # how the file was read when not comma-separated UTF-8 ("GBK", "UTF-16，制表符分隔")
    read_as: str | None = None

    def recognised(self, column_map: Mapping[str, str]) -> list[tuple[str, str]]:
        """(column, field) pairs matched by a shop back-end's column name (COLUMN_NAMES),
        neither named like the field nor by `column_map` (--map): the operator should see
        them, a guess being a guess."""
        mapped = set(column_map)
        return [(col, f) for f, col in self.columns.items()
                if col.lower() != f and col not in mapped]

    def __iter__(self) -> Iterator[T | Reject]:
        return self.reader()


def _required(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise BadItem(f"{name} 为空")
    return value


# ---- files ----------------------------------------------------------------------------------
def open_orders(path: str | Path, column_map: Mapping[str, str] | None = None,
                tz: ZoneInfo = _SHANGHAI) -> BusinessFile[OrderRow]:
    """An orders CSV (member, order_id, ts, amount, category, coupon_used).

    member, order_id, ts and amount are required; category and coupon_used are optional (many
    exports have no coupon column: then no order counts as paid with a coupon).
    """
    def build(cells: Mapping[str, str], name: Callable[[str], str], origin: str) -> OrderRow:
        member = _required(cells["member"], name("member"))
        order_id = _required(cells["order_id"], name("order_id"))
        if SCIENTIFIC.fullmatch(order_id):
            raise BadItem(f"{name('order_id')} 像是被 Excel 改成了科学计数法: {short(order_id)}"
                          "（请把该列设为文本后重新导出）")
        return OrderRow(
            origin=origin, member=member, order_id=order_id,
            ts=parse_time(cells["ts"], name("ts"), tz),
            amount=parse_amount(cells["amount"], name("amount")),
            category=cells.get("category", "").strip() or None,
            coupon_used=parse_flag(cells.get("coupon_used", ""), name("coupon_used")),
        )

    return _open(Path(path), "orders", ORDER_FIELDS, ORDER_REQUIRED, column_map, build)


def open_events(path: str | Path, column_map: Mapping[str, str] | None = None,
                tz: ZoneInfo = _SHANGHAI) -> BusinessFile[EventRow]:
    """A content-interactions CSV (member, ts, content_type, action, optional duration)."""
    def build(cells: Mapping[str, str], name: Callable[[str], str], origin: str) -> EventRow:
        member = _required(cells["member"], name("member"))
        ts = parse_time(cells["ts"], name("ts"), tz)
        raw_type = _required(cells["content_type"], name("content_type"))
        content_type = CONTENT_TYPE_ALIASES.get(raw_type.lower())
        if content_type is None:
            raise BadItem(f"{name('content_type')} 无法识别: {short(raw_type)}"
                          "（可用 article/video/live 或 文章/视频/直播）")
        raw_action = _required(cells["action"], name("action"))
        action = ACTION_ALIASES.get(raw_action.lower())
        if action is None:
            raise BadItem(f"{name('action')} 无法识别: {short(raw_action)}"
                          "（可用 view/click/share/comment 或 浏览/点击/分享/评论）")
        duration = parse_duration(cells.get("duration", ""), name("duration"))
        return EventRow(origin, member, ContentEventRecord(ts, content_type, action, duration))

    return _open(Path(path), "events", EVENT_FIELDS, EVENT_REQUIRED, column_map, build)


def open_links(path: str | Path, column_map: Mapping[str, str] | None = None
               ) -> BusinessFile[LinkRow]:
    """A links CSV: `member` plus `external_id` and/or `phone` (a row may carry both)."""
    def build_all(cells: Mapping[str, str], name: Callable[[str], str], origin: str
                  ) -> list[LinkRow]:
        member = _required(cells["member"], name("member"))
        external = cells.get("external_id", "").strip()
        phone_raw = cells.get("phone", "").strip()
        if not external and not phone_raw:
            have = [name(f) for f in ("external_id", "phone") if f in cells]
            raise BadItem(f"{' 与 '.join(have)} 为空")
        out: list[LinkRow] = []
        if external:
            out.append(LinkRow(origin, "external_id", external, member))
        if phone_raw:
            phone = normalize_phone(phone_raw)
            if phone is None:
                raise BadItem(f"{name('phone')} 不是有效的电话号码: {short(phone_raw)}")
            out.append(LinkRow(origin, "phone", phone, member))
        return out

    def check(columns: Mapping[str, str], where: str, header: Sequence[str]) -> None:
        if "external_id" not in columns and "phone" not in columns:
            raise SourceError(where, f"缺少列 external_id 或 phone（表头：{'、'.join(header)}；"
                                     "可用 --map 列名=external_id 指定）")

    return _open(Path(path), "links", LINK_FIELDS, LINK_REQUIRED, column_map, None,
                 build_all, check)


# ---- the shared reader ------------------------------------------------------------------------
def _open(path: Path, kind: str, fields: Sequence[str], required: Sequence[str],
          column_map: Mapping[str, str] | None,
          build: Callable[[Mapping[str, str], Callable[[str], str], str], T] | None,
          build_all: Callable[[Mapping[str, str], Callable[[str], str], str], list[T]]
          | None = None,
          check: Callable[[Mapping[str, str], str, Sequence[str]], None] | None = None,
          ) -> BusinessFile[T]:
    """Check the file and its header now; return the lazy row reader."""
    where = str(path)
    try:
        text = _text_format(path, read_head(path))
    except OSError as exc:
        raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None
    scan, lines = text.scan, text.lines
    header_line, header = _header(path, text)
    if header is None:
        raise SourceError(where, "文件为空（应有表头行，如 " + ",".join(fields) + "）")
    columns = _columns(header, fields, required, column_map or {}, f"{where}:{header_line}")
    if check is not None:
        check(columns, f"{where}:{header_line}", header)
    names = {f: (f if columns[f] == f else f"{f}（列「{columns[f]}」）") for f in columns}

    def display(f: str) -> str:
        return names.get(f, f)

    index = {f: header.index(col) for f, col in columns.items()}
    width = len(header)

    def rows() -> Iterator[T | Reject]:
        try:
            with text.open(path) as fh:
                # A stray opening quote costs its own row (bot/sources/csv_records.py).
                reader = csv_records(fh, lambda row: len(row) == width, text.delimiter)
                for line, row in reader:
                    if line <= header_line:
                        continue
                    origin = f"{where}:{line}"
                    if isinstance(row, str):
                        yield Reject(origin, row)
                        continue
                    if scan.bad_lines or text.encoding != _UTF8:
                        bad = _undecodable(row, header, text)
                        if bad is not None:
                            yield Reject(origin, bad)
                            continue
                    if not any(c.strip() for c in row):
                        continue  # a row of empty cells: Excel leaves these at the end
                    extra = [c for c in row[width:] if c.strip()]
                    if extra:
                        yield Reject(origin, f"列数比表头多（{len(row)} 列，表头 {width} 列）；"
                                             "含逗号的值（如 1,299.00）要用引号括起来")
                        continue
                    padded = row + [""] * (width - len(row))
                    cells = {f: padded[i] for f, i in index.items()}
                    try:
                        if build_all is not None:
                            yield from build_all(cells, display, origin)
                        else:
                            assert build is not None
                            yield build(cells, display, origin)
                    except BadItem as exc:
                        yield Reject(origin, exc.reason)
        except OSError as exc:
            raise SourceError(where, f"无法读取（{exc.strerror or exc}）") from None

    return BusinessFile(path, kind, columns, lines, rows, text.read_as)


_UTF8 = "utf-8-sig"
_NAMES = {_UTF8: "UTF-8", "gb18030": "GBK", "utf-16": "UTF-16"}


def _escape_any(err: UnicodeError) -> tuple[str, int]:
    """surrogateescape for every byte: a cut or corrupt UTF-16 (or GB18030) file has bad
    bytes below 0x80 too, which surrogateescape refuses (the whole read then failed). Each
    becomes a lone surrogate, so the row holding it is one reject, like a bad byte in UTF-8."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(chr(0xDC80 | (b & 0x7F)) for b in bad), err.end


codecs.register_error("siyu-escape-any", _escape_any)


@dataclass(frozen=True, slots=True)
class _TextFormat:
    """How a business file's text is read: encoding, cell separator, what the byte pre-pass
    found (UTF-8 only) and its physical lines."""

    encoding: str
    delimiter: str
    scan: ByteScan
    lines: int

    def open(self, path: Path) -> TextIO:
        return _open_text(path, self.encoding)

    @property
    def read_as(self) -> str | None:
        name = "" if self.encoding == _UTF8 else _NAMES[self.encoding]
        tab = "制表符分隔" if self.delimiter == "\t" else ""
        return "，".join(p for p in (name, tab) if p) or None

    def undecodable(self, cell: str) -> str | None:
        """Why a cell's bytes could not be read, or None."""
        if self.encoding == _UTF8:
            return escaped_reason(cell, self.scan.cut_at_end)
        if ESCAPED.search(cell) is None:
            return None
        return f"含无法按 {_NAMES[self.encoding]} 解码的字节（文件损坏或复制不完整？）"


def _open_text(path: Path, encoding: str) -> TextIO:
    errors = "surrogateescape" if encoding == _UTF8 else "siyu-escape-any"
    return path.open(encoding=encoding, errors=errors, newline="")


def _text_format(path: Path, head: bytes) -> _TextFormat:
    """UTF-8 as the rule; UTF-16 by its BOM; GB18030 when the pre-pass finds GBK lines and no
    UTF-8 text (bot/sources/encoding.py: `ByteScan`; a chat export is refused then). The
    pre-pass over bytes also counts lines for the caller and notes the lines of a UTF-8 file
    that are not UTF-8, each of which becomes a reject."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, scan = "utf-16", ByteScan()
        with _open_text(path, encoding) as fh:
            lines = sum(1 for _ in fh)
    else:
        check_head(path, head, utf8=False)
        scan = ByteScan()
        lines = sum(1 for _ in scanned_lines(path, scan))
        encoding = _UTF8
        if scan.gbk_lines and not scan.utf8_seen:
            # no UTF-8 text at all and GBK lines: a GBK file (a line that is not GBK either
            # is that line's reject, not every Chinese row's)
            encoding, scan = "gb18030", ByteScan()
    with _open_text(path, encoding) as fh:
        first = next((line for line in fh if line.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    return _TextFormat(encoding, delimiter, scan, lines)


def _undecodable(row: Sequence[str], header: Sequence[str], text: _TextFormat) -> str | None:
    """The reject reason for a row holding bytes its encoding cannot read, naming the column."""
    for i, cell in enumerate(row):
        reason = text.undecodable(cell)
        if reason is not None:
            column = f"列「{header[i]}」" if i < len(header) else f"第 {i + 1} 列"
            return f"{column}{reason}"
    return None


def _header(path: Path, text: _TextFormat) -> tuple[int, list[str] | None]:
    """(line, header cells) of the first non-blank row; a header that is not UTF-8 fails
    the file (its columns cannot be matched)."""
    with text.open(path) as fh:
        for line, row in csv_rows(csv.reader(fh, delimiter=text.delimiter)):
            if isinstance(row, str):
                raise SourceError(f"{path}:{line}", f"表头无法解析：{row}")
            if any(c.strip() for c in row):
                bad = next((c for c in row if ESCAPED.search(c)), None)
                if bad is not None:
                    reason = text.undecodable(bad) or "不是 UTF-8 编码"
                    raise SourceError(f"{path}:{line}", f"表头{reason}")
                return line, [c.strip().removeprefix("\ufeff") for c in row]
    return 0, None


def _columns(header: Sequence[str], fields: Sequence[str], required: Sequence[str],
             column_map: Mapping[str, str], where: str) -> dict[str, str]:
    """field → column. A mapped column must exist; otherwise a column named like the field.

    A map that names a column the header lacks is almost always a typo, so it fails the
    file even for an optional field, rather than importing without that field.
    """
    shown = "、".join(header)
    columns: dict[str, str] = {}
    for column, name in column_map.items():
        if column not in header:
            raise SourceError(where, f"--map 指定的列「{column}」不在表头中（表头：{shown}）")
        columns[name] = column
    lowered = {h.lower(): h for h in reversed(header)}
    for name in fields:
        if name not in columns and name in lowered:
            columns[name] = lowered[name]
    for name in fields:  # the names shop back-ends give the columns (COLUMN_NAMES)
        taken = set(columns.values())
        if name not in columns:
            known = (lowered.get(n.lower()) for n in COLUMN_NAMES.get(name, ()))
            found = next((c for c in known if c is not None and c not in taken), None)
            if found is not None:
                columns[name] = found
    missing = [f for f in required if f not in columns]
    if missing:
        hint = " ".join(f"--map 列名={f}" for f in missing)
        raise SourceError(where, f"缺少必需列 {'、'.join(missing)}（表头：{shown}；"
                                 f"可用 {hint} 指定）")
    return columns
