"""Run-to-run comparison: how the community moved between two segmentation runs.

The method's fourth step is to re-check personas against new data regularly. Storing each run
and comparing it with the previous one turns that into facts a manager can act on: "12 members
moved from growth to high", "the 宝妈 circle kept 90% of its people", "a new circle appeared".

- sizes: per dimension and code, before / after / delta (motivation and circle "none" included);
- moves: for members in both runs, transitions from → to with counts and a few example ids;
- clusters: stability as the adjusted Rand index over members clustered in both runs (1.0 =
  the same grouping, about 0 = unrelated), per kept code the Jaccard overlap of its members,
  and the codes that are new or vanished.
All of it is array work on member ids sorted once, so it scales with the runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from persona.segment_params import DIMENSIONS, NONE_KEY
from persona.segment_result import SegmentResult

COMPARED = (*DIMENSIONS, "cluster")
MAX_TRANSITIONS = 20
EXAMPLES = 3


def _by_number(codes: set[str]) -> list[str]:
    """c2 before c10."""
    return sorted(codes, key=lambda c: (len(c), c))


def _codes(column: list[str | None]) -> np.ndarray:
    return np.array([c or NONE_KEY for c in column], dtype=object)


def _sizes(before: np.ndarray, after: np.ndarray) -> dict[str, dict[str, int]]:
    b_codes, b_counts = np.unique(before, return_counts=True) if len(before) else ([], [])
    a_codes, a_counts = np.unique(after, return_counts=True) if len(after) else ([], [])
    b = dict(zip(b_codes, (int(x) for x in b_counts), strict=True))
    a = dict(zip(a_codes, (int(x) for x in a_counts), strict=True))
    return {c: {"before": b.get(c, 0), "after": a.get(c, 0), "delta": a.get(c, 0) - b.get(c, 0)}
            for c in sorted(set(b) | set(a))}


def _moves(ids: np.ndarray, before: np.ndarray, after: np.ndarray) -> dict[str, Any]:
    moved = before != after
    if not moved.any():
        return {"moved": 0, "transitions": []}
    vocab = {c: i for i, c in enumerate(sorted(set(before[moved]) | set(after[moved])))}
    names = list(vocab)
    v = len(vocab)
    pair = np.array([vocab[b] * v + vocab[a] for b, a in zip(before[moved], after[moved],
                                                               strict=True)], dtype=np.int64)
    order = np.argsort(pair, kind="stable")
    keys, starts, counts = np.unique(pair[order], return_index=True, return_counts=True)
    moved_ids = ids[moved][order]
    transitions = [{"from": names[k // v], "to": names[k % v], "count": int(c),
                    "examples": [str(x) for x in moved_ids[s: s + EXAMPLES]]}
                   for k, s, c in zip(keys, starts, counts, strict=True)]
    transitions.sort(key=lambda tr: (-tr["count"], tr["from"], tr["to"]))
    return {"moved": int(moved.sum()), "transitions": transitions[:MAX_TRANSITIONS]}


def compare_runs(previous: SegmentResult, current: SegmentResult) -> dict[str, Any]:
    """What changed from `previous` to `current` (see the module docstring)."""
    prev_ids = np.asarray(previous.member_ids, dtype=object)
    cur_ids = np.asarray(current.member_ids, dtype=object)
    common, cur_i, prev_i = np.intersect1d(cur_ids, prev_ids, assume_unique=True,
                                           return_indices=True)
    tz = current.params.tz
    out: dict[str, Any] = {
        "previous_as_of": previous.as_of.astimezone(tz).isoformat(timespec="seconds"),
        "as_of": current.as_of.astimezone(tz).isoformat(timespec="seconds"),
        "members": {"before": len(prev_ids), "after": len(cur_ids), "common": len(common),
                    "joined": len(cur_ids) - len(common), "left": len(prev_ids) - len(common)},
        "sizes": {}, "moves": {},
    }
    for dim in COMPARED:
        before, after = _codes(previous.column(dim)), _codes(current.column(dim))
        out["sizes"][dim] = _sizes(before, after)
        out["moves"][dim] = _moves(common, before[prev_i], after[cur_i])

    b_cl = _codes(previous.cluster)[prev_i]
    a_cl = _codes(current.cluster)[cur_i]
    both = (b_cl != NONE_KEY) & (a_cl != NONE_KEY)
    ari = (round(float(adjusted_rand_score(b_cl[both].astype(str), a_cl[both].astype(str))), 4)
           if both.sum() >= 2 else None)
    before_codes = {c.code for c in previous.circles} | {c for c in previous.cluster if c}
    after_codes = {c.code for c in current.circles} | {c for c in current.cluster if c}
    sizes_b = out["sizes"]["cluster"]
    overlap = {}
    for code in _by_number(before_codes & after_codes):
        inter = int(np.count_nonzero((b_cl == code) & (a_cl == code)))
        union = sizes_b[code]["before"] + sizes_b[code]["after"] - inter
        overlap[code] = round(inter / union, 4) if union else 0.0
    out["clusters"] = {
        "ari": ari, "compared": int(both.sum()),
        "kept": _by_number(before_codes & after_codes), "overlap": overlap,
        "new": _by_number(after_codes - before_codes),
        "vanished": _by_number(before_codes - after_codes),
    }
    return out
