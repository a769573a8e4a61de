"""What the terminal shows of cards and personas: made-up names said to be made up, quotes
long enough to be understood, names never cut."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from bot.render import QUOTE_CHARS, excerpt, personas_table
from bot.report import CARD_NOTE, card_text, report_text
from handlers.personas import build_personas
from tests.suggest_fixtures import NOW, Community, ago

SH = ZoneInfo("Asia/Shanghai")
LONG = ("来交作业了，奶粉的真实反馈：就是物流慢了一点，等了五天。比之前在超市买的性价比高，"
        "成分表看了一下也放心，下次还会回购的，推荐给群里的宝妈们")


def test_short_quotes_are_whole() -> None:
    assert excerpt("有没有优惠？有的话我再下单") == "有没有优惠？有的话我再下单"
    assert excerpt("第一行\n第二行") == "第一行 第二行"


def test_long_quotes_end_at_a_sentence() -> None:
    got = excerpt(LONG)
    assert got == "来交作业了，奶粉的真实反馈：就是物流慢了一点，等了五天。…"
    assert len(got) <= QUOTE_CHARS
    # more than the 20 characters it used to keep, and the member's point survives
    assert "等了五天" in got


def test_without_a_sentence_end_a_clause_then_a_hard_cut() -> None:
    clauses = "，".join(["这个颜色真的很好看"] * 8)
    got = excerpt(clauses)
    assert got.endswith("好看…") and len(got) <= QUOTE_CHARS
    solid = "好" * 80
    assert excerpt(solid) == "好" * (QUOTE_CHARS - 1) + "…"


def _card() -> dict:
    return {"segment": {"dimension": "value", "code": "high", "label": "高价值"},
            "name": "爱回购的宝妈 · 朱婉清", "size": 6, "share": 0.12, "lead": True,
            "quotes": [{"text": LONG, "intent_label": "好评", "chat": "宝妈群"}]}


def test_a_card_says_its_name_is_made_up() -> None:
    head, quote = card_text(_card(), SH)
    assert head == "【高价值】爱回购的宝妈 · 朱婉清（化名，代表 6 人，占 12%）"
    assert excerpt(LONG) in quote
    doc = {"as_of": NOW.isoformat(), "counts": {}, "cards": [_card()]}
    assert CARD_NOTE in report_text(doc, None, SH) and "化名" in CARD_NOTE


def test_shares_read_as_percentages_and_the_motivation_is_named_once() -> None:
    """A manager read 「复购率 1，…用券订单占比 0.32」 and
    「花更少的钱买到划算的好东西；…；价格敏感型」."""
    card = {**_card(), "goals": ["花更少的钱买到划算的好东西", "稳定买到合适的母婴用品"],
            "motivation": {"code": "price", "label": "价格敏感型"},
            "focus": [{"code": "repeat_rate", "label": "复购率", "value": 1.0},
                      {"code": "aov", "label": "客单价(元)", "value": 207.04},
                      {"code": "coupon_share", "label": "用券订单占比", "value": 0.32},
                      {"code": "days_since_order", "label": "距上次下单(中位天数)", "value": 14.0}]}
    lines = card_text(card, SH)
    assert ("  目标与动机：花更少的钱买到划算的好东西；稳定买到合适的母婴用品（动机：价格敏感型）"
            in lines)
    assert ("  关注指标：复购率 100%，客单价(元) 207.04，用券订单占比 32%，距上次下单(中位天数) 14"
            in lines)
    alone = card_text({**_card(), "motivation": {"code": "price", "label": "价格敏感型"}}, SH)
    assert "  目标与动机：价格敏感型" in alone


def test_the_personas_table_never_cuts_a_name(tmp_path: Path) -> None:
    c = Community(tmp_path)
    name = "深圳-糖糖妈妈｜两个娃的全职妈妈"
    c.say("wxid_a_rather_long_platform_id_2026", "宝宝辅食怎么做？", ago(1), name)
    c.say("wxid_b", "好的", ago(1), "小B")
    c.commit()
    table = personas_table(build_personas(c.store, c.settings, c.labels, NOW), SH, NOW)
    assert name in table and "wxid_a_rather_long_platform_id_2026" in table
    rows = [line for line in table.splitlines() if "wxid_" in line]
    # the message column starts at the same display column on every row
    from bot.render import width
    starts = {width(r[:r.index(" 1 ")]) for r in rows}
    assert len(starts) == 1, rows


def test_the_report_names_a_script_variant_in_words() -> None:
    """The report's 六、话术与邀请效果 read 「答疑（about_quality+price）」: a code to a manager."""
    from bot.routers.manager import feedback_lines

    summary = {"by_variant": [{"scenario": "question", "variant": "about_quality+price",
                               "total": 2, "acceptance_rate": None, "response_rate": 0.5},
                              {"scenario": "question", "variant": "default", "total": 1}]}
    assert feedback_lines(summary, {}) == [
        "答疑（品质问题+价格敏感型）：2 条，采用率 —，回复率 50%",
        "答疑（通用）：1 条，采用率 —，回复率 —"]
