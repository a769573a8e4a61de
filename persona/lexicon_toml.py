"""TOML and word-list files read with errors an operator can act on: file, line and key.

tomllib reports positions only for syntax errors; a well-formed lexicon file with a wrong
value still has to say where, so `CheckedToml` finds the line of a table or key itself and
every problem becomes a one-line `LexiconError`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from typing import Any

from persona.lexicon import LexiconError

_TOML_POS_RE = re.compile(r"at line (\d+)")
_HEADER_RE = re.compile(r"^\s*\[[^\]]+\]\s*(#.*)?$")


def _header_re(path: tuple[str, ...]) -> re.Pattern[str]:
    parts = r"\s*\.\s*".join(rf"[\"']?{re.escape(p)}[\"']?" for p in path)
    return re.compile(rf"^\s*\[\s*{parts}\s*\]\s*(#.*)?$")


def _locate(text: str, path: tuple[str, ...], key: str | None) -> int | None:
    """Best-effort line number of `key` inside table `path` (or of the table header).

    tomllib reports positions only for syntax errors; for a well-formed file with a wrong
    value we find the line ourselves so the operator can jump straight to it.
    """
    lines = text.splitlines()
    start = 0
    header_line: int | None = None
    if path:
        pattern = _header_re(path)
        for n, line in enumerate(lines):
            if pattern.match(line):
                header_line, start = n + 1, n + 1
                break
        else:
            return None
    if key is None:
        return header_line
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for n in range(start, len(lines)):
        if _is_header(lines[n]):
            break  # the next table begins: the key is not in this one
        if key_re.match(lines[n]):
            return n + 1
    return header_line


def _is_header(line: str) -> bool:
    return _HEADER_RE.match(line) is not None


class CheckedToml:
    """A parsed TOML file plus what is needed to report errors with line numbers."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        try:
            self.data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_POS_RE.search(str(exc))
            line = getattr(exc, "lineno", None) or (int(m.group(1)) if m else None)
            raise LexiconError(name, f"TOML 语法错误 (syntax error): {exc}", line=line) from None

    def error(self, path: tuple[str, ...], key: str | None, message: str) -> LexiconError:
        label = "[" + ".".join(path) + "]" if path else ""
        full_key = " ".join(p for p in (label, key or "") if p) or None
        return LexiconError(self.name, message, line=_locate(self.text, path, key), key=full_key)

    def table(self, path: tuple[str, ...], *, required: bool = True) -> dict[str, Any]:
        node: Any = self.data
        for i, part in enumerate(path):
            if not isinstance(node, dict) or part not in node:
                if not required:
                    return {}
                raise self.error(path[:i], part, "缺少此表 (missing table)")
            node = node[part]
        if not isinstance(node, dict):
            raise self.error(path[:-1], path[-1], "必须是表 (must be a table)")
        return node

    def check_keys(
        self, path: tuple[str, ...], table: dict[str, Any], allowed: Iterable[str]
    ) -> None:
        """Reject unknown keys: a misspelt "negator" must not silently disable negation."""
        known = set(allowed)
        for key in table:
            if key not in known:
                raise self.error(
                    path,
                    key,
                    "未知字段，可用: " + ", ".join(sorted(known)) + " (unknown key)",
                )

    def words(
        self, path: tuple[str, ...], table: dict[str, Any], key: str, *, required: bool = True
    ) -> tuple[str, ...]:
        if key not in table:
            if required:
                raise self.error(path, key, "缺少字段 (missing key)")
            return ()
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(path, key, "必须是字符串列表 (must be a list of strings)")
        out: list[str] = []
        for v in value:
            w = v.strip()
            if not w or any(ch.isspace() for ch in w):
                raise self.error(
                    path, key, f"词 {v!r} 为空或含空格 (word {v!r} is empty or contains spaces)"
                )
            out.append(w.lower())
        return tuple(out)

    def label(self, path: tuple[str, ...], table: dict[str, Any], key: str = "label") -> str:
        if key not in table:
            raise self.error(path, key, "缺少中文标签 (missing label)")
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, key, "必须是非空字符串 (must be a non-empty string)")
        return value.strip()

    def integer(
        self, path: tuple[str, ...], table: dict[str, Any], key: str, default: int, lo: int, hi: int
    ) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise self.error(path, key, f"必须是 {lo}–{hi} 的整数 (must be an integer {lo}–{hi})")
        return value


def data_lines(text: str) -> Iterable[tuple[int, str]]:
    """Non-empty, non-comment lines with their 1-based numbers."""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield n, line
