"""Playbooks: the bundled file, filling in templates, variant choice, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import load_settings
from handlers.settings import ConfigError
from handlers.suggest_config import load_playbook
from persona.playbook import (
    DEFAULT_INTERESTS,
    NEXT_ACTIONS,
    PLACEHOLDERS,
    SCENARIOS,
    PlaybookError,
    default_playbook,
    default_playbook_text,
    parse_playbook,
    template_problem,
    variant_conditions,
)
from persona.scripts import pick_scripts, render

MINIMAL = "\n".join(
    f'[{s}]\n[{s}.default]\ntemplates = ["{{name}}，{s} 默认一", "{{name}}，{s} 默认二"]\n'
    for s in SCENARIOS)


def error_of(text: str, **kw: object) -> PlaybookError:
    with pytest.raises(PlaybookError) as info:
        parse_playbook(text, "my.toml", **kw)  # type: ignore[arg-type]
    return info.value


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# ---- the bundled file --------------------------------------------------------------------
def test_bundled_playbook_covers_every_scenario_with_two_to_four_templates() -> None:
    pb = default_playbook()
    assert set(pb.scenarios) == set(SCENARIOS)
    for scenario in pb.scenarios.values():
        keys = [v.key for v in scenario.variants]
        assert "default" in keys
        dims = {d for v in scenario.variants for d, _ in v.conditions}
        # Every scenario has variants by motivation, by lifecycle or layer, and by interest.
        assert {"motivation", "interest"} <= dims, scenario.code
        assert dims & {"lifecycle", "layer", "value"}, scenario.code
        assert {c for v in scenario.variants for d, c in v.conditions if d == "motivation"} \
            == {"price", "quality", "service"}, scenario.code
        for v in scenario.variants:
            assert 2 <= len(v.templates) <= 4, (scenario.code, v.key)
            assert len(set(v.templates)) == len(v.templates)
            for t in v.templates:
                assert template_problem(t) is None
                assert re.search(r"[\u4e00-\u9fff]", t)  # Chinese for people
            assert (v.next_action or scenario.next_action) in NEXT_ACTIONS


def test_bundled_text_is_read_through_package_resources() -> None:
    assert "[question.default]" in default_playbook_text()


# ---- filling in --------------------------------------------------------------------------
def test_render_fills_values_and_falls_back_gracefully() -> None:
    tpl = "{name}，你问的{topic|这个问题}我记下了，{interest}的好物也会发你"
    full = render(tpl, {"name": "朵朵妈", "topic": "辅食", "interest": "母婴育儿"})
    assert full == "朵朵妈，你问的辅食我记下了，母婴育儿的好物也会发你"
    bare = render(tpl, {"name": "朵朵妈"}, {"interest": "群里"})
    assert bare == "朵朵妈，你问的这个问题我记下了，群里的好物也会发你"
    assert "{" not in render("{activity}开始啦", {}) and render("{activity}开始啦", {})
    # An empty name leaves no dangling comma at the start.
    assert render("{name}，你好", {"name": ""}, {"name": ""}) == "你好"


def test_template_problems_are_named() -> None:
    assert "未知占位符 {topc}" in (template_problem("你问的{topc}") or "")
    assert "花括号" in (template_problem("你问的{topic") or "")
    assert template_problem("{name}，{topic|这款}好") is None


def test_variant_keys_map_to_dimensions() -> None:
    assert variant_conditions("price+new+parenting") == (
        ("motivation", "price"), ("lifecycle", "new"), ("interest", "parenting"))
    assert variant_conditions("default") == ()
    with pytest.raises(ValueError, match="未知话术变体代码"):
        variant_conditions("cheap")
    with pytest.raises(ValueError, match=r"两次|two"):
        variant_conditions("price+quality")


def test_most_specific_variant_wins() -> None:
    q = default_playbook().scenario("question")
    facts = {"motivation": "price", "lifecycle": "new", "value": "general", "layer": "ordinary"}
    assert q.ranked(facts, ["parenting"])[0].key in ("price+new", "price+parenting")
    assert [v.key for v in q.ranked(facts, [])][:3] == ["price+new", "price", "new"]
    assert q.ranked({"motivation": "quality"}, ["parenting"])[0].key == "quality+parenting"
    assert q.ranked({"motivation": "service"}, [])[0].key == "service"
    assert q.ranked({"lifecycle": "mature"}, ["travel"])[0].key == "default"
    # Equal length: motivation (weight 3) outranks an interest (weight 2).
    assert q.ranked({"motivation": "quality"}, ["beauty"])[0].key == "quality"


def test_pick_scripts_gives_distinct_ranked_alternatives() -> None:
    q = default_playbook().scenario("question")
    ranked = q.ranked({"motivation": "price", "lifecycle": "mature"}, ["parenting"])
    scripts = pick_scripts(ranked, {"name": "朵朵妈", "topic": "辅食"}, {}, salt="a")
    assert 1 <= len(scripts) <= 3
    assert len({s.text for s in scripts}) == len(scripts)
    assert scripts[0].variant == ranked[0].key
    # Alternatives bring another angle: the runner-up variant is represented.
    assert ranked[1].key in {s.variant for s in scripts}
    # The opening template rotates between members, so a segment does not echo one text.
    openings = {pick_scripts(ranked, {"name": "X"}, {}, salt=f"m{i}")[0].text
                for i in range(12)}
    assert len(openings) > 1


def test_templates_with_values_come_before_fallback_ones() -> None:
    pb = parse_playbook(MINIMAL.replace(
        '[question.default]\ntemplates = ["{name}，question 默认一", "{name}，question 默认二"]',
        '[question.default]\ntemplates = ["说说{topic}", "{name}你好"]'))
    ranked = pb.scenario("question").ranked({}, [])
    for salt in ("a", "b", "c", "d"):
        assert pick_scripts(ranked, {"name": "小王"}, pb.fallbacks, salt)[0].text == "小王你好"


# ---- errors ------------------------------------------------------------------------------
def test_toml_syntax_error_names_the_line() -> None:
    text = MINIMAL + '\n[invite.price]\ntemplates = ["少了引号]\n'
    exc = error_of(text)
    assert str(exc).startswith(f"my.toml:{line_of(text, '少了引号')}:")
    assert "TOML" in str(exc)


def test_unknown_placeholder_names_file_line_and_key() -> None:
    text = MINIMAL + ('\n[complaint.price]\ntemplates = [\n    "{name}，抱歉",\n'
                      '    "关于{topc}我们马上处理",\n]\n')
    exc = error_of(text)
    assert exc.line == line_of(text, "{topc}")
    assert str(exc).startswith(f"my.toml:{exc.line}: [complaint.price] templates: ")
    assert "{topc}" in str(exc) and "unknown placeholder" in str(exc)


def test_unknown_scenario_and_variant_keys_are_refused_with_lines() -> None:
    text = MINIMAL + '\n[questoin.default]\ntemplates = ["你好"]\n'
    exc = error_of(text)
    assert exc.line == line_of(text, "[questoin.default]") and "unknown scenario" in str(exc)

    text = MINIMAL + '\n[question.pricee]\ntemplates = ["你好"]\n'
    exc = error_of(text)
    assert exc.line == line_of(text, "[question.pricee]")
    assert "[question.pricee]" in str(exc) and "pricee" in str(exc)

    text = MINIMAL + '\n[question."price+quality"]\ntemplates = ["你好"]\n'
    assert 'question."price+quality"' in str(error_of(text))

    text = MINIMAL + '\n[question.price]\ntemplate = ["你好"]\n'
    exc = error_of(text)
    assert exc.line == line_of(text, "template = ") and "unknown key" in str(exc)

    text = MINIMAL.replace("[welcome]\n", '[welcome]\nlabl = "欢迎"\n')
    exc = error_of(text)
    assert exc.line == line_of(text, "labl") and "[welcome] labl" in str(exc)


def test_other_mistakes_are_refused() -> None:
    assert "missing default" in str(error_of(MINIMAL.replace("[invite.default]",
                                                             "[invite.new]")))
    assert "missing scenario" in str(error_of(MINIMAL.split("[invite]")[0]))
    bad_action = MINIMAL.replace("[invite]\n", '[invite]\nnext_action = "hug"\n')
    assert "unknown next action" in str(error_of(bad_action))
    empty = MINIMAL + '\n[question.price]\ntemplates = []\n'
    assert "non-empty list" in str(error_of(empty))
    fallbacks = '[fallbacks]\nplace = "这里"\n' + MINIMAL
    assert "[fallbacks] place" in str(error_of(fallbacks))


def test_interest_variants_follow_the_taxonomy() -> None:
    text = MINIMAL + '\n[question.knitting]\ntemplates = ["{name}，织毛衣的问题我来答"]\n'
    assert "knitting" in str(error_of(text))
    pb = parse_playbook(text, interests=(*DEFAULT_INTERESTS, "knitting"))
    assert pb.scenario("question").ranked({}, ["knitting"])[0].key == "knitting"


def test_override_replaces_only_the_scenarios_it_names() -> None:
    base = default_playbook()
    over = parse_playbook('[question]\n[question.default]\ntemplates = ["{name}，我来啦"]\n'
                          '[fallbacks]\nname = "朋友"\n', "mine.toml", base=base)
    assert [v.key for v in over.scenario("question").variants] == ["default"]
    assert over.scenario("complaint") == base.scenario("complaint")
    assert over.fallbacks["name"] == "朋友" and over.fallbacks["topic"] == base.fallbacks["topic"]


# ---- the operator's file through siyu.toml -----------------------------------------------
def test_operator_playbook_from_config(tmp_path: Path) -> None:
    mine = tmp_path / "我的话术.toml"
    mine.write_text('[welcome]\n[welcome.default]\ntemplates = ["{name}，欢迎欢迎！"]\n',
                    encoding="utf-8")
    cfg = tmp_path / "siyu.toml"
    cfg.write_text(f'[suggest]\nplaybooks = "{mine.as_posix()}"\n', encoding="utf-8")
    pb = load_playbook(load_settings(str(cfg)))
    assert pb.scenario("welcome").variants[0].templates == ("{name}，欢迎欢迎！",)
    assert len(pb.scenario("question").variants) > 1  # bundled scenarios stay

    mine.write_text('[welcome]\n[welcome.default]\ntemplates = ["欢迎{nmae}"]\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_playbook(load_settings(str(cfg)))
    assert str(info.value).startswith(f"{mine}:3: [welcome.default] templates: ")

    mine.unlink()
    with pytest.raises(ConfigError, match="无法读取话术文件"):
        load_playbook(load_settings(str(cfg)))


def test_placeholders_are_documented_in_the_bundled_file() -> None:
    text = default_playbook_text()
    for name in PLACEHOLDERS:
        assert f"{{{name}}}" in text.split("[fallbacks]")[0]
