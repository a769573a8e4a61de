"""Settings: one small TOML file (`siyu.toml`) plus environment, nothing else.

Every key has a default that works for a new user, so `siyu demo` and `siyu ingest` run with
no file at all. A wrong key or value is a one-line error naming the file and key, because an
operator edits this file by hand.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.settings import ConfigError, Settings

DEFAULT_CONFIG = "siyu.toml"


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "db": (str,),
    "timezone": (str,),
    "half_life_days": (int, float),
    "new_days": (int,),
    "declining_days": (int,),
    "intent_ttl_days": (int,),
    "tokenizer": (str,),
    "taxonomy": (str,),
    "batch_size": (int,),
    "goal": (str,),
    "retention_days": (int,),
    "max_analysed_chars": (int,),
}
GOALS = ("activate", "repurchase", "winback")


def load_settings(config: str | None = None, db: str | None = None) -> Settings:
    """Defaults, then the config file, then `SIYU_DB`, then `--db`: later wins."""
    values: dict[str, Any] = {}
    source = "defaults"
    path = Path(config) if config else Path(DEFAULT_CONFIG)
    if config and not path.is_file():
        raise ConfigError(f"{path}: 配置文件不存在 (config file not found)")
    if path.is_file():
        source = str(path)
        values.update(_read_toml(path))
        values["sections"] = _read_sections(path)
    env_db = os.environ.get("SIYU_DB")
    if env_db:
        values["db"] = env_db
    if db:
        values["db"] = db
    settings = Settings(**values, source=source)
    _validate(settings, source)
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: 不是 UTF-8 文本 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML 格式错误 ({exc})") from exc
    # Keys may sit at the top level or under [siyu]; other tables belong to later features.
    section = data.get("siyu", data)
    known = {f.name for f in fields(Settings)} - {"source"}
    out: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            continue
        if key not in known:
            raise ConfigError(f"{path}: 未知配置项 {key} (unknown key)")
        if isinstance(value, bool) or not isinstance(value, _FIELD_TYPES[key]):
            raise ConfigError(f"{path}: 配置项 {key} 类型不对: {value!r}")
        out[key] = value
    return out


def _read_sections(path: Path) -> dict[str, dict[str, Any]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and k != "siyu"}
    inner = data.get("siyu")
    if isinstance(inner, dict):
        tables.update({k: v for k, v in inner.items() if isinstance(v, dict)})
    return tables


def _validate(settings: Settings, source: str) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{source}: timezone 无效: {settings.timezone!r}") from exc
    if settings.half_life_days <= 0:
        raise ConfigError(f"{source}: half_life_days 必须大于 0")
    for name in ("new_days", "declining_days", "intent_ttl_days", "batch_size",
                 "retention_days", "max_analysed_chars"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{source}: {name} 必须大于 0")
    if settings.goal not in GOALS:
        raise ConfigError(f"{source}: goal 只能是 {' / '.join(GOALS)}")
    if settings.tokenizer not in ("auto", "jieba", "rjieba"):
        raise ConfigError(f"{source}: tokenizer 只能是 auto / jieba / rjieba")
