"""Who looked at whose persona, and who was refused: the command audit log."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from storage.db import writing
from storage.models import AUDIT


class AuditRow(NamedTuple):
    ts: datetime
    actor: str
    command: str
    target: str
    allowed: bool


class AuditStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, ts: datetime, actor: str, command: str, target: str, allowed: bool) -> None:
        with writing(self.engine) as conn:
            conn.execute(insert(AUDIT).values(ts=ts, actor=actor, command=command,
                                              target=target, allowed=allowed))

    def entries(self, limit: int = 100) -> list[AuditRow]:
        q = select(AUDIT.c.ts, AUDIT.c.actor, AUDIT.c.command, AUDIT.c.target, AUDIT.c.allowed)
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(AUDIT.c.id.desc()).limit(limit)).all()
        return [AuditRow(*r) for r in rows]
