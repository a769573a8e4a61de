"""Storing a script's polished text after it was sent plain (the live bot: bot/polish.py).

The live bot sends the template at once and asks the LLM endpoint afterwards, so the stored
row must only take the polished text when it still holds the script that was polished: an
operator who already answered "已发 12" or "忽略 12", a newer trigger that rewrote the open
draft, or an erasure that removed it, all win over a late answer.
"""

from __future__ import annotations

from handlers.suggest import SuggestionView
from storage.repo import Store
from storage.suggestions import SuggestionStore


def store_polish(store: Store, view: SuggestionView, text: str) -> SuggestionView | None:
    """The row with `text` as its script, or None when the row moved on since `view`."""
    suggestions = SuggestionStore(store.engine)
    row = suggestions.get(view.row.id)
    if row is None or row.status != "pending" or row.text != view.row.text:
        return None
    # The read and the conditional write run back to back on the bot's one event loop, so
    # this process cannot change the row in between; another process closing it makes the
    # write find no pending row.
    new = suggestions.update_open(row.id, {"text": text, "polished": True})
    return None if new is None else SuggestionView(new, view.member_id, view.name)
