"""Importing business data: orders, content events and id links, from typed rows to storage.

The sources (`bot/sources/business.py`) have already turned each CSV row into a typed row or
a `Reject`. Here each row is resolved to a member, checked against the rest of the file and
against what is stored, and written in batches — one transaction per batch, so a crash
leaves whole batches and a re-run continues (everything is keyed, so a re-run adds nothing
twice).

Who a `member` value names, in order: member id, any platform id (wxid …), an external
customer id or a phone number linked by `siyu link`. A row naming nobody is rejected with a
pointer to `siyu link`; linking afterwards and importing the same file again picks those rows
up, because every row that was already imported is a duplicate then.

Decisions the reasons make visible:
- an order id seen earlier in the same file: the later row is rejected (the first one wins),
  whether or not its content is the same, because a repeated id in one export is an export
  problem the operator should see;
- an order id already stored: same content → duplicate (idempotent); other content →
  rejected, the stored order is never overwritten;
- a content event identical to one already stored or earlier in the file is a duplicate: an
  event has no id, so identical fields are the same interaction;
- rows of members who opted out are dropped and counted, like their messages.

Afterwards `finish` rebuilds the stored tags of every member the import touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from handlers.events import Reject
from handlers.learn import relearn
from handlers.personas import refresh_stale_tags
from handlers.rows import EventRow, LinkRow, OrderRow, normalize_phone, short
from handlers.settings import Settings
from storage.business import (
    BusinessStore,
    NewContentEvent,
    NewLink,
    NewOrder,
    StoredLink,
    StoredOrder,
)
from storage.repo import Store

R = TypeVar("R")
_LINE = re.compile(r":(\d+)$")
LINK_HINT = "请先用 siyu link 关联外部客户 ID 或手机号，再重新导入本文件（已导入的行不会重复）"


@dataclass(slots=True)
class ImportReport:
    """Counts for one business file, in the same words as `siyu ingest`'s."""

    kind: str  # "orders" | "events" | "links"
    file: str
    new: int = 0
    duplicate: int = 0
    opted_out: int = 0
    rejects: list[Reject] = field(default_factory=list)
    personas_updated: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "file": self.file, "new": self.new,
            "duplicate": self.duplicate, "opted_out": self.opted_out,
            "personas_updated": self.personas_updated,
            "rejected": [{"origin": r.origin, "reason": r.reason} for r in self.rejects],
        }

    def sort_rejects(self) -> None:
        """Rejects in file order: conflicts found at write time come back after the batch."""
        def line(r: Reject) -> int:
            m = _LINE.search(r.origin)
            return int(m.group(1)) if m else 0

        self.rejects.sort(key=line)


def _batches(items: Iterable[R | Reject], size: int, report: ImportReport
             ) -> Iterable[list[R]]:
    """Rows in lists of `size`; source rejects go straight into the report."""
    batch: list[R] = []
    for item in items:
        if isinstance(item, Reject):
            report.rejects.append(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Members:
    """Resolves member column values batch by batch, with names for the reasons."""

    def __init__(self, store: Store, business: BusinessStore) -> None:
        self.store = store
        self.business = business

    def resolve(self, values: Iterable[str]) -> dict[str, list[int]]:
        keys = {v: normalize_phone(v) for v in dict.fromkeys(values)}
        return self.business.resolve_members(keys)

    def reject_reason(self, value: str, pks: Sequence[int]) -> str | None:
        """None when `value` names exactly one member."""
        if not pks:
            return (f"member {short(value)} 找不到对应成员（不是成员 ID、微信 ID、昵称或别名，"
                    f"也没有用 siyu link 关联过）；{LINK_HINT}")
        if len(pks) > 1:
            names = "、".join(_names(self.store, pks).values())
            return (f"member {short(value)} 对应 {len(pks)} 位成员（{names}），无法确定；"
                    "请改用其中一位的成员 ID")
        return None


def import_orders(store: Store, rows: Iterable[OrderRow | Reject], settings: Settings,
                  file: str = "") -> ImportReport:
    """Write the orders of one file; call `finish` afterwards to rebuild the touched personas."""
    report = ImportReport("orders", file)
    business = BusinessStore.of(store)
    members = _Members(store, business)
    seen: dict[str, OrderRow] = {}
    for batch in _batches(rows, settings.batch_size, report):
        resolved = members.resolve(r.member for r in batch)
        new: list[NewOrder] = []
        for row in batch:
            pks = resolved[row.member]
            reason = members.reject_reason(row.member, pks)
            if reason is None:
                earlier = seen.get(row.order_id)
                if earlier is not None:
                    same = "内容相同" if _same_order(earlier, row) else "内容不同"
                    reason = (f"order_id {short(row.order_id)} 与第 {_line(earlier.origin)} 行"
                              f"重复（{same}），只导入第一次出现的那行")
            if reason is not None:
                report.rejects.append(Reject(row.origin, reason))
                continue
            seen[row.order_id] = row
            new.append(NewOrder(row.order_id, pks[0], row.ts, row.amount, row.category,
                                row.coupon_used, row.origin))
        result = business.write_orders(new)
        report.new += result.new
        report.duplicate += result.duplicate
        report.opted_out += result.opted_out
        if result.conflicts:
            names = _names(store, {o.member_pk for pair in result.conflicts for o in pair})
            for mine, stored in result.conflicts:
                report.rejects.append(Reject(mine.origin,
                                             _order_conflict(mine, stored, names, settings.tz)))
    report.sort_rejects()
    return report


def import_events(store: Store, rows: Iterable[EventRow | Reject], settings: Settings,
                  file: str = "") -> ImportReport:
    """Write the content events of one file; call `finish` afterwards."""
    report = ImportReport("events", file)
    business = BusinessStore.of(store)
    members = _Members(store, business)
    seen: set[tuple[int, str]] = set()
    for batch in _batches(rows, settings.batch_size, report):
        resolved = members.resolve(r.member for r in batch)
        new: list[NewContentEvent] = []
        for row in batch:
            pks = resolved[row.member]
            reason = members.reject_reason(row.member, pks)
            if reason is not None:
                report.rejects.append(Reject(row.origin, reason))
                continue
            event = NewContentEvent(pks[0], row.event, row.origin)
            if event.key in seen:
                report.duplicate += 1
                continue
            seen.add(event.key)
            new.append(event)
        result = business.write_events(new)
        report.new += result.new
        report.duplicate += result.duplicate
        report.opted_out += result.opted_out
    report.sort_rejects()
    return report


def import_links(store: Store, rows: Iterable[LinkRow | Reject], settings: Settings,
                 file: str = "") -> ImportReport:
    """Write external-id / phone links. Links change no persona by themselves: the orders that
    name these ids are picked up by importing them (again) after linking."""
    report = ImportReport("links", file)
    business = BusinessStore.of(store)
    seen: dict[tuple[str, str], tuple[int, str]] = {}  # (kind, value) → (member pk, origin)
    for batch in _batches(rows, settings.batch_size, report):
        resolved = business.resolve_link_targets(r.member for r in batch)
        # Stored links first, so a row refused against storage never shadows a later row.
        stored = business.stored_links((r.kind, r.value) for r in batch)
        new: list[NewLink] = []
        for row in batch:
            pks = resolved[row.member]
            label = _kind_label(row.kind)
            if not pks:
                report.rejects.append(Reject(row.origin, (
                    f"member {short(row.member)} 找不到对应成员"
                    "（可用成员 ID、微信 ID、账号名、群昵称或别名）")))
                continue
            if len(pks) > 1:
                names = "、".join(_names(store, pks).values())
                report.rejects.append(Reject(row.origin, (
                    f"member {short(row.member)} 对应 {len(pks)} 位成员（{names}），"
                    "无法确定；请改用其中一位的成员 ID")))
                continue
            key = (row.kind, row.value)
            old = stored.get(key)
            if old is not None:
                if old.member_pk == pks[0]:
                    report.duplicate += 1
                else:
                    link = NewLink(row.kind, row.value, pks[0], row.origin)
                    report.rejects.append(Reject(row.origin, _link_conflict(store, link, old)))
                continue
            earlier = seen.get(key)
            if earlier is not None:
                if earlier[0] == pks[0]:
                    report.duplicate += 1
                else:
                    names = _names(store, [earlier[0], pks[0]])
                    report.rejects.append(Reject(row.origin, (
                        f"{label} {short(row.value)} 在第 {_line(earlier[1])} 行已关联到 "
                        f"{names[earlier[0]]}，本行又指向 {names[pks[0]]}：冲突，未导入")))
                continue
            seen[key] = (pks[0], row.origin)
            new.append(NewLink(row.kind, row.value, pks[0], row.origin))
        result = business.write_links(new)
        report.new += result.new
        report.duplicate += result.duplicate
        for mine, stored in result.conflicts:
            report.rejects.append(Reject(mine.origin, _link_conflict(store, mine, stored)))
    report.sort_rejects()
    return report


def finish(store: Store, settings: Settings, labels: Mapping[str, str],
           report: ImportReport | None = None) -> int:
    """Learn interest words again (orders say who bought what), then rebuild the stored
    tags of members whose orders, events or learned words changed."""
    relearn(store, settings)
    updated = refresh_stale_tags(store, settings, labels)
    if report is not None:
        report.personas_updated = updated
    return updated


# ---- reasons --------------------------------------------------------------------------------
def _line(origin: str) -> str:
    m = _LINE.search(origin)
    return m.group(1) if m else origin


def _same_order(a: OrderRow, b: OrderRow) -> bool:
    return (a.member, a.ts, a.amount, a.category, a.coupon_used) == (
        b.member, b.ts, b.amount, b.category, b.coupon_used)


def _order_conflict(mine: NewOrder, stored: StoredOrder, names: Mapping[int, str],
                    tz: ZoneInfo) -> str:
    diffs: list[str] = []
    checks: list[tuple[str, Any, Any, Callable[[Any], str]]] = [
        ("member", stored.member_pk, mine.member_pk, lambda pk: names.get(pk, str(pk))),
        ("ts", stored.ts, mine.ts, lambda t: t.astimezone(tz).isoformat(timespec="seconds")),
        ("amount", round(stored.amount, 2), round(mine.amount, 2), lambda a: f"{a:.2f}"),
        ("category", stored.category, mine.category, lambda c: c or "空"),
        ("coupon_used", stored.coupon_used, mine.coupon_used, lambda c: "是" if c else "否"),
    ]
    for name, old, new, fmt in checks:
        if old != new:
            diffs.append(f"{name} {fmt(old)} → {fmt(new)}")
    where = f"（来自 {stored.origin}）" if stored.origin else ""
    return (f"order_id {short(mine.order_id)} 已导入过{where}但内容不同：{'；'.join(diffs)}；"
            "已有订单不会被覆盖")


def _kind_label(kind: str) -> str:
    return "phone" if kind == "phone" else "external_id"


def _names(store: Store, pks: Iterable[int]) -> dict[int, str]:
    return {m.pk: f"{m.name}({m.member_id})" for m in store.members(pks)}


def _link_conflict(store: Store, mine: NewLink, stored: StoredLink) -> str:
    names = _names(store, [mine.member_pk, stored.member_pk])
    where = f"（{stored.origin}）" if stored.origin else ""
    return (f"{_kind_label(mine.kind)} {short(mine.value)} 已关联到 {names[stored.member_pk]}"
            f"{where}，本行指向 {names[mine.member_pk]}：冲突，不会覆盖已有关联")
