"""What SQLite's refusals mean for the operator, and how a database that can only be read is
opened anyway (storage/db.py: open_database uses both).

SQLite reports why it refused through the driver's error code (`sqlite_errorcode`); the
message text alone ("file is not a database", "attempt to write a readonly database") is
English and says nothing about what to do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

# Primary result codes (the low byte of an extended code).
SQLITE_READONLY = sqlite3.SQLITE_READONLY  # 8; READONLY_DIRECTORY is 8 | 6 << 8
SQLITE_CANTOPEN = sqlite3.SQLITE_CANTOPEN  # 14: also a WAL database whose -shm cannot be made
SQLITE_CORRUPT = sqlite3.SQLITE_CORRUPT  # 11
SQLITE_NOTADB = sqlite3.SQLITE_NOTADB  # 26


def primary_code(exc: BaseException | None) -> int | None:
    """SQLite's primary result code behind `exc` (a SQLAlchemy error or the driver's own),
    or None when it did not come from SQLite."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_read_only(exc: BaseException | None) -> bool:
    """True when SQLite refused a write because the file or its directory is read-only (or
    the database was opened read-only)."""
    return primary_code(exc) == SQLITE_READONLY


def cannot_read(exc: BaseException | None) -> bool:
    """True when opening failed the way a read-only file or directory makes it fail: the
    database may still be readable through a read-only connection (`read_only_url`)."""
    return primary_code(exc) in (SQLITE_READONLY, SQLITE_CANTOPEN)


def describe(exc: BaseException | None, path: Path) -> str | None:
    """One line for a refusal that means something about the file itself; None for others,
    which the caller words generically."""
    code = primary_code(exc)
    if code == SQLITE_NOTADB:
        return f"{path}: 不是 SQLite 数据库文件（文件未被改动）；请检查 --db 指向的文件"
    if code == SQLITE_CORRUPT:
        return f"{path}: 数据库文件已损坏（文件未被改动）；请从备份恢复，或新建数据库后重新导入"
    if code == SQLITE_READONLY:
        return (f"{path}: 数据库文件或其所在目录只读，无法写入；"
                "请检查写权限（只读时可用 siyu personas / persona / report 查看）")
    return None


def has_unmerged_wal(path: Path) -> bool:
    """True when a -wal file beside the database holds pages not yet in the database file:
    an immutable open would silently read an older database."""
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


def read_only_url(path: Path, *, immutable: bool = False) -> str:
    """A SQLAlchemy URL opening `path` for reading only.

    `mode=ro` never writes, but a WAL database still needs its -shm file, which cannot be
    created in a read-only directory; there only `immutable=1` (no locking, no -shm) can read
    it, which is safe when no -wal holds unmerged pages (`has_unmerged_wal`) — in a read-only
    directory no writer can create one either.
    """
    target = quote(str(path.resolve()))
    return f"sqlite:///file:{target}?mode=ro{'&immutable=1' if immutable else ''}&uri=true"
