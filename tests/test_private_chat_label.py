"""A segment card stands for many members under a made-up name: a quote or a channel from a
private chat says 私聊, never the chat's name, which is the member's own."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.test_migrations import DATA

AS_OF = "2026-11-20T18:08:00+08:00"


def _chats(node: Any) -> list[str]:
    """Every quote's "chat" and every channel's "name" inside the cards."""
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("chat"), str):
            found.append(node["chat"])
        for chat in node.get("chats", []) if isinstance(node.get("chats"), list) else []:
            if isinstance(chat, dict) and isinstance(chat.get("name"), str):
                found.append(chat["name"])
        for value in node.values():
            found.extend(_chats(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_chats(value))
    return found


def test_cards_never_name_a_private_chat(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    shutil.copy(DATA / "siyu-13a4b61.db", db)
    with sqlite3.connect(db) as conn:
        private = {name for (name,) in conn.execute(
            "SELECT name FROM chat WHERE NOT is_group AND name IS NOT NULL")}
    assert private, "the fixture has private chats"
    out = subprocess.run([sys.executable, "-m", "bot.cli", "--db", f"sqlite:///{db}", "segment",
                          "--json", "--as-of", AS_OF], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout
    chats = _chats(json.loads(out)["cards"])
    assert "私聊" in chats
    assert not private & set(chats), private & set(chats)
