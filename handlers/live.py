"""The live bot's one use case: an event in, what to send out.

The dispatcher (bot/dispatcher.py) hands every chat message that is no command to
`Live.on_message`, and every join to `Live.on_join`; the clock job calls `Live.due`. Each
returns the private messages to send, and nothing else happens on the way:

1. **ingest** — the message is stored through the one ingest path file imports use
   (handlers/ingest.py: `Ingestor.ingest`, a batch of one: persona/analyze.py's signals, then
   storage/repo.py's write transaction; an opted-out sender's message is dropped there);
2. **triggers** — the suggestion hook looks at that message and its sender only
   (`LiveTriggers.messages` below: persona/suggest.py drafts, storage/suggestions.py stores
   and claims what an operator's hourly budget lets through);
3. **what to send** — each claimed suggestion, addressed to its operator (`Outgoing`); the bot
   renders and sends it (bot/render_suggest.py).

A join is stored as WeChat's own join notice ('"小禾助手"邀请"王丽"加入了群聊'), so live joins
and joins found in exported history are the same stored fact: the analyser turns both into a
join signal, which starts the member's "new" stage. An optional consent notice goes out once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.events import JoinEvent, MessageEvent, MessageType
from handlers.ingest import Ingestor
from handlers.live_personas import LivePersonas
from handlers.personas import persona_settings, to_record
from handlers.settings import Settings
from handlers.suggest import Polisher, SuggestionView
from handlers.triggers import (
    STATE_WATERMARK,
    SuggestHook,
    SuggestRun,
    draft_all,
    drop_known,
    iso_utc,
    notify,
    now_or_clock,
    save_state,
    scan,
)
from persona.analyze import Analyzer
from persona.persona import SILENT_TYPES
from persona.playbook import Playbook
from storage.notices import NoticeStore
from storage.repo import Store

log = logging.getLogger("siyu.run")
# How often, in the live hook's clock, it syncs the shared state and looks for members
# turning declining (see LiveTriggers.messages).
STATE_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One private message to send: a suggestion for an operator (the bot renders it), or a
    plain text (the consent notice)."""

    to: str
    suggestion: SuggestionView | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who receives suggestions. One addressed to a staff member (an operator or manager id,
    `[suggest] operators`) goes to them; one addressed to the default operator goes to
    `everyone` (the operators, or the managers when there is none)."""

    staff: frozenset[str] = frozenset()
    everyone: tuple[str, ...] = ()


def join_notice_text(event: JoinEvent) -> str:
    """WeChat's own wording of a join, which the analyser reads as a join signal."""
    name = event.member_name or event.member
    inviter = event.inviter_name or event.inviter
    if event.channel == "qrcode" and inviter:
        return f'"{name}"通过扫描"{inviter}"分享的二维码加入群聊'
    if inviter:
        return f'"{inviter}"邀请"{name}"加入了群聊'
    return f'"{name}"加入了群聊'


class Live:
    """The live path, set up once for the bot's life (the ingestor's analysis cache, the
    suggestion hook with its playbook and active members' histories)."""

    def __init__(self, store: Store, analyzer: Analyzer, settings: Settings,
                 labels: Mapping[str, str], recipients: Recipients, *,
                 consent_notice: str = "") -> None:
        self.store = store
        self.settings = settings
        self.labels = labels
        self.recipients = recipients
        self.consent_notice = consent_notice
        self.ingestor = Ingestor(store, analyzer, settings, labels)
        self.notices = NoticeStore(store.engine)
        self._triggers: LiveTriggers | None = None

    @property
    def triggers(self) -> LiveTriggers:
        """The suggestion hook, set up at the first use (the bot's warm-up): parsing the
        config and playbook per message was a fixed cost per message. The only data it keeps
        is active members' histories, checked against the database before each use
        (handlers/live_personas.py)."""
        if self._triggers is None:
            self._triggers = LiveTriggers(self.store, self.settings, self.labels)
        return self._triggers

    def on_message(self, event: MessageEvent) -> list[Outgoing]:
        """A chat message: stored, then its triggers; the message's own time is "now"."""
        self.ingest(event)
        return self.due(event.ts, [event.id])

    def on_join(self, event: JoinEvent) -> list[Outgoing]:
        """A join: stored as the join notice, whose welcome trigger goes to the operators now
        (as any live message's trigger does), and the consent notice once per member."""
        self.ingest(MessageEvent(
            id=event.id, ts=event.ts, chat=event.chat, chat_name=event.chat_name,
            is_group=True, sender=event.member, sender_name=event.member_name,
            type=MessageType.SYSTEM, text=join_notice_text(event), platform=event.platform,
            origin=event.origin))
        out = self.due(event.ts, [event.id])
        if not self.consent_notice:
            return out
        member = self.store.member_by_platform_id(event.member)
        if member is None or member.opted_out or not self.notices.claim(member.pk, event.ts):
            return out
        return [Outgoing(event.member, text=self.consent_notice), *out]

    def ingest(self, event: MessageEvent) -> None:
        report = self.ingestor.ingest([event])
        for reject in report.rejects:
            log.warning("跳过 %s", reject)

    def due(self, now: datetime, message_ids: Sequence[str] | None = None) -> list[Outgoing]:
        """Run the suggestion triggers; an `Outgoing` for every suggestion due now.

        With `message_ids` (the live path: the message just ingested) only those messages and
        their senders are looked at, so the cost per message stays flat; without, the full
        pass over the look-back window runs (the clock job).
        """
        hook = self.triggers
        run = hook.new_messages(now) if message_ids is None else hook.messages(message_ids, now)
        staff, everyone = self.recipients.staff, self.recipients.everyone
        out = []
        for view in run.notify:
            op = view.row.operator
            for to in [op] if op in staff else everyone:
                out.append(Outgoing(to, suggestion=view))
        return out

    def use_learned(self, words: Mapping[str, str]) -> bool:
        """Judge personas with `words` (handlers/learn.py: `latest_learned`) from now on; True
        when they changed. The words were loaded at start; a relearn while the bot runs (an
        erasure's recompute, an import by another process) changes them, and a persona
        judged with the old set would differ from `build_personas`'."""
        personas = self.triggers.personas
        if personas.ps.learned == dict(words):
            return False
        personas.ps = persona_settings(self.settings, words)
        return True

    def flush(self) -> None:
        """At shutdown: write what the suggestion hook held back (its newest watermark)."""
        if self._triggers is not None:
            self._triggers.flush()


class LiveTriggers(SuggestHook):
    """The suggestion hook of the live bot: besides the full pass (the clock job), `messages`
    looks only at the messages just stored and their senders, once per message."""

    def __init__(self, store: Store, settings: Settings, labels: Mapping[str, str], *,
                 playbook: Playbook | None = None, polisher: Polisher | None = None) -> None:
        super().__init__(store, settings, labels, playbook=playbook, polisher=polisher)
        # Active members' histories, kept in step with what `messages` sees stored and
        # checked against the database before each use (handlers/live_personas.py).
        self.personas = LivePersonas(store, settings, labels)
        # The live path's view of the shared state, synced every STATE_EVERY of its clock:
        # when it last synced (the watermark then is the base class's), and the newest
        # message seen since.
        self._synced_at: datetime | None = None
        self._newest: datetime | None = None
        # operator → until when their hour is known to be full (pushes only ever add to the
        # hour, from any process, so "full until" stays true; an erasure only frees it early).
        self._full_until: dict[str, datetime] = {}

    def messages(self, message_ids: Iterable[str], as_of: datetime | None = None
                 ) -> SuggestRun:
        """Just the given stored messages: their triggers, their senders' welcome, and the
        members who turned declining since the last run; then the operators' queues.

        Ids not stored (a duplicate is stored once; an opted-out sender's never) and messages
        outside the window (older than `max_age_hours`, or after `as_of`) are ignored. Only
        the configured operators' queues are looked at (`queued` stays None: counting the
        queue would cost a scan per message); the full pass serves everyone else.

        Per message this is one query for a message that triggers nothing. The shared state
        (watermark, last run) is read and written, and members turning declining looked for,
        once per `STATE_EVERY` of `as_of` rather than per message: a declining member is
        noticed up to that much later, and a crash loses at most that much watermark (the
        next full pass re-reads it; stored triggers are never made twice).
        """
        eng = self.eng
        now = now_or_clock(as_of)
        run = SuggestRun(now, queued=None)
        sync = self._synced_at is None or abs(now - self._synced_at) >= STATE_EVERY
        if sync:
            since, last_run = self._since(now)
            declining = self._declining(since, last_run, now)
        else:
            since, declining = self._window(now), set()
        stored = eng.sstore.live_messages(message_ids, since, now)
        messages = [m for m, _ in stored]
        for m in messages:
            self.personas.note(m)
        run.messages = len(messages)
        found, first_in_window = scan(messages)
        newcomers = {m.member_pk for m, first_seen in stored
                     if first_seen is not None and first_seen > since}
        newcomers = drop_known(eng, run, found, newcomers)
        # The full pass sees a newcomer's first words in its window; here only the new
        # message is at hand, so the first one is looked up (for welcome candidates only).
        first_in_window = {pk: rec for pk, rec in first_in_window.items() if pk not in newcomers}
        for pk in newcomers:
            first = eng.sstore.first_spoken(pk, since, now, SILENT_TYPES)
            if first is not None:
                first_in_window[pk] = to_record(first)
        draft_all(eng, run, now, found, first_in_window, newcomers, declining,
                   self.personas.build)
        notify(eng, run, now, eng.operators(), self._full_until)
        if messages:
            newest = max(m.ts for m in messages)
            self._newest = newest if self._newest is None else max(self._newest, newest)
        if sync:
            save_state(eng, now, self._newest)
            self._newest = None
            self._synced_at = now
        return run

    def flush(self) -> None:
        """Write the watermark the live path holds back (at shutdown): the next full pass then
        need not re-read the last minute. Losing it is harmless, only slower."""
        if self._newest is not None:
            self.eng.sstore.advance_state(STATE_WATERMARK, iso_utc(self._newest))
            self._newest = None
