"""The text parts persona cards show, for a sample of members: chats by use, quotes, top
keywords, the join channel, gathered in SQL rather than by parsing every message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from persona.member_table import POPULATION_KEYWORDS, Detail, Quote, join_channel
from storage.segment_kept import _SEP, KEPT_KEYWORDS, keep_keywords
from storage.segment_rows import _EPOCH, SqlRows


class CardDetails(SqlRows):
    """`ColumnReader.details` (storage/segment_inputs.py), and the keyword counts both use."""

    def details(self, pks: Sequence[int], as_of: datetime, chat_names: dict[str, str | None],
                quote_intents: frozenset[str], max_quotes: int, max_keywords: int
                ) -> dict[int, Detail]:
        """The text parts persona cards show, for a bounded set of members (a card sample),
        gathered in SQL rather than by parsing every message: chats by use (ties: the chat
        used first), quotes newest first, top keywords, the channel of the last join notice.
        Same result as handlers.segments.member_detail on the members' messages."""
        at = self.sql.time(as_of)
        out: dict[int, Detail] = {}
        with self.session():
            for start in range(0, len(pks), 500):
                out.update(self._details(pks[start : start + 500], at, chat_names,
                                         quote_intents, max_quotes, max_keywords))
        return out

    def _details(self, pks: Sequence[int], at: Any, chat_names: dict[str, str | None],
                 quote_intents: frozenset[str], max_quotes: int, max_keywords: int
                 ) -> dict[int, Detail]:
        """`details` for at most 500 members: what their chats, joins and keywords queries
        return is bounded by them (`_few_rows`)."""
        out: dict[int, Detail] = {}
        part = [int(pk) for pk in pks]
        marks = ", ".join(str(pk) for pk in part)
        where = f"member_pk IN ({marks}) AND ts <= :at"
        chats = self._chats_by_use(where, at, chat_names)
        quotes = self._quotes(where, at, chat_names, quote_intents, max_quotes)
        joins = self._last_joins(where, at)
        words = self._kept_keywords(part, at, max_keywords)
        for pk in part:
            join = joins.get(pk)
            out[pk] = Detail(chats=chats.get(pk, ()),
                             join_channel=join_channel(json.loads(join[2]) if join else None),
                             quotes=tuple(quotes.get(pk, ())),
                             keywords=tuple(words.get(pk, ())))
        return out

    def _chats_by_use(self, where: str, at: Any, chat_names: dict[str, str | None]
                      ) -> dict[int, tuple[str, ...]]:
        """Each member's chats (by name) most used first; ties: the chat used first."""
        chats: dict[int, dict[str, list[int]]] = {}
        sql = (f"SELECT member_pk, chat_id, count(*), {self.sql.us('min(ts)')}, "
               f"{self.sql.first_row()} "
               f"FROM message WHERE {where} AND type != 'system' "
               "GROUP BY member_pk, chat_id")
        for chunk in self._few_rows(sql, {"at": at}):
            for pk, chat_id, count, first_us, first_row in chunk:
                name = chat_names.get(chat_id) or chat_id
                seen = chats.setdefault(pk, {}).get(name)
                if seen is None:
                    chats[pk][name] = [count, first_us, first_row]
                else:
                    seen[0] += count
                    seen[1:] = min(seen[1:], [first_us, first_row])
        return {pk: tuple(name for name, _ in sorted(
                    used.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2])))
                for pk, used in chats.items()}

    def _quotes(self, where: str, at: Any, chat_names: dict[str, str | None],
                quote_intents: frozenset[str], max_quotes: int) -> dict[int, list[Quote]]:
        """Each member's newest messages with one of `quote_intents`, up to `max_quotes`."""
        quotes: dict[int, list[Quote]] = {}
        intents = self.sql.field("signals", "n")
        sql = (f"SELECT member_pk, id, {self.sql.us('ts')}, text, chat_id, {intents} "
               f"FROM message WHERE {where} AND text IS NOT NULL AND text != '' "
               f"AND {intents} IS NOT NULL ORDER BY member_pk, ts DESC, {self.sql.row_order()}")
        # a member's every message with an intent: not bounded by the sample, so streamed
        for chunk in self._rows(sql, {"at": at}):
            for pk, mid, ts_us, text, chat_id, intents in chunk:
                got = quotes.setdefault(pk, [])
                if len(got) >= max_quotes:
                    continue
                hit = tuple(i for i in json.loads(intents) if i in quote_intents)
                if hit:
                    got.append(Quote(mid, _EPOCH + timedelta(microseconds=ts_us), text, hit,
                                     chat_names.get(chat_id) or chat_id))
        return quotes

    def _last_joins(self, where: str, at: Any) -> dict[int, tuple[Any, str, str]]:
        """Each member's last join notice: (stored time, message id, its join signal)."""
        joins: dict[int, tuple[Any, str, str]] = {}
        join = self.sql.field("signals", "j")
        sql = (f"SELECT member_pk, ts, id, {join} FROM message "
               f"WHERE {where} AND type = 'system' AND {join} IS NOT NULL")
        for chunk in self._few_rows(sql, {"at": at}):
            for pk, ts, mid, join in chunk:
                if pk not in joins or (ts, mid) > joins[pk][:2]:
                    joins[pk] = (ts, mid, join)
        return joins

    def _kept_keywords(self, pks: Sequence[int], at: Any, top: int) -> dict[int, list[str]]:
        """Top keywords from member_keywords, which `read` has just brought up to date for
        the same as_of; counted from the messages when not kept or when more are asked for."""
        marks = ", ".join(str(int(pk)) for pk in pks)
        out: dict[int, list[str]] = {}
        if top <= KEPT_KEYWORDS:
            sql = f"SELECT member_pk, words FROM member_keywords WHERE member_pk IN ({marks})"
            for chunk in self._few_rows(sql, {}):
                for pk, words in chunk:
                    out[pk] = words.split(_SEP)[:top] if words else []
        missing = [pk for pk in pks if pk not in out]
        if missing:
            out.update(self._count_keywords(missing, at, top))
        return out

    def _count_keywords(self, pks: Sequence[int], at: Any, top: int = POPULATION_KEYWORDS
                        ) -> dict[int, list[str]]:
        """Top keywords of these members from their messages up to `at`: most used first,
        ties by the newest use (the order a newest-first scan of the messages meets them)."""
        marks = ", ".join(str(int(pk)) for pk in pks)
        # each word's first meeting in a newest-first scan: its newest message, the first
        # stored of that moment's, the word's first place in it
        if self.sql.pg:  # arrays compare element by element
            first = (f"max(ARRAY[{self.sql.us('m.ts')}, -{self.sql.row('m.')}, -j.key])")
        else:
            first = ("max(printf('%s%012d%04d', m.ts, 999999999999 - m.rowid, 9999 - j.key))")
        sql = ("SELECT pk, w FROM (SELECT pk, w, row_number() OVER (PARTITION BY pk "
               "ORDER BY c DESC, firstkey DESC) AS r FROM ("
               f"SELECT m.member_pk AS pk, j.value AS w, count(*) AS c, {first} AS firstkey "
               f"FROM message m, {self.sql.items('m.signals', 'j', 'k')} "
               f"WHERE m.member_pk IN ({marks}) AND m.ts <= :at "
               "GROUP BY m.member_pk, j.value) AS counted) AS ranked "
               "WHERE r <= :top ORDER BY pk, r")
        out: dict[int, list[str]] = {}
        for chunk in self._rows(sql, {"at": at, "top": top}):
            for pk, w in chunk:
                out.setdefault(pk, []).append(w)
        return out

    def _keep_keywords(self, rows: list[dict[str, Any]]) -> None:
        keep_keywords(self.engine, rows)
