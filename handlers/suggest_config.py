"""The `[suggest]` table of siyu.toml and the playbook it names: what the suggestion use
cases are set up with. Checked once, with a one-line error naming the file and key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handlers.lexicon import load_lexicon
from handlers.settings import ConfigError, Settings, section
from persona.playbook import (
    DEFAULT_INTERESTS,
    Playbook,
    PlaybookError,
    default_playbook,
    default_playbook_text,
    parse_playbook,
)
from persona.suggest import (
    Drafting,
)


@dataclass(frozen=True)
class SuggestConfig:
    """The [suggest] table of siyu.toml."""

    # An operator's own playbook file; its scenarios replace the bundled ones.
    playbooks: str | None = None
    # At most this many suggestions are handed to one operator per hour; the rest wait.
    per_operator_per_hour: int = 30
    # A member sent an invite this recently is not invited again.
    invite_recent_days: int = 7
    # How long after sending a reply, a signup or an order still counts as the outcome.
    outcome_days: int = 7
    # The hook ignores messages older than this: last month's question needs no script now.
    max_age_hours: float = 72.0
    # The hook re-reads this much before its watermark, for late-arriving imports.
    lookback_hours: float = 24.0
    # Who gets suggestions: one operator, or one per chat.
    operator: str = "operator"
    operators: Mapping[str, str] = field(default_factory=dict)
    # Staff accounts (member id or name) that talk in groups but are not customers.
    staff: tuple[str, ...] = ()


_INT_KEYS = ("per_operator_per_hour", "invite_recent_days", "outcome_days")
_NUM_KEYS = ("max_age_hours", "lookback_hours")


def suggest_config(settings: Settings) -> SuggestConfig:
    raw = section(settings, "suggest")
    where = f"{settings.source}: [suggest]"
    known = set(SuggestConfig.__dataclass_fields__)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where} 未知配置项 {key}，可用: {', '.join(sorted(known))}")
        if key in _INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where} {key} 必须是非负整数")
        elif key in _NUM_KEYS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"{where} {key} 必须是正数")
            value = float(value)
        elif key in ("playbooks", "operator"):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where} {key} 必须是非空字符串")
        elif key == "operators":
            if not isinstance(value, dict) or not all(
                    isinstance(v, str) and v for v in value.values()):
                raise ConfigError(f"{where} operators 必须是 聊天ID = \"运营ID\" 的表")
        elif key == "staff":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where} staff 必须是字符串列表")
            value = tuple(value)
        values[key] = value
    cfg = SuggestConfig(**values)
    for op in (cfg.operator, *cfg.operators.values()):
        if op.endswith("@chatroom"):
            raise ConfigError(f"{where} 运营 {op} 是群聊：建议只发给运营本人，不能发到群里")
    return cfg


def load_playbook(settings: Settings, interests: Iterable[str] | None = None) -> Playbook:
    """The bundled playbook, overlaid with the operator's file from `[suggest] playbooks`."""
    if interests is None:
        interests = [i.code for i in load_lexicon(settings).interests]
    codes = list(interests)
    cfg = suggest_config(settings)
    try:
        # The bundled file with the bundled taxonomy is parsed once per process.
        playbook = (default_playbook() if set(codes) == set(DEFAULT_INTERESTS)
                    else parse_playbook(default_playbook_text(), interests=codes))
        if cfg.playbooks:
            path = Path(cfg.playbooks)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{path}: 无法读取话术文件 ({exc.strerror})") from exc
            except UnicodeDecodeError as exc:
                raise ConfigError(f"{path}: 不是 UTF-8 文本 ({exc.reason})") from exc
            playbook = parse_playbook(text, str(path), codes, base=playbook)
    except PlaybookError as exc:
        raise ConfigError(str(exc)) from exc
    return playbook


def load_drafting(settings: Settings, labels: Mapping[str, str],
              playbook: Playbook | None) -> Drafting:
    lexicon = load_lexicon(settings)
    if playbook is None:
        playbook = load_playbook(settings, [i.code for i in lexicon.interests])
    return Drafting(playbook, labels, products=frozenset(lexicon.interest_index),
                    concerns=frozenset(lexicon.motivations))
