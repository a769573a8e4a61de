"""Settings as both layers see them: the values, a feature's own table, and the error a bad
one raises.

Use cases take a `Settings` and raise `ConfigError`; reading `siyu.toml` and the environment
into one is the bot's job (bot/config.py: load_settings). Living here, below both, lets the
handlers use them without importing the bot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_DB = "sqlite:///siyu.db"

# What every number of siyu.toml's feature tables may be, in one table: (lowest, highest).
# Checked when a `Settings` is made, so no feature meets nan, inf or a number past what it
# can use: day and hour counts become timedeltas (`as_of - N days`), which overflow past
# 999,999,999 days and reach year 1 long before; counts and sample sizes become loops and
# array sizes. Each feature still checks its own keys' types and meaning (a rate must be
# positive, k_min ≤ k_max); the top-level keys' ranges are bot/config.py's `_RANGES`.
_DAYS = (0, 36_500)  # a century
_HOURS = (0, 24 * 36_500)
_SHARE = (0, 1)
_COUNT = (0, 1_000_000_000)
SECTION_LIMITS: dict[str, dict[str, tuple[float, float]]] = {
    "suggest": {"per_operator_per_hour": _COUNT, "invite_recent_days": _DAYS,
                "outcome_days": _DAYS, "max_age_hours": _HOURS, "lookback_hours": _HOURS},
    "bot": {"tag_refresh_seconds": (0, 3600 * _HOURS[1]), "segment_every_hours": _HOURS,
            "reactivation_every_hours": _HOURS},
    "llm": {"timeout": (0, 86_400)},
    "ingest": {"workers": (1, 256)},  # analysis processes of a big import; 1 = one process
    "segment": {
        **{k: _DAYS for k in ("new_days", "declining_days", "recent_days",
                              "high_recency_days")},
        **{k: _SHARE for k in ("high_quantile", "motivation_min_score", "coupon_min_share",
                               "k_tolerance", "min_jaccard", "min_support",
                               "interest_min_score")},
        "min_silhouette": (-1, 1),
        "seed": (0, 2**32 - 1),  # numpy's seeds
        "k_min": (2, 1_000), "k_max": (2, 1_000),
        "keyword_weight": (0, 1_000_000), "min_lift": (0, 1_000_000),
        "min_contrast_ratio": (0, 1_000_000),
        **{k: _COUNT for k in ("high_min_orders", "engaged_messages", "engaged_events",
                               "motivation_min_evidence", "coupon_min_orders",
                               "core_messages", "min_profiled", "min_circle_size",
                               "max_keywords", "select_sample", "silhouette_sample",
                               "minibatch_threshold", "min_count", "min_contrast_buyers",
                               "max_rules", "max_contrasts", "importance_top",
                               "importance_sample", "quotes_per_card", "card_sample")},
    },
}


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the file and key."""


def check_numbers(source: str, sections: dict[str, dict[str, Any]]) -> None:
    """Refuse a number of a feature table that is not finite or outside `SECTION_LIMITS`,
    in one line naming the file, table and key. Values that are not numbers are left to
    the feature, which says what type it wants."""
    for name, limits in SECTION_LIMITS.items():
        for key, value in sections.get(name, {}).items():
            if key not in limits or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            where = f"{source}: [{name}] {key} = {value!r}"
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{where} 不是有限数值；请写一个普通数字")
            low, high = limits[key]
            if not low <= value <= high:
                raise ConfigError(f"{where} 超出范围，应在 {low:g} 到 {high:g} 之间")


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
    # all over by every batch): at 2,000 those were once a third of a first import's write
    # time, and 20,000 was the default. With the analysis in worker processes the writer holds
    # the batch being analysed beside the one it writes (≈ 45 MiB each at 20,000 distinct
    # review texts), which broke issue 18's memory bound (4× the file); since the analysis
    # carries the complaint model, 2,000 and 20,000 cost the same CPU on the 44 MB benchmark
    # file (54.1 / 54.2 s, one process; docs/performance.md, "Memory").
    batch_size: int = 2000
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

    def __post_init__(self) -> None:
        check_numbers(self.source, self.sections)

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
