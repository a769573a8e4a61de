"""Business CSV values as people and spreadsheets write them → typed values: times in a
dozen spellings, money with its units and Excel's habits, yes/no flags, durations.

Pure: each parser raises `BadItem` naming the field as the operator sees it, so the reader
(bot/sources/business.py) turns it into a `Reject` for that line.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from bot.sources.common import (
    BadItem,
    epoch,
    short,
)

# What shop back-ends (有赞, 微店, 抖店, 淘宝, 企业微信 exports) call each field's column, the
# most specific first: a file holding both 实付金额 and 订单金额 is read by what was paid. A
# column named exactly like the field, or named by --map, comes before any of these; each
# column serves one field, and the fields are matched in the reader's order (a links file's
# external_id takes 客户ID before member could).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "external_id": ("外部客户ID", "外部联系人ID", "外部ID", "客户ID", "客户编号",
                    "external_userid"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "member": ("会员ID", "会员", "成员ID", "成员", "微信号", "客户ID", "客户编号", "客户",
               "买家ID", "买家", "用户ID", "下单人", "手机号", "手机"),
    "order_id": ("订单号", "订单编号", "订单ID", "单号"),
    "ts": ("下单时间", "付款时间", "支付时间", "成交时间", "订单创建时间", "创建时间", "时间"),
    "amount": ("实付金额", "实付款", "实收金额", "支付金额", "付款金额", "订单金额", "金额"),
    "category": ("商品类目", "类目", "品类", "商品分类", "商品类别", "分类"),
    "coupon_used": ("是否用券", "是否使用优惠券", "使用优惠券", "用券", "优惠券"),
    "content_type": ("内容类型", "内容形式", "类型"),
    "action": ("行为", "动作", "互动类型", "互动"),
    "duration": ("时长", "停留时长", "观看时长", "阅读时长"),
}

# An order above this is a unit mistake (fen for yuan) or a typo, never a community purchase.
MAX_AMOUNT = Decimal(1_000_000)
# One interaction longer than a day is a unit mistake (milliseconds) or a broken export.
MAX_DURATION = 86_400.0
# Earlier "order times" are typos: the private-domain shops this serves postdate WeChat.
MIN_YEAR = 2000
_FEN = Decimal("0.01")
_TRUE = frozenset({"1", "1.0", "true", "t", "yes", "y", "是", "有", "已用", "用券"})
_FALSE = frozenset({"", "0", "0.0", "false", "f", "no", "n", "否", "无", "未用", "-"})

# "2026年9月21日 21:24", "2026/9/21 21:24:15", "2026.09.21": what spreadsheets and Chinese
# back-offices write when ISO 8601 is not enforced. Read in the community's zone.
_LOOSE_TIME = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?)?")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_BASIC_DATE = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE][+-]?\d+")

# ---- field parsers (pure; raise BadItem with the field's display name) -----------------------
def parse_time(text: str, name: str, tz: ZoneInfo) -> datetime:
    """ISO 8601, a loose Chinese/slash date-time, or Unix seconds → aware UTC.

    A time without an offset is the community's local time (`tz`), as shop back-offices
    write it; Unix seconds are absolute.
    """
    raw = text.strip()
    if not raw:
        raise BadItem(f"{name} 为空")
    ts: datetime | None = None
    if _BASIC_DATE.fullmatch(raw):  # 20260921: a date, not 1970 in Unix seconds
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    elif _NUMBER.fullmatch(raw):
        ts = epoch(raw, name)
        if ts.year < MIN_YEAR:
            raise BadItem(f"{name} 年份不合理: {short(raw)}（Unix 秒应为 10 位数字）")
        return ts
    try:
        ts = datetime.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        m = _LOOSE_TIME.fullmatch(raw)
        if m:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            try:
                ts = datetime(y, mo, d, h, mi, s)
            except ValueError:
                ts = None
    if ts is None:
        raise BadItem(f"{name} 无法解析为时间: {short(raw)}"
                      "（支持 ISO 8601，如 2026-09-21T21:24:15+08:00，或 Unix 秒）")
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=tz)
    if not MIN_YEAR <= ts.year < 2100:
        raise BadItem(f"{name} 年份不合理: {short(raw)}")
    return ts.astimezone(UTC)


def parse_amount(text: str, name: str) -> float:
    """Yuan as exports write it ("¥1,299.00", "76.8元", "RMB 59") → float rounded to fen.

    Zero is accepted on purpose: 0元试用 / free-gift orders are real purchases and say which
    category someone takes. Negative amounts (refunds) and amounts above 1,000,000 yuan are
    refused with the reason, because both would silently distort spend and AOV.
    """
    raw = text.strip()
    if not raw:
        raise BadItem(f"{name} 为空")
    cleaned = raw
    for prefix in ("¥", "￥", "RMB", "rmb", "CNY", "cny"):
        cleaned = cleaned.removeprefix(prefix)
    cleaned = cleaned.strip().removesuffix("元").replace(",", "").replace("，", "").replace(
        " ", "")
    for prefix in ("¥", "￥"):  # "-¥5" as well as "¥-5"
        cleaned = cleaned.replace(prefix, "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise BadItem(f"{name} 不是金额: {short(raw)}（应为以元为单位的数字，如 1299.00）"
                      ) from None
    if not value.is_finite():
        raise BadItem(f"{name} 不是金额: {short(raw)}")
    if value < 0:
        raise BadItem(f"{name} 为负数: {short(raw)}（退款不要作为订单导入）")
    if value > MAX_AMOUNT:
        raise BadItem(f"{name} 超过 1,000,000 元: {short(raw)}（单位是否写成了分？）")
    return float(value.quantize(_FEN, rounding=ROUND_HALF_UP))


def parse_flag(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadItem(f"{name} 无法识别: {short(text)}（可用 0/1、true/false、是/否，空为否）")


def parse_duration(text: str, name: str) -> float | None:
    raw = text.strip()
    if not raw:
        return None
    cleaned = raw.lower().removesuffix("秒").removesuffix("s").strip()
    try:
        seconds = float(cleaned)
    except ValueError:
        raise BadItem(f"{name} 不是秒数: {short(raw)}") from None
    if not math.isfinite(seconds):
        raise BadItem(f"{name} 不是秒数: {short(raw)}")
    if seconds < 0:
        raise BadItem(f"{name} 为负数: {short(raw)}")
    if seconds > MAX_DURATION:
        raise BadItem(f"{name} 超过 24 小时: {short(raw)}（单位是否写成了毫秒？）")
    return seconds
