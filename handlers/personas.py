"""Reading personas: stored signals → `persona.build_persona` → what the CLI and chat show.

Personas shown to people are always computed fresh from stored signals as of the requested
moment, so `--as-of` is reproducible. The `tag` table keeps the latest derived tags for
consumers that need them without recomputing (segmentation, the live bot); it is rebuilt for
every member whose messages changed, as of the newest message in the database, which keeps
re-imports byte-for-byte idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from persona.persona import MessageRecord, Persona, PersonaSettings, Tag, build_persona
from persona.signals import Signals
from storage.repo import MemberRow, Store, StoredMessage, TagRow


def persona_settings(settings: Settings) -> PersonaSettings:
    return PersonaSettings(
        tz=settings.tz,
        half_life_days=settings.half_life_days,
        new_days=settings.new_days,
        declining_days=settings.declining_days,
        intent_ttl_days=settings.intent_ttl_days,
    )


def to_record(msg: StoredMessage) -> MessageRecord:
    return MessageRecord(msg.id, msg.ts, msg.chat_id, msg.type, Signals.from_json(msg.signals))


def _tag_from_row(row: TagRow) -> Tag:
    return Tag(row.code, row.label, row.kind, row.score, list(row.evidence), row.expires_at)


@dataclass(frozen=True, slots=True)
class PersonaView:
    member: MemberRow
    persona: Persona


def build_personas(store: Store, settings: Settings, labels: Mapping[str, str],
                   as_of: datetime, pks: Iterable[int] | None = None) -> list[PersonaView]:
    """Personas for the given members (all when None), in member order."""
    members = store.members(pks)
    wanted = [m.pk for m in members]
    messages = store.messages_for(None if pks is None else wanted, until=as_of)
    manual = store.tags_for(wanted, source="manual")
    ps = persona_settings(settings)
    out = []
    for m in members:
        records = [to_record(msg) for msg in messages.get(m.pk, ())]
        persona = build_persona(m.member_id, m.name, records, as_of, ps, labels,
                                manual_tags=[_tag_from_row(r) for r in manual.get(m.pk, ())])
        out.append(PersonaView(m, persona))
    return out


def refresh_stale_tags(store: Store, settings: Settings, labels: Mapping[str, str]) -> int:
    """Rebuild the stored derived tags of every member whose messages changed."""
    stale = store.stale_members()
    as_of = store.latest_message_ts()
    if not stale or as_of is None:
        return 0
    ps = persona_settings(settings)
    done = 0
    # Chunks keep memory flat on a large back-fill.
    for i in range(0, len(stale), 1000):
        part = stale[i : i + 1000]
        messages = store.messages_for(part, until=as_of)
        rows: dict[int, list[TagRow]] = {}
        for m in store.members(part):
            records = [to_record(msg) for msg in messages.get(m.pk, ())]
            persona = build_persona(m.member_id, m.name, records, as_of, ps, labels)
            rows[m.pk] = [TagRow(t.code, t.kind, t.label, t.score, t.evidence, t.expires_at)
                          for t in persona.tags]
        store.replace_derived_tags(rows, computed_at=as_of)
        done += len(part)
    return done
