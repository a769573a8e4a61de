"""Which newcomers already received the consent notice, so it is sent exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from storage.db import insert_skipping_conflicts, writing
from storage.models import NOTICE


class NoticeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, member_pk: int, at: datetime) -> bool:
        """Record that the notice goes out now; False when it already went out before.

        The insert itself is the claim: of two bot processes greeting the same newcomer at
        once, exactly one stores the row and gets True. (A look-then-insert let both look
        before either had committed; the second then failed on the key instead of answering
        False.)
        """
        with writing(self.engine) as conn:
            stmt = (insert_skipping_conflicts(conn, NOTICE, ["member_pk"])
                    .values(member_pk=member_pk, sent_at=at))
            # SQLAlchemy keeps an INSERT's rowcount only when asked (it reads -1 otherwise);
            # rowcount rather than RETURNING, which SQLite has only since 3.35.
            res = conn.execute(stmt, execution_options={"preserve_rowcount": True})
            return res.rowcount == 1
