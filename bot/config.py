"""Settings: one small TOML file (`siyu.toml`) plus environment, nothing else.

Every key has a default that works for a new user, so `siyu demo` and `siyu ingest` run with
no file at all. A wrong key or value is a one-line error naming the file and key, because an
operator edits this file by hand.
"""

from __future__ import annotations

import math
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
# What each number may be. Day counts feed date arithmetic (a cutoff `as_of - N days`), so
# past a century they reach year 1 and crash a command after it has written; counts of
# things stay within what a machine can hold.
_RANGES: dict[str, tuple[float, float]] = {
    "half_life_days": (0.01, 36500),
    "new_days": (1, 36500),
    "declining_days": (1, 36500),
    "intent_ttl_days": (1, 36500),
    "retention_days": (1, 36500),
    "batch_size": (1, 10_000_000),
    "max_analysed_chars": (1, 100_000_000),
}


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
    db_source = source
    if env_db:
        values["db"], db_source = env_db, "SIYU_DB"
    if db:
        values["db"], db_source = db, "--db"
    settings = Settings(**values, source=source)
    _validate(settings, source)
    _validate_db(settings.db, db_source)
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
    for name, table in tables.items():
        _refuse_non_finite(path, name, table)
    return tables


def _refuse_non_finite(path: Path, where: str, value: Any) -> None:
    """No setting of any feature means something by nan or inf (TOML writes them `nan`,
    `inf`, or a literal past a double's range such as 1e309), and each passes a `> 0`
    check; refused here so features validating their own tables never see one."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}: 配置项 {where} 不是有限数值: {value!r}；请写一个普通数字")
    if isinstance(value, dict):
        for key, inner in value.items():
            _refuse_non_finite(path, f"{where}.{key}", inner)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _refuse_non_finite(path, f"{where}[{i}]", inner)


def _validate(settings: Settings, source: str) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{source}: timezone 无效: {settings.timezone!r}") from exc
    for name, (low, high) in _RANGES.items():
        value = getattr(settings, name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{source}: {name} = {value!r} 不是有限数值；请写一个普通数字")
        if not low <= value <= high:
            raise ConfigError(f"{source}: {name} = {value!r} 超出范围，"
                              f"应在 {low:g} 到 {high:g} 之间")
    if settings.goal not in GOALS:
        raise ConfigError(f"{source}: goal 只能是 {' / '.join(GOALS)}")
    if settings.tokenizer not in ("auto", "jieba", "rjieba"):
        raise ConfigError(f"{source}: tokenizer 只能是 auto / jieba / rjieba")


def _validate_db(url: str, where: str) -> None:
    """A database address SQLAlchemy cannot parse is refused here, naming where it came
    from, instead of as an ArgumentError traceback when a command first opens it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"{where}: 无法识别的数据库地址 {url!r}"
                          "（示例 sqlite:///siyu.db 或 postgresql://用户@主机/库名）") from exc
