"""A small community on a real SQLite file, fed through the real ingest path.

Used by the suggestion, invite and LLM tests: members say things at chosen times, the
Ingestor analyses and stores them exactly as a file import or the live bot would.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import App
from bot.config import load_settings
from handlers.events import MessageEvent, MessageType
from handlers.ingest import Ingestor
from handlers.settings import Settings
from storage.members import MemberRow
from storage.repo import Store

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=SH)
GROUP = "1001@chatroom"


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


class Community:
    """Members talking in a group; `commit()` ingests what was said since the last commit."""

    def __init__(self, tmp_path: Path, toml: str = "", url: str | None = None) -> None:
        """A SQLite file in `tmp_path`, or the database at `url` (PostgreSQL tests)."""
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.db = tmp_path / "siyu.db"
        config = None
        if toml:
            config = tmp_path / "siyu.toml"
            config.write_text(toml, encoding="utf-8")
        self.settings: Settings = load_settings(str(config) if config else None,
                                                url or f"sqlite:///{self.db}")
        self.app = App(self.settings)
        self.ingestor = Ingestor(self.app.store, self.app.analyzer, self.settings,
                                 self.app.labels)
        self._pending: list[MessageEvent] = []
        self._names: dict[str, str] = {}
        self._n = 0

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def labels(self) -> dict[str, str]:
        return self.app.labels

    def say(self, sender: str, text: str, ts: datetime, name: str | None = None,
            chat: str = GROUP, type_: MessageType = MessageType.TEXT,
            is_group: bool | None = None) -> str:
        self._n += 1
        mid = f"m{self._n:03d}"
        if name:
            self._names[sender] = name
        self._pending.append(MessageEvent(
            id=mid, ts=ts, chat=chat, sender=sender, type=type_, text=text,
            chat_name="小禾优选·福利群" if chat == GROUP else None,
            is_group=chat.endswith("@chatroom") if is_group is None else is_group,
            sender_name=self._names.get(sender, sender), origin="test"))
        return mid

    def join(self, sender: str, name: str, ts: datetime) -> str:
        return self.say(sender, f'"小禾助手"邀请"{name}"加入了群聊', ts, name,
                        type_=MessageType.SYSTEM)

    def commit(self) -> None:
        report = self.ingestor.ingest(self._pending)
        self.ingestor.finish(report)
        self._pending = []

    def member(self, member_id: str) -> MemberRow:
        (row,) = self.store.find_members(member_id)
        return row

    def opt_out(self, member_id: str) -> None:
        con = sqlite3.connect(self.db)
        con.execute("UPDATE member SET opted_out = 1 WHERE member_id = ?", (member_id,))
        con.commit()
        con.close()


def price_mom(c: Community, sender: str = "wxid_price", name: str = "朵朵妈") -> None:
    """A mature, price-sensitive mother."""
    c.say(sender, "我家宝宝8个月了，辅食怎么加比较好？", ago(40), name)
    c.say(sender, "有没有优惠券？", ago(20), name)
    c.say(sender, "太贵了，能便宜点吗", ago(10), name)


def quality_mom(c: Community, sender: str = "wxid_quality", name: str = "糖糖妈") -> None:
    """A mature, quality-seeking mother."""
    c.say(sender, "宝宝的辅食你们都怎么做？", ago(40), name)
    c.say(sender, "面霜的成分和质量怎么样？", ago(20), name)
    c.say(sender, "这款奶粉的成分安全吗？", ago(10), name)


def service_dad(c: Community, sender: str = "wxid_service", name: str = "老周") -> None:
    """A mature member who leans on service."""
    c.say(sender, "今天晨跑5公里打卡", ago(40), name)
    c.say(sender, "快递什么时候能到？", ago(20), name)
    c.say(sender, "客服在吗？售后怎么处理？", ago(10), name)
