"""Orders, events and links find people the way operators name them (issue 17, item 5): by
account name, group nickname and alias as well as ids; an ambiguous name lists who it could
be, and a file whose rows mostly found nobody ends loudly with a non-zero exit. Run as a user
does: `siyu` in a temp directory."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import ingest_group, siyu


def _member(pid: str, account: str, nickname: str | None = None,
            aliases: tuple[str, ...] = ()) -> dict[str, object]:
    m: dict[str, object] = {"platformId": pid, "accountName": account, "aliases": list(aliases)}
    if nickname:
        m["groupNickname"] = nickname
    return m


def _community(tmp_path: Path) -> None:
    people = [_member("wxid_duoduo", "朵朵妈", "朵朵妈-浦东", ("朵朵",)),
              _member("wxid_mili", "米粒妈妈"),
              _member("wxid_a", "小A", aliases=("宝妈",)),
              _member("wxid_b", "小B", aliases=("宝妈",))]
    messages = [{"sender": m["platformId"], "accountName": m["accountName"],
                 "groupNickname": m.get("groupNickname"), "timestamp": 1763640000 + i * 60,
                 "type": 0, "content": "有没有优惠？我家宝宝8个月了"}
                for i, m in enumerate(people)]
    ingest_group(tmp_path, people, messages)


def _orders(tmp_path: Path, members: list[str]) -> None:
    lines = ["member,order_id,ts,amount,category,coupon_used"]
    lines += [f"{m},o{i},2025-11-20T10:00:00+08:00,{99 + i},母婴,0"
              for i, m in enumerate(members, start=1)]
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_orders_find_people_by_account_name_nickname_and_alias(tmp_path: Path) -> None:
    _community(tmp_path)
    _orders(tmp_path, ["朵朵妈", "朵朵妈-浦东", "朵朵", "米粒妈妈", "wxid_mili"])
    proc = siyu("import-orders", "orders.csv", cwd=tmp_path)
    assert "新增 5 笔订单，重复 0 笔，拒绝 0 行" in proc.stdout, proc.stderr
    card = json.loads(siyu("persona", "wxid_duoduo", "--json", cwd=tmp_path).stdout)
    assert card["stats"]["orders"] == 3


def test_an_ambiguous_name_lists_its_candidates(tmp_path: Path) -> None:
    _community(tmp_path)
    _orders(tmp_path, ["宝妈", "朵朵妈"])
    proc = siyu("import-orders", "orders.csv", cwd=tmp_path)
    assert "orders.csv:2: member '宝妈' 对应 2 位成员（小A(wxid_a)、小B(wxid_b)），无法确定" \
        in proc.stderr


def test_most_rows_rejected_ends_loudly_with_a_non_zero_exit(tmp_path: Path) -> None:
    _community(tmp_path)
    _orders(tmp_path, ["朵朵妈", "路人甲", "路人乙", "宝妈"])
    proc = siyu("import-orders", "orders.csv", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "新增 1 笔订单" in proc.stdout  # the good row is in
    assert "4 行中 3 行找不到对应的成员（超过一半），其中找不到成员 2 行、对应多位成员 1 行" \
        in proc.stderr


def test_link_accepts_the_account_name(tmp_path: Path) -> None:
    _community(tmp_path)
    (tmp_path / "links.csv").write_text("member,external_id\n朵朵妈,CRM-1\n朵朵,CRM-2\n",
                                        encoding="utf-8")
    proc = siyu("link", "links.csv", cwd=tmp_path)
    assert "新增 2 条关联" in proc.stdout and not proc.stderr.strip(), proc.stderr
