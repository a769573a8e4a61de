"""Which newcomers already received the consent notice, so it is sent exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Table, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from storage.db import writing
from storage.models import UTCDateTime


class ConsentNotice(SQLModel, table=True):
    __tablename__ = "consent_notice"

    member_pk: int = Field(foreign_key="member.id", primary_key=True)
    sent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


NOTICE: Table = ConsentNotice.__table__  # type: ignore[assignment]


class NoticeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, member_pk: int, at: datetime) -> bool:
        """Record that the notice goes out now; False when it already went out before."""
        with writing(self.engine) as conn:
            if conn.scalar(select(NOTICE.c.member_pk).where(NOTICE.c.member_pk == member_pk)):
                return False
            conn.execute(insert(NOTICE).values(member_pk=member_pk, sent_at=at))
            return True
