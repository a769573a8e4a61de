"""`siyu demo`: the embedded default. A newcomer sees real personas in seconds, offline.

The shipped sample community (bot/data/sample/, made by scripts/sample_community.py) goes
through exactly the path a real export takes: file source → ingest → stored signals → personas.
Its orders.csv goes through `siyu import-orders`' path too, so personas show orders and spend.
Results are computed as of the sample's last message, so the demo reads the same every day.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import replace
from importlib import resources
from pathlib import Path

from bot.app import App
from bot.llm import make_polisher
from bot.render import local, persona_detail
from bot.render_suggest import suggestion_text
from bot.report import CARD_NOTE, card_text, size_lines
from bot.sources import open_source
from bot.sources.business import open_orders
from handlers.business import import_orders
from handlers.ingest import Ingestor, IngestReport
from handlers.personas import PersonaView, build_personas
from handlers.segments import run_and_store
from handlers.settings import Settings
from handlers.suggest import suggest_for_member

DEMO_DB = Path("siyu-demo.db")
# The brand's own accounts in the sample: staff, not members to profile or script for.
SAMPLE_STAFF = ("小禾优选-禾子店长", "小禾助手", "小禾客服-安安")


def _reset(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(settings: Settings, keep: bool = False, db_given: bool = False) -> int:
    started = time.perf_counter()
    if not db_given:
        if not keep:
            _reset(DEMO_DB)
        settings = replace(settings, db=f"sqlite:///{DEMO_DB}")
    suggest_conf = {"staff": list(SAMPLE_STAFF), **settings.sections.get("suggest", {})}
    settings = replace(settings, sections={**settings.sections, "suggest": suggest_conf})
    app = App(settings)
    ingestor = Ingestor(app.store, app.analyzer, settings, app.labels)
    report = IngestReport()
    with ExitStack() as stack:
        folder = stack.enter_context(resources.as_file(resources.files("bot") / "data" / "sample"))
        files = sorted(folder.glob("*.json"))
        for path in files:
            ingestor.ingest(open_source(path, "chatlab", tz=settings.tz), report)
        orders_csv = folder / "orders.csv"
        # After the chats, so the buyers are known members; one tag rebuild covers both.
        orders = import_orders(app.store, open_orders(orders_csv, tz=settings.tz), settings,
                               file=orders_csv.name)
    ingestor.finish(report)
    as_of = app.store.latest_message_ts()
    if as_of is None:
        print("示例数据为空")
        return 1
    segmented = run_and_store(app.store, settings, app.labels, as_of)
    views = [v for v in build_personas(app.store, settings, app.labels, as_of)
             if v.member.name not in SAMPLE_STAFF]
    elapsed = time.perf_counter() - started
    tz = settings.tz
    doc = segmented.result.to_json()

    counts = app.store.counts()
    print("Siyu Companion 演示：小禾优选社群（内置示例数据，离线）")
    # Staff (the groups' owner and admins, the shop's own accounts) are stored as members but
    # never profiled or counted: said here, so 51 people and segments of 48 add up.
    staff = counts["members"] - len(views)
    print(f"导入 {len(files)} 个群聊/私聊，{counts['members']} 位成员"
          + (f"（其中店员 {staff} 位，不计入分群与画像）" if staff else "")
          + f"，新增 {report.new} 条消息（重复 {report.duplicate}），"
          f"拒绝 {len(report.rejects)} 行，用时 {elapsed:.1f} 秒")
    print(f"导入订单 {orders.new} 笔（重复 {orders.duplicate}，拒绝 {len(orders.rejects)} 行）")
    print(f"一切以示例数据的最后一条消息为准：{local(as_of, tz)}；目标：{doc['goal_label']}")
    print()
    print("一、分群")
    for line in size_lines(doc):
        print(f"  {line}")
    print(f"  {_interest_heat(views)}")
    print(f"  {_spend(views)}")
    print()
    print(f"二、重点人物卡（{CARD_NOTE}）")
    for card in [c for c in doc["cards"] if c.get("lead")][:2]:
        for line in card_text(card, tz, quotes=2):
            print(f"  {line}")
    print()
    print("三、发现的模式")
    for pattern in doc["patterns"][:3] or [{"description": "暂无足够数据支持的模式"}]:
        print(f"  · {pattern['description']}")
    print()
    print("四、成员画像示例（每个标签后是证据原话）")
    examples = _examples(views)
    for view in examples[:2]:
        ids = {e for t in view.persona.tags for e in t.evidence[:1]}
        quotes = app.store.messages_by_id(ids, view.member.pk)
        print(persona_detail(view, quotes, tz, as_of, max_tags=8, quotes_per_tag=1,
                             circles=doc["labels"]["cluster"]))
        print()
    print("五、给运营的话术建议示例（动机不同，话术不同）")
    shown = 0
    polisher = make_polisher(settings)
    for view in examples:
        suggestions = suggest_for_member(app.store, settings, app.labels, view.member, as_of,
                                         polisher=polisher)
        if suggestions:
            print(suggestion_text(suggestions[0], tz))
            print()
            shown += 1
        if shown >= 3:
            break
    db = settings.db
    print("接下来可以试试：")
    print(f"  siyu --db {db} personas --as-of {as_of.astimezone(tz).date()}")
    name = examples[0].persona.member_id if examples else "MEMBER"
    print(f"  siyu --db {db} persona {name} --json")
    print(f"  siyu --db {db} report --chart report.png")
    print(f"  siyu --db {db} invite 周末亲子烘焙课 --segment new")
    print("  siyu run   # 在终端里模拟群聊，体验机器人")
    print("  siyu ingest 你的聊天导出.json   # ChatLab JSON/JSONL 或 WeChatMsg CSV")
    return 0


def _distribution(title: str, views: list[PersonaView], key: str, labels: dict[str, str],
                  none_label: str = "未知") -> str:
    counter = Counter(v.persona.segments.get(key) for v in views)
    order = [*labels, None]
    parts = [f"{labels.get(k, none_label) if k else none_label} {counter[k]}"
             for k in order if counter.get(k)]
    return f"{title}：" + " · ".join(parts)


def _interest_heat(views: list[PersonaView]) -> str:
    counter: Counter[str] = Counter()
    for v in views:
        for t in v.persona.tags:
            if t.kind == "interest" and t.score >= 0.3:
                counter[t.label] += 1
    top = "、".join(f"{label} {n}人" for label, n in counter.most_common(8))
    return f"兴趣热度：{top or '暂无'}"


def _spend(views: list[PersonaView]) -> str:
    buyers = [v.persona.stats for v in views if v.persona.stats.get("orders")]
    if not buyers:
        return "购买：暂无订单"
    count = sum(s["orders"] for s in buyers)
    total = sum(s["monetary"] for s in buyers)
    return (f"购买：{len(buyers)} 位成员下单 {count} 笔，合计 ¥{total:.2f}，"
            f"客单价 ¥{total / count:.2f}")


def _examples(views: list[PersonaView]) -> list[PersonaView]:
    """Talkative members, one per motivation first, so the demo shows how personas differ."""
    picked: list[PersonaView] = []
    ranked = sorted(views, key=lambda v: (-v.persona.stats["messages"], v.persona.member_id))
    for motivation in ("price", "quality", "service"):
        for v in ranked:
            if v.persona.segments.get("motivation") == motivation and v not in picked:
                picked.append(v)
                break
    picked.extend(v for v in ranked if v not in picked)
    return picked
