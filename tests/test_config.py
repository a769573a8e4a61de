"""Settings: defaults, file, env and flag precedence, and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from handlers.settings import ConfigError, section


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "siyu.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIYU_DB", raising=False)
    s = load_settings()
    assert s.db == "sqlite:///siyu.db" and s.timezone == "Asia/Shanghai"
    assert s.goal == "repurchase" and s.half_life_days == 30


def test_precedence_file_env_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path, 'db = "sqlite:///file.db"\nhalf_life_days = 7\n')
    monkeypatch.delenv("SIYU_DB", raising=False)
    assert load_settings(cfg).db == "sqlite:///file.db"
    monkeypatch.setenv("SIYU_DB", "sqlite:///env.db")
    assert load_settings(cfg).db == "sqlite:///env.db"
    assert load_settings(cfg, db="sqlite:///flag.db").db == "sqlite:///flag.db"
    assert load_settings(cfg).half_life_days == 7


def test_siyu_table_and_feature_sections(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[siyu]\ngoal = "winback"\n[llm]\nmodel = "m"\n[siyu.suggest]\nx = 1\n')
    s = load_settings(cfg)
    assert s.goal == "winback"
    assert section(s, "llm") == {"model": "m"} and section(s, "suggest") == {"x": 1}
    assert section(s, "absent") == {}


@pytest.mark.parametrize(("text", "needle"), [
    ('timezone = "Mars/Olympus"\n', "timezone"),
    ("half_life_days = 0\n", "half_life_days"),
    ('half_life_days = "long"\n', "half_life_days"),
    ("new_days = true\n", "new_days"),
    ('goal = "everything"\n', "goal"),
    ('tokenizer = "spacy"\n', "tokenizer"),
    ('colour = "blue"\n', "colour"),
    ("timezone = \n", "TOML"),
    ("half_life_days = nan\n", "half_life_days"),
    ("half_life_days = 1e309\n", "half_life_days"),
    ("half_life_days = inf\n", "half_life_days"),
    ("half_life_days = 1e300\n", "half_life_days"),
    ("declining_days = 99999999999999999999\n", "declining_days"),
    ("intent_ttl_days = 1000000000\n", "intent_ttl_days"),
    ("[suggest]\nmax_age_hours = nan\n", "suggest.max_age_hours"),
    ("[segment]\nweights = [1.0, inf]\n", "segment.weights"),
])
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    cfg = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg)
    msg = str(exc.value)
    assert needle in msg and "siyu.toml" in msg and "\n" not in msg


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="不存在"):
        load_settings(str(tmp_path / "nope.toml"))


@pytest.mark.parametrize(("env", "flag", "needle"), [
    ("garbage", None, "SIYU_DB"), (None, "garbage", "--db"), ("sqlite:///ok.db", "::", "--db"),
])
def test_an_unparseable_db_address_names_where_it_came_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str | None, flag: str | None,
        needle: str) -> None:
    monkeypatch.chdir(tmp_path)
    if env is None:
        monkeypatch.delenv("SIYU_DB", raising=False)
    else:
        monkeypatch.setenv("SIYU_DB", env)
    with pytest.raises(ConfigError) as exc:
        load_settings(db=flag)
    assert needle in str(exc.value) and "\n" not in str(exc.value)
