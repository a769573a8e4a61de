"""The chat repository handlers get: `Store`, one object over members, messages and tags.

Each part lives with its own reason to change:
- storage/batches.py — `write_batch`: one ingest transaction (chats, members, messages);
- storage/members.py — member reads, and creating members for new platform ids;
- storage/messages.py — message reads (personas, cards, the tag rebuild), retention;
- storage/tags.py — the tag rebuild's claims, derived tags swapped in, tag reads.
Opt-out, erasure and manual tags are `storage/privacy.py: PrivacyStore`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage import driver
from storage.batches import BatchWriter
from storage.members import MemberReads
from storage.messages import MessageReads
from storage.models import CHAT, MEMBER, MESSAGE, TAG
from storage.tags import TagStore


class Store(BatchWriter, MessageReads, MemberReads, TagStore):
    """Chat data for handlers: plain rows in and out, never a session (parts: see above)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Chats known to be stored (chats are never deleted): a live bot's batch of one
        # message then skips the chat lookup. Filled only after a commit.
        self._known_chats: set[str] = set()

    def compile_statements(self) -> int:
        """Compile the hot statements of every storage module imported so far (a live bot's
        warm-up: see `storage/driver.py: compile_all`)."""
        return driver.compile_all(self.engine)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(t)) or 0
                    for name, t in (("members", MEMBER), ("messages", MESSAGE), ("chats", CHAT),
                                    ("tags", TAG))}
