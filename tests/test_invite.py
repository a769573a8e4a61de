"""Activity invites for a segment: who is in and why, who is skipped and why, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from handlers.feedback import feedback_summary, set_status
from handlers.invites import InviteRun, draft_invites
from handlers.personas import build_personas
from handlers.suggest import SuggestError
from handlers.triggers import suggest_for_new_messages
from tests.suggest_fixtures import NOW, Community, ago, price_mom, quality_mom, service_dad


def community(tmp_path: Path, toml: str = "") -> Community:
    c = Community(tmp_path, toml)
    price_mom(c)
    quality_mom(c)
    service_dad(c)
    price_mom(c, "wxid_gone", "退群的人")  # price-sensitive too, but will opt out
    c.say("wxid_new", "大家好，我是新来的，宝宝辅食怎么做？", ago(3), "新妈妈")
    c.say("wxid_quiet", "有没有优惠券？", ago(50), "沉默的人")
    c.say("wxid_quiet", "太贵了，能便宜点吗", ago(45))
    c.join("wxid_lurker", "潜水员", ago(1))
    c.commit()
    c.opt_out("wxid_gone")
    return c


def invite(c: Community, activity: str, segment: str, as_of: datetime = NOW) -> InviteRun:
    return draft_invites(c.store, c.settings, c.labels, activity, segment, as_of)


def test_invites_everyone_in_the_segment_and_says_why(tmp_path: Path) -> None:
    c = community(tmp_path)
    run = invite(c, "周末亲子烘焙课", "price")
    assert [v.member_id for v in run.invites] == ["wxid_price", "wxid_quiet"]
    assert [(s.member_id, s.reason) for s in run.skipped] == [("wxid_gone", "opted_out")]
    v = run.invites[0]
    assert "「周末亲子烘焙课」" in v.row.text and "{" not in v.row.text
    assert v.row.why[0] == "属于分群：价格敏感型 [segment=price]"
    assert any("[motivation=price]" in w for w in v.row.why)
    assert v.row.scenario == "invite" and v.row.status == "pending"
    assert v.row.variant == "price"
    # Both are price-sensitive; the one gone quiet gets the come-back variant.
    assert run.invites[1].row.variant == "price+declining"

    declining = invite(c, "老朋友回归茶话会", "declining")
    (d,) = declining.invites
    assert d.member_id == "wxid_quiet" and d.row.variant == "price+declining"
    assert d.row.next_action == "coupon"

    # Lifecycle segments follow the personas exactly (a silent joiner may count as new).
    views = build_personas(c.store, c.settings, c.labels, NOW)
    for code in ("new", "potential"):
        expected = {v.member.member_id for v in views
                    if v.persona.segments["lifecycle"] == code}
        assert {x.member_id for x in invite(c, "新人见面会", code).invites} == expected
    assert "wxid_new" in {x.member_id for x in invite(c, "新人见面会", "new").invites}


def test_invites_are_tailored_per_member(tmp_path: Path) -> None:
    c = community(tmp_path)
    run = invite(c, "品牌开放日", "mature")
    by = {v.member_id: v.row for v in run.invites}
    assert set(by) == {"wxid_price", "wxid_quality", "wxid_service"}
    assert by["wxid_price"].variant.startswith("price")
    assert by["wxid_quality"].variant == "quality"
    assert by["wxid_service"].variant == "service"
    assert len({r.text for r in by.values()}) == 3
    assert all(r.why[0] == "属于分群：成熟用户 [segment=mature]" for r in by.values())


def test_drafting_again_shows_the_same_drafts(tmp_path: Path) -> None:
    c = community(tmp_path)
    first = invite(c, "周末亲子烘焙课", "mature")
    second = invite(c, "周末亲子烘焙课", "mature")
    assert [v.row.id for v in first.invites] == [v.row.id for v in second.invites]
    # Invites are not operator notifications: the trigger hook leaves them alone.
    run = suggest_for_new_messages(c.store, c.settings, c.labels, NOW)
    assert all(v.row.scenario != "invite" for v in run.notify)


def test_recently_invited_already_invited_and_dismissed_are_skipped(tmp_path: Path) -> None:
    c = community(tmp_path, "[suggest]\ninvite_recent_days = 7\n")
    run = invite(c, "周末亲子烘焙课", "mature")
    by = {v.member_id: v.row.id for v in run.invites}
    set_status(c.store, by["wxid_price"], "sent", NOW)
    set_status(c.store, by["wxid_quality"], "dismissed", NOW)

    other = invite(c, "读书会", "mature", NOW + timedelta(days=2))
    reasons = {s.member_id: s.reason for s in other.skipped}
    assert reasons == {"wxid_price": "recently_invited", "wxid_gone": "opted_out"}
    assert {v.member_id for v in other.invites} == {"wxid_quality", "wxid_service"}

    same = invite(c, "周末亲子烘焙课", "mature", NOW + timedelta(days=2))
    reasons = {s.member_id: s.reason for s in same.skipped}
    assert reasons == {"wxid_price": "recently_invited", "wxid_quality": "dismissed",
                       "wxid_gone": "opted_out"}

    later = invite(c, "周末亲子烘焙课", "mature", NOW + timedelta(days=9))
    reasons = {s.member_id: s.reason for s in later.skipped}
    assert reasons == {"wxid_price": "already_invited", "wxid_quality": "dismissed",
                       "wxid_gone": "opted_out"}
    assert {v.member_id for v in invite(c, "读书会", "mature",
                                        NOW + timedelta(days=9)).invites} == {
        "wxid_price", "wxid_quality", "wxid_service"}


def test_segment_codes_are_checked(tmp_path: Path) -> None:
    c = community(tmp_path)
    with pytest.raises(SuggestError, match="未知分群代码 'vip'"):
        invite(c, "周末亲子烘焙课", "vip")
    with pytest.raises(SuggestError, match="活动名称"):
        invite(c, "  ", "new")
    assert invite(c, "周末亲子烘焙课", "c7").invites == []  # a cluster nobody is in yet
    assert {v.member_id for v in invite(c, "运动打卡", "general").invites} >= {"wxid_price"}


def test_signups_count_as_joined_in_the_feedback(tmp_path: Path) -> None:
    c = community(tmp_path)
    run = invite(c, "周末亲子烘焙课", "mature")
    by = {v.member_id: v.row.id for v in run.invites}
    set_status(c.store, by["wxid_price"], "sent", NOW)
    set_status(c.store, by["wxid_service"], "sent", NOW)
    c.say("wxid_price", "报名！带娃一起来", NOW + timedelta(hours=2))
    c.say("wxid_service", "最近有点忙", NOW + timedelta(hours=3))
    c.commit()
    summary = feedback_summary(c.store, NOW + timedelta(days=8))
    inv = [r for r in summary["by_variant"] if r["scenario"] == "invite"]
    assert sum(r["joined"] for r in inv) == 1 and sum(r["replied"] for r in inv) == 2
    assert summary["totals"]["join_rate"] == 0.5


# ---- siyu invite end to end --------------------------------------------------------------
def siyu(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for key in ("SIYU_DB", "SIYU_LLM_BASE_URL", "SIYU_LLM_MODEL", "SIYU_LLM_API_KEY"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert (proc.returncode == 0) == ok, proc.stderr
    return proc


def test_cli_invite_json_contract_and_text(tmp_path: Path) -> None:
    c = community(tmp_path)
    del c
    as_of = "2026-11-20T20:00:00+08:00"
    doc = json.loads(siyu("invite", "周末亲子烘焙课", "--segment", "price", "--json",
                          "--as-of", as_of, cwd=tmp_path).stdout)
    assert set(doc) == {"activity", "segment", "invites", "skipped"}
    assert doc["activity"] == "周末亲子烘焙课" and doc["segment"] == "price"
    assert [i["member_id"] for i in doc["invites"]] == ["wxid_price", "wxid_quiet"]
    for item in doc["invites"]:
        assert {"member_id", "text", "why"} <= set(item)
        assert "周末亲子烘焙课" in item["text"] and item["why"]
    item = doc["invites"][0]
    assert doc["skipped"] == [{"member_id": "wxid_gone", "reason": "opted_out",
                               "name": "退群的人", "detail": "已选择退出，不再打扰"}]

    text = siyu("invite", "周末亲子烘焙课", "--segment", "price", "--as-of", as_of,
                cwd=tmp_path).stdout
    assert "活动邀请草稿" in text and "价格敏感型" in text and "朵朵妈" in text
    assert "跳过" in text and "opted_out" in text and f"#{item['id']}" in text

    bad = siyu("invite", "周末亲子烘焙课", "--segment", "vip", cwd=tmp_path, ok=False)
    assert bad.returncode == 1 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "vip" in bad.stderr


# ---- an invite promises only what the operator gave ----------------------------------------
# Facts an invite must never state unless the operator typed them: perks, discounts, gifts,
# who may come along, what happens there, how many seats.
CLAIMS = ("券", "折扣", "福利", "礼", "送", "优惠", "特价", "满减", "免费", "专享", "试吃",
          "亲子", "带宝宝", "带娃", "互动环节", "品牌方", "现场", "打卡", "名额", "报名了", "都在")


def test_shipped_invite_templates_state_no_facts() -> None:
    from persona.playbook import default_playbook

    scenario = default_playbook().scenario("invite")
    for variant in scenario.variants:
        for template in variant.templates:
            found = [w for w in CLAIMS if w in template]
            assert not found, (variant.key, template, found)


def test_invite_says_only_the_time_place_and_perk_given(tmp_path: Path) -> None:
    from handlers.invites import InviteDetails

    c = community(tmp_path)
    c.say("wxid_parent", "宝宝最近老是夜醒，大家有什么办法吗？宝宝辅食怎么做", ago(2), "朵朵妈")
    c.commit()
    bare = invite(c, "双十二数码专场", "mature").invites
    assert bare
    for v in bare:
        assert not [w for w in CLAIMS if w in v.row.text], v.row.text

    details = InviteDetails(time="12月12日 19:00", place="门店二楼", perk="到场送试用装")
    run = draft_invites(c.store, c.settings, c.labels, "双十二数码专场", "new", NOW,
                        details=details)
    assert run.invites
    for v in run.invites:
        assert v.row.text.endswith("时间：12月12日 19:00；地点：门店二楼；福利：到场送试用装。")
        head = v.row.text.removesuffix(details.sentence())
        assert not [w for w in CLAIMS if w in head], v.row.text


def test_chat_details_are_split_from_the_command_words() -> None:
    from handlers.invites import InviteDetails, split_details

    words, details = split_details(["周末", "烘焙课", "new", "时间=周六10点", "地点＝门店",
                                    "福利=到场送围裙", "备注=无"])
    assert words == ["周末", "烘焙课", "new", "备注=无"]
    assert details == InviteDetails("周六10点", "门店", "到场送围裙")
    assert InviteDetails().sentence() == "" and InviteDetails(place=" ").sentence() == ""


def test_cli_invite_flags_reach_the_text(tmp_path: Path) -> None:
    community(tmp_path)
    doc = json.loads(siyu("invite", "双十二数码专场", "--segment", "price", "--json",
                          "--time", "12月12日 19:00", "--place", "门店二楼",
                          "--as-of", "2026-11-20T20:00:00+08:00", cwd=tmp_path).stdout)
    assert doc["invites"]
    for item in doc["invites"]:
        assert item["text"].endswith("时间：12月12日 19:00；地点：门店二楼。")
        assert "福利" not in item["text"] and "券" not in item["text"]


def test_chat_invite_carries_the_details_typed(tmp_path: Path) -> None:
    """/邀请 in chat: the words after the segment code as 时间=… 地点=… 福利=…."""
    from tests.test_bot import run_console

    script = ("朵朵妈: 有没有优惠？太贵了\n"
              "私聊 运营小美: /邀请 双十二 数码专场 new 时间=12月12日19点 地点=门店二楼\n")
    out, _ = run_console(tmp_path, script)
    assert "「双十二 数码专场」" in out
    assert "分群 新用户（new）" in out  # the segment's name, not its code twice
    assert "时间：12月12日19点；地点：门店二楼。" in out
    drafts = out.split("活动邀请草稿")[-1]
    given = "时间：12月12日19点；地点：门店二楼。"
    assert given in drafts
    assert not [w for w in CLAIMS if w in drafts.replace(given, "")]
