"""Every number of siyu.toml's feature tables is checked in one place (handlers/settings.py:
`SECTION_LIMITS`): nan, inf or a value past what the feature can use is one line naming the
file, table and key, before anything runs — `[suggest] invite_recent_days = 1e9` was an
OverflowError traceback from `siyu invite`."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import pytest
from cli_helpers import siyu
from test_cli import write_chatlab
from test_cli_errors import one_error_line

from bot.llm import LlmConfig
from bot.runner import BotConfig
from handlers.settings import SECTION_LIMITS, ConfigError, Settings
from handlers.suggest_config import SuggestConfig, suggest_config
from persona.segment_params import SegmentParams


@pytest.mark.parametrize(("table", "line"), [
    ("suggest", "invite_recent_days = 1e9"),
    ("suggest", "invite_recent_days = 1000000000"),
    ("suggest", "max_age_hours = 1e300"),
    ("bot", "segment_every_hours = inf"),
    ("segment", "seed = 99999999999"),
])
def test_a_number_no_feature_can_use_is_one_line_before_anything_is_written(
        tmp_path: Path, table: str, line: str) -> None:
    (tmp_path / "siyu.toml").write_text(f"[{table}]\n{line}\n", encoding="utf-8")
    chat = write_chatlab(tmp_path / "chat.json")
    for command in (["ingest", str(chat)], ["invite", "团购", "--segment", "new"]):
        proc = siyu(*command, cwd=tmp_path, check=False)
        one_error_line(proc, "siyu.toml", table, line.split(" = ")[0])
        assert not (tmp_path / "siyu.db").exists()


@pytest.mark.parametrize("value", [math.nan, math.inf, -1, 36_501, 10**30])
def test_settings_refuse_a_day_count_that_is_not_a_usable_number(value: float) -> None:
    with pytest.raises(ConfigError, match=r"^siyu.toml: \[suggest\] invite_recent_days = "):
        Settings(source="siyu.toml", sections={"suggest": {"invite_recent_days": value}})


def test_numbers_in_range_and_other_types_are_left_to_the_feature() -> None:
    ok = Settings(sections={"suggest": {"invite_recent_days": 36_500, "max_age_hours": 0.5}})
    assert suggest_config(ok).invite_recent_days == 36_500
    typed = Settings(source="siyu.toml", sections={"suggest": {"invite_recent_days": "7"}})
    with pytest.raises(ConfigError, match="invite_recent_days 必须是非负整数"):
        suggest_config(typed)


@pytest.mark.parametrize(("table", "shape"), [
    ("suggest", SuggestConfig), ("bot", BotConfig), ("llm", LlmConfig),
    ("segment", SegmentParams)])
def test_every_number_of_every_table_has_limits(table: str, shape: type) -> None:
    """A new numeric key without a line in SECTION_LIMITS would go unchecked."""
    numbers = {f.name for f in fields(shape) if f.type in ("int", "float")}
    assert numbers == set(SECTION_LIMITS[table])
