"""File sources: chat exports on disk → `MessageEvent` / `MemberInfo` / `Reject` items.

The ingest handler sees one stream of neutral items whatever the file was, so these modules
are the only place that knows a ChatLab key or a WeChatMsg column. Two rules hold for every
format, because an operator importing a year of history cannot babysit it:

- a file that cannot be read at all fails fast with `SourceError`, one line naming the file
  (and line/column) and the reason in Chinese;
- a single bad line, row or message never stops the file: it becomes a `Reject` naming
  ``path:LINE`` and the field at fault, and everything else still comes through.

Formats are recognised by content, not by extension: exports get renamed, and a folder often
holds unrelated .json files that must be refused by name rather than half-imported.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.sources.chatlab import open_chatlab
from bot.sources.common import HEAD_SIZE, Source, SourceError, check_head, read_head
from bot.sources.wechatmsg import REQUIRED as _CSV_REQUIRED
from bot.sources.wechatmsg import open_wechatmsg
from handlers.events import Reject, SourceItem

__all__ = ["FORMATS", "Source", "SourceError", "detect_format", "expand_paths", "open_source"]

FORMATS = ("auto", "chatlab", "wechatmsg-csv")
SUFFIXES = (".json", ".jsonl", ".csv")
SUPPORTED = "支持 chatlab JSON/JSONL、wechatmsg CSV"

# A ChatLab JSON document names these keys near its start (the header comes first).
_CHATLAB_KEYS = re.compile(r'"(?:chatlab|meta|members|messages)"\s*:')
_SHANGHAI = ZoneInfo("Asia/Shanghai")


def expand_paths(paths: Sequence[str | Path],
                 unreadable: list[SourceError] | None = None) -> list[Path]:
    """Files as given; folders → their .json/.jsonl/.csv files, recursively and sorted.

    Hidden files and folders (.git, .DS_Store …) are skipped; a file reached twice is kept
    once. A missing path, or a folder with nothing importable in it, is a SourceError: both
    are almost always a typo, and "imported 0 messages" would hide it. A subfolder that
    cannot be listed (no permission) is one SourceError appended to `unreadable`, as an
    unreadable file would be, and the rest of the folder is still imported; without that
    list, it is raised.
    """
    result: list[Path] = []
    seen: set[Path] = set()
    problems: list[SourceError] = [] if unreadable is None else unreadable

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            result.append(path)

    for given in paths:
        path = Path(given)
        if path.is_dir():
            before = len(problems)
            found = _folder_files(path, problems)
            if unreadable is None and problems:
                raise problems[0]
            if not found and len(problems) == before:
                raise SourceError(str(path), "文件夹里没有可导入的文件（.json、.jsonl、.csv）")
            for p in found:
                add(p)
        elif path.exists():
            add(path)
        else:
            raise SourceError(str(path), "文件或文件夹不存在")
    return result


def _folder_files(folder: Path, problems: list[SourceError]) -> list[Path]:
    """The importable files under `folder`, sorted; each folder that cannot be listed is
    appended to `problems` (`Path.rglob` skipped those without a word)."""
    def failed(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else folder
        problems.append(SourceError(str(where), f"无法读取文件夹（{exc.strerror or exc}）"))

    found: list[Path] = []
    for top, dirs, files in os.walk(folder, onerror=failed):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            p = Path(top, name)
            if p.suffix.lower() in SUFFIXES and not name.startswith(".") and p.is_file():
                found.append(p)
    return sorted(found)


def _sniff(head: bytes) -> str | None:
    """The format the first bytes look like, or None. Content decides, not the extension."""
    text = head.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = (ln.strip() for ln in text.split("\n"))
    first = next((ln for ln in lines if ln and not ln.startswith("#")), "")
    if first.startswith("{"):
        if '"_type"' in first or _CHATLAB_KEYS.search(text):
            return "chatlab"
        return None
    if "," in first:
        try:
            columns = {c.strip() for c in next(csv.reader([first]))}
        except csv.Error:
            return None
        if all(c in columns for c in _CSV_REQUIRED):
            return "wechatmsg-csv"
    return None


def detect_format(path: Path) -> str:
    """"chatlab" or "wechatmsg-csv" from the file's first bytes; SourceError otherwise."""
    path = Path(path)
    head = read_head(path)
    check_head(path, head, utf8=False)
    fmt = _sniff(head)
    if fmt is None:
        reason = "文件为空" if _blank(head) else "无法识别的格式"
        raise SourceError(str(path), f"{reason}（{SUPPORTED}）")
    return fmt


def _blank(head: bytes) -> bool:
    """Nothing but a BOM and whitespace (and the whole file fits in the head)."""
    return len(head) < HEAD_SIZE and not head.removeprefix(b"\xef\xbb\xbf").strip()


def _empty(path: Path) -> Iterator[SourceItem]:
    yield Reject(str(path), "文件为空，没有可导入的内容")


def open_source(path: Path, fmt: str = "auto", tz: ZoneInfo = _SHANGHAI) -> Source:
    """Open one export for iteration.

    Raises SourceError for what makes the whole file unusable: missing, a folder, no
    permission, binary, in another encoding as a whole (a GBK export, named by its first
    line; a UTF-8 file with a few bad lines rejects just those, see bot/sources/encoding.py),
    an unknown format, a JSON document that does not parse, a CSV without the WeChatMsg
    header. An empty file is not an error: it yields one Reject saying so, so a folder import
    goes on and the operator still sees it. `tz` reads WeChatMsg's local StrTime when
    CreateTime is missing.
    """
    path = Path(path)
    where = str(path)
    if fmt not in FORMATS:
        raise SourceError(where, f"未知的格式 {fmt!r}（可选 {'、'.join(FORMATS)}）")
    head = read_head(path)
    check_head(path, head, utf8=False)
    if _blank(head):
        kind = fmt if fmt != "auto" else (
            "wechatmsg-csv" if path.suffix.lower() == ".csv" else "chatlab")
        return Source(path, kind, 1, lambda: _empty(path))
    if fmt == "auto":
        detected = _sniff(head)
        if detected is None:
            raise SourceError(where, f"无法识别的格式（{SUPPORTED}）")
        fmt = detected
    if fmt == "chatlab":
        return open_chatlab(path, head)
    return open_wechatmsg(path, head, tz)
