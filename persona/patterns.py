"""Shared patterns (共性规律): what goes together, what differs, and what separates segments.

The method asks for patterns such as "buyers of A also like content B" and "evening-active
members spend more", and warns against detail that does not separate groups. Three kinds:

- association rules "talks about interest X / shares or consumes content Y / bought category Z
  → bought category W", with support (share of all members having both), confidence
  (share of X who bought W) and lift (confidence over W's base rate). A rule is reported only
  with support ≥ `min_support`, at least `min_count` members, and lift > `min_lift`, so a
  coincidence between two members never reaches a manager.
- contrasts: a member group (active time of day, content consumed) against everyone else, on
  per-buyer average order value and orders per buyer. Both means, both buyer counts and the
  ratio are reported; a side with fewer than `min_contrast_buyers` buyers, or a ratio within
  `min_contrast_ratio` of 1, is skipped.
- feature importance: a small seeded random forest predicts the value tier and the circle from
  behaviour features; its top features (Chinese names) say which few features actually
  separate the segments, which keeps summaries short.

All counts are vectorised (member × item boolean matrices and one matrix product), so the cost
grows linearly with members.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from persona.commerce import CONTENT_TYPES
from persona.member_table import MemberTable
from persona.persona import TIME_LABELS
from persona.segment_params import CONTENT_KIND_LABELS, CONTENT_KINDS, TIME_CODES, SegmentParams
from persona.signals import MOTIVATION_CODES

METRIC_LABELS = {"aov": "客单价", "orders": "人均订单数"}
METRIC_UNITS = {"aov": " 元", "orders": " 单"}
FEATURE_LABELS = {
    "recent_messages": "近30天发言数", "messages": "累计发言数", "orders": "订单数",
    "monetary": "消费金额", "aov": "客单价", "coupon_share": "用券订单占比",
    "days_since_active": "距上次活跃天数", "days_since_order": "距上次下单天数",
}
CONTENT_PHRASES = {
    "link": "常在群里分享链接的成员", "image": "常在群里发图片的成员",
    "mini_program": "常分享小程序的成员", "video": "爱看或分享视频的成员",
    "article": "爱看图文的成员", "live": "爱看直播的成员",
}
MIN_IMPORTANCE_MEMBERS = 8
MIN_IMPORTANCE = 0.02
# "Never" for day counts, so a member without orders sorts after every buyer.
NEVER_DAYS = 3650.0


Item = dict[str, str]


def _item(kind: str, code: str, label: str) -> Item:
    return {"kind": kind, "code": code, "label": label}


def _phrase(item: Item) -> str:
    """How an item reads as a group of members in a sentence."""
    kind, label = item["kind"], item["label"]
    if kind == "interest":
        return f"聊「{label}」的成员"
    if kind == "content":
        return CONTENT_PHRASES.get(item["code"], f"偏好{label}的成员")
    if kind == "time":
        return f"{label}的成员"
    return f"买过「{label}」的成员"


def _antecedents(t: MemberTable, params: SegmentParams) -> tuple[list[Item], np.ndarray]:
    items: list[Item] = []
    cols: list[np.ndarray] = []
    for j, code in enumerate(t.interest_codes):
        items.append(_item("interest", code, t.label(code)))
        cols.append(t.interests[:, j] >= params.interest_min_score)
    for j, code in enumerate(CONTENT_KINDS):
        items.append(_item("content", code, t.label(code)))
        cols.append(t.content_mask(j))
    for j, code in enumerate(t.categories):
        items.append(_item("category", code, code))
        cols.append(t.bought[:, j] > 0)
    matrix = np.column_stack(cols) if cols else np.zeros((len(t), 0), dtype=bool)
    return items, matrix


def association_rules(t: MemberTable, params: SegmentParams,
                      category_interests: Callable[[str], Sequence[str]] | None = None
                      ) -> list[dict[str, Any]]:
    """Rules X → bought category W that pass support, count and lift (module docstring).

    An order of a category that names an interest is evidence of that interest
    (persona/aggregate.py), so "talks about 运动健身 → bought 运动健身" would be the purchases
    finding themselves: such a pair is skipped, like a category with itself."""
    named = category_interests or (lambda category: ())
    n = len(t)
    if n == 0 or not t.categories:
        return []
    items, a = _antecedents(t, params)
    b = t.bought > 0
    # float32 matrix products are exact for counts below 2**24 and run on BLAS.
    both = a.astype(np.float32).T @ b.astype(np.float32)
    a_count = a.sum(axis=0)
    b_count = b.sum(axis=0)
    rules = []
    for i, j in zip(*np.nonzero(both >= params.min_count), strict=True):
        item = items[i]
        if item["kind"] == "category" and item["code"] == t.categories[j]:
            continue
        if item["kind"] == "interest" and item["code"] in named(t.categories[j]):
            continue
        count = int(both[i, j])
        support = count / n
        confidence = count / int(a_count[i])
        base = int(b_count[j]) / n
        lift = confidence / base
        if support < params.min_support or not lift > params.min_lift:
            continue
        cat = t.categories[j]
        rules.append({
            "kind": "association", "antecedent": item,
            "consequent": _item("category", cat, cat),
            "count": count, "antecedent_count": int(a_count[i]),
            "consequent_count": int(b_count[j]),
            "support": round(support, 4), "confidence": round(confidence, 4),
            "lift": round(lift, 3),
            "description": (f"{_phrase(item)}中 {confidence:.0%} 买过「{cat}」"
                            f"（全体成员为 {base:.0%}，是 {lift:.1f} 倍），共 {count} 人"),
        })
    rules.sort(key=lambda r: (-r["lift"], -r["count"], r["antecedent"]["kind"],
                              r["antecedent"]["code"], r["consequent"]["code"]))
    return rules[: params.max_rules]


def contrasts(t: MemberTable, params: SegmentParams) -> list[dict[str, Any]]:
    """Group vs rest on per-buyer AOV and orders per buyer (module docstring)."""
    buyers = t.orders > 0
    if int(buyers.sum()) < 2 * params.min_contrast_buyers:
        return []
    metrics = {"aov": t.aov, "orders": t.orders.astype(np.float64)}
    groups: list[tuple[Item, np.ndarray]] = []
    for j, code in enumerate(TIME_CODES):
        groups.append((_item("time", code, TIME_LABELS[code]), t.times[:, j] > 0))
    for j, code in enumerate(CONTENT_KINDS):
        groups.append((_item("content", code, t.label(code)), t.content_mask(j)))
    out = []
    for item, mask in groups:
        inside, rest = buyers & mask, buyers & ~mask
        n_in, n_rest = int(inside.sum()), int(rest.sum())
        if n_in < params.min_contrast_buyers or n_rest < params.min_contrast_buyers:
            continue
        for metric, values in metrics.items():
            mean_in, mean_rest = float(values[inside].mean()), float(values[rest].mean())
            if mean_rest <= 0 or mean_in <= 0:
                continue
            ratio = mean_in / mean_rest
            if 1 / params.min_contrast_ratio < ratio < params.min_contrast_ratio:
                continue
            unit = METRIC_UNITS[metric]
            out.append({
                "kind": "contrast", "group": item, "metric": metric,
                "metric_label": METRIC_LABELS[metric],
                "group_mean": round(mean_in, 2), "group_buyers": n_in,
                "rest_mean": round(mean_rest, 2), "rest_buyers": n_rest,
                "ratio": round(ratio, 3),
                "description": (
                    f"{_phrase(item)}{METRIC_LABELS[metric]}平均 {mean_in:.1f}{unit}，"
                    f"其余成员 {mean_rest:.1f}{unit}（{ratio:.1f} 倍；"
                    f"买家 {n_in} 人 vs {n_rest} 人）"),
            })
    out.sort(key=lambda c: (-abs(math.log(c["ratio"])), c["group"]["kind"], c["group"]["code"],
                            c["metric"]))
    return out[: params.max_contrasts]


def find_patterns(t: MemberTable, params: SegmentParams,
                  category_interests: Callable[[str], Sequence[str]] | None = None
                  ) -> list[dict[str, Any]]:
    """Association rules first (strongest lift first), then contrasts."""
    return association_rules(t, params, category_interests) + contrasts(t, params)


def feature_matrix(t: MemberTable, rows: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
    """Feature matrix for the given members (row indices), with feature codes and Chinese
    names. Only sampled rows are built, so a million members never make a dense copy."""
    cols: list[np.ndarray] = []
    codes: list[str] = []
    names: list[str] = []

    def add(code: str, name: str, values: np.ndarray) -> None:
        cols.append(np.asarray(values, dtype=np.float64))
        codes.append(code)
        names.append(name)

    for j, code in enumerate(t.interest_codes):
        add(f"interest:{code}", f"兴趣:{t.label(code)}", t.interests[rows, j])
    for j, code in enumerate(TIME_CODES):
        add(f"time:{code}", f"时段:{TIME_LABELS[code]}", t.times[rows, j])
    for j, code in enumerate(CONTENT_KINDS):
        add(f"content:{code}", f"内容偏好:{t.label(code)}", t.content[rows, j])
    for j, code in enumerate(MOTIVATION_CODES):
        add(f"motivation:{code}", f"动机:{t.label(code)}", t.motivation[rows, j])
    for j, code in enumerate(CONTENT_TYPES):
        add(f"event:{code}", f"内容互动:{CONTENT_KIND_LABELS[code]}", t.event_counts[rows, j])
    orders = t.orders[rows]
    derived = {
        "recent_messages": t.recent_messages[rows], "messages": t.messages[rows],
        "orders": orders, "monetary": t.monetary[rows], "aov": t.aov[rows],
        "coupon_share": np.where(orders > 0, t.coupon_orders[rows] / np.maximum(orders, 1), 0.0),
        "days_since_active": np.nan_to_num(t.last_active_age[rows] / 86400.0, nan=NEVER_DAYS),
        "days_since_order": np.nan_to_num(t.last_order_age[rows] / 86400.0, nan=NEVER_DAYS),
    }
    for code, values in derived.items():
        add(code, FEATURE_LABELS[code], values)
    matrix = np.column_stack(cols) if cols else np.zeros((len(rows), 0))
    return matrix, codes, names


def _importance(t: MemberTable, rows: np.ndarray, y: np.ndarray,
                params: SegmentParams) -> list[dict[str, Any]]:
    """Top features of a seeded random forest predicting `y` (labels of `rows`)."""
    classes, counts = np.unique(y, return_counts=True)
    if len(y) < MIN_IMPORTANCE_MEMBERS or len(classes) < 2 or counts.min() < 2:
        return []
    if len(y) > params.importance_sample:
        rng = np.random.default_rng(params.seed)
        pick = np.sort(rng.choice(len(y), params.importance_sample, replace=False))
        rows, y = rows[pick], y[pick]
    x, codes, names = feature_matrix(t, rows)
    varying = x.std(axis=0) > 0
    if not varying.any():
        return []
    forest = RandomForestClassifier(n_estimators=40, max_depth=6, random_state=params.seed,
                                    n_jobs=1, class_weight="balanced")
    forest.fit(x[:, varying], y)
    kept = np.flatnonzero(varying)
    scores = forest.feature_importances_
    order = sorted(range(len(kept)), key=lambda j: (-round(float(scores[j]), 6), codes[kept[j]]))
    return [{"feature": codes[kept[j]], "label": names[kept[j]],
             "importance": round(float(scores[j]), 3)}
            for j in order[: params.importance_top] if scores[j] >= MIN_IMPORTANCE]


def feature_importance(t: MemberTable, segments: Mapping[str, np.ndarray],
                       params: SegmentParams) -> dict[str, list[dict[str, Any]]]:
    """Top features separating the value tiers and the circles (members in a circle only)."""
    value = np.asarray(segments["value"], dtype=str)
    cluster = segments["cluster"]
    inside = np.flatnonzero(np.array([c is not None for c in cluster], dtype=bool))
    return {
        "value": _importance(t, np.arange(len(t)), value, params),
        "cluster": _importance(t, inside, np.asarray(cluster[inside], dtype=str), params),
    }
