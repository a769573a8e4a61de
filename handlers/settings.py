"""Settings as both layers see them: the values, a feature's own table, and the error a bad
one raises.

Use cases take a `Settings` and raise `ConfigError`; reading `siyu.toml` and the environment
into one is the bot's job (bot/config.py: load_settings). Living here, below both, lets the
handlers use them without importing the bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_DB = "sqlite:///siyu.db"


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    # The community's time zone: evening / late night are judged here, never on server time.
    timezone: str = "Asia/Shanghai"
    # Tag weights halve every `half_life_days`, so recent behaviour weighs more.
    half_life_days: float = 30.0
    # Lifecycle thresholds: first seen within N days = new; silent for M days = declining.
    new_days: int = 14
    declining_days: int = 30
    # Intent tags ("recently asked", "recently complained") expire this long after the evidence.
    intent_ttl_days: int = 30
    # "auto" picks rjieba when installed; "jieba" or "rjieba" forces one.
    tokenizer: str = "auto"
    # An operator-edited interest taxonomy replacing the bundled one.
    taxonomy: str | None = None
    # Messages (or business rows) per import transaction. A batch pays fixed costs once: the
    # member and identity look-ups, one first/last-seen update per member it touches, the
    # commit and SQLite's checkpoint of the pages it dirtied (the member-time index is touched
    # all over by every batch). At 2,000 those were a third of a first import's write time.
    batch_size: int = 20000
    # Raw message text older than this is purged by the bot's daily job; derived signals and
    # tags stay, so personas keep their evidence ids while the words themselves are gone.
    retention_days: int = 180
    # Longer messages are analysed on their first N characters (stored whole, counted).
    max_analysed_chars: int = 5000
    # The persona's purpose (the method's first step): activate | repurchase | winback.
    goal: str = "repurchase"
    source: str = field(default="defaults", compare=False)
    # Feature tables such as [llm] or [suggest], validated by the feature that owns them.
    sections: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)



def section(settings: Settings, name: str) -> dict[str, Any]:
    """A feature's own table from siyu.toml (empty when absent)."""
    return dict(settings.sections.get(name, {}))


# `[segment]` keys about storing runs rather than computing one (not run parameters).
SEGMENT_STORE_KEYS = frozenset({"keep_runs"})
DEFAULT_KEEP_RUNS = 4


def keep_runs(settings: Settings) -> int:
    """`[segment] keep_runs`: how many stored segmentation runs stay (the newest by as-of).

    Each run stores a row per member, so at a million members a bot segmenting every few hours
    grew its database by gigabytes a day. A report compares the latest run with the one before
    it, so fewer than two is refused; the default leaves room for a look a few runs back.
    """
    value = section(settings, "segment").get("keep_runs", DEFAULT_KEEP_RUNS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ConfigError(f"{settings.source}: [segment] keep_runs 应为不小于 2 的整数"
                          f"（保留最近几次分群结果）：{value!r}")
    return value
