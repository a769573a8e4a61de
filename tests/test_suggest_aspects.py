"""Scripts that answer what the message is about and name what it names: a quality complaint
gets the quality-recovery script with the product in it, a delivery complaint the delivery one,
a service complaint the service one, whoever sends it; a price question is no complaint."""

from __future__ import annotations

from pathlib import Path

from handlers.suggest import SuggestionView, suggest_for_member
from tests.suggest_fixtures import Community, ago, price_mom, quality_mom, service_dad


def latest(c: Community, member_id: str) -> SuggestionView:
    views = suggest_for_member(c.store, c.settings, c.labels, c.member(member_id), ago())
    return views[0]


def test_a_quality_complaint_gets_the_quality_script_naming_the_product(tmp_path: Path) -> None:
    c = Community(tmp_path)
    service_dad(c)  # leans on service: before, he got "让你等这么久"
    c.say("wxid_service", "买的奶粉结块了，宝宝喝了还拉肚子，太失望了", ago(hours=1))
    c.commit()
    v = latest(c, "wxid_service")
    assert v.row.scenario == "complaint"
    assert v.row.variant == "about_quality" and v.row.next_action == "after_sales"
    assert "奶粉" in v.row.text and "等这么久" not in v.row.text
    assert any("[aspect=quality]" in w and "品质问题" in w for w in v.row.why)


def test_a_delivery_complaint_gets_the_delivery_script(tmp_path: Path) -> None:
    c = Community(tmp_path)
    quality_mom(c)
    c.say("wxid_quality", "快递一个星期了还没到，太慢了", ago(hours=1))
    c.commit()
    v = latest(c, "wxid_quality")
    assert v.row.scenario == "complaint" and v.row.variant == "about_delivery"
    assert any("「快递还没到」" in w for w in v.row.why)
    assert "物流" in v.row.text + "".join(v.row.alternatives)


def test_a_service_complaint_gets_the_service_script(tmp_path: Path) -> None:
    c = Community(tmp_path)
    price_mom(c)
    c.say("wxid_price", "客服一直不回复，太差劲了", ago(hours=1))
    c.commit()
    v = latest(c, "wxid_price")
    assert v.row.scenario == "complaint" and v.row.variant == "about_service"
    assert v.row.next_action == "callback"
    assert "客服" not in v.row.text  # the aspect is no product: nothing "客服从现在起…"


def test_a_price_question_names_the_product_not_the_opinion(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_nas", "大家好", ago(30), "小林")
    c.say("wxid_nas", "有没有便宜点的 NAS", ago(hours=1), "小林")
    c.commit()
    v = latest(c, "wxid_nas")
    assert v.row.scenario == "question"
    assert v.row.variant == "about_price" and v.row.next_action == "coupon"
    assert "NAS" in v.row.text and "便宜点" not in v.row.text


def test_a_run_of_nouns_names_the_product(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_kk", "大家好", ago(30), "KK")
    c.say("wxid_kk", "手机散热器一次买几个合适？", ago(hours=1), "KK")
    c.commit()
    v = latest(c, "wxid_kk")
    assert "手机散热器" in v.row.text
