"""Learning interest words from the community, and the words a persona is judged with.

Learning runs once per import (`relearn`, at the end of `siyu ingest` and
`siyu import-orders`, before the stale tags are rebuilt), never per message: it reads every
stored message's keywords twice (counts, then quotes: persona/learned.py) and holds none of
them. It is judged as of the newest fact in the database, like the
stored tags, so a re-import learns the same words and marks nobody. When the words change,
exactly the members who used a changed word are marked stale, and the rebuild that follows
gives them tags with the new words.

Readers ask `learned_words(store, settings, as_of)`: the stored set when it was learned as of
`as_of` or earlier (nothing after `as_of` went into it only if it is not newer), otherwise the
set learned afresh from what was there at `as_of` (a past `--as-of` never sees words learned
from its future). A database where nothing was ever learned reads with no learned words.

siyu.toml `[learned]`: `enabled` (default true), `reject = ["词", …]` (never learned),
`pin = {"词" = "interest_code", …}` (always learned, for that interest), and the floors of
`persona.learned.LearnParams` (`min_members`, `min_messages`, `min_g2`, `min_lift`,
`min_precision`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from handlers.lexicon import load_lexicon
from handlers.settings import ConfigError, Settings, section
from handlers.staff import staff_of
from persona.learned import LearnedWord, LearnParams, learn_interests, learned_index
from storage.business import BusinessStore
from storage.learned import LearnedSet, LearnedStore
from storage.repo import Store

_FLOORS = ("min_members", "min_messages", "min_g2", "min_lift", "min_precision")


@dataclass(frozen=True, slots=True)
class LearnConfig:
    enabled: bool
    params: LearnParams


def learn_config(settings: Settings) -> LearnConfig:
    """`[learned]` from siyu.toml, checked: a typo must not silently switch a rule off."""
    raw = section(settings, "learned")
    where = f"{settings.source}: [learned]"
    unknown = sorted(set(raw) - {"enabled", "reject", "pin", *_FLOORS})
    if unknown:
        raise ConfigError(f"{where} 未知配置项 {unknown[0]}")
    enabled = raw.get("enabled", True)
    reject = raw.get("reject", [])
    pin = raw.get("pin", {})
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where} enabled: 必须是 true 或 false")
    if not isinstance(reject, list) or not all(isinstance(w, str) for w in reject):
        raise ConfigError(f"{where} reject: 必须是字符串列表 (must be a list of strings)")
    if not isinstance(pin, dict) or not all(isinstance(v, str) for v in pin.values()):
        raise ConfigError(f"{where} pin: 必须是 词 = \"兴趣编码\" 的表 (a table of strings)")
    floors: dict[str, Any] = {}
    for key in _FLOORS:
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"{where} {key}: 必须是非负数 (must be a number ≥ 0)")
            floors[key] = int(value) if key in ("min_members", "min_messages") else float(value)
    params = LearnParams(reject=frozenset(w.lower() for w in reject),
                         pin={w.lower(): c for w, c in pin.items()}, **floors)
    return LearnConfig(enabled, params)


def newest_fact(store: Store) -> datetime | None:
    """The moment stored tags are judged as of: the newest message, order or event."""
    times = [t for t in (store.latest_message_ts(), BusinessStore.of(store).latest_ts())
             if t is not None]
    return max(times) if times else None


def learn_as_of(store: Store, settings: Settings, as_of: datetime
                ) -> tuple[tuple[LearnedWord, ...], dict[int, set[str]]]:
    """The words learned from the community as it was at `as_of` (staff left out), and each
    member's learned words used, for marking."""
    config = learn_config(settings)
    if not config.enabled:
        return (), {}
    lexicon = load_lexicon(settings)
    params = replace(config.params, never=frozenset(lexicon.cities))
    learned = LearnedStore(store.engine)
    staff = staff_of(store, settings).pks
    bought = {pk: cats for pk, cats in learned.bought(as_of).items() if pk not in staff}
    # read twice, never held (persona/learned.py): the store yields the messages afresh; a
    # message stored between the two reads (a live one up to `as_of`) can only be quoted or
    # mark its member, never change the counts the words were chosen by
    learning = learn_interests(lambda: learned.learning_messages(as_of, skip=staff), bought,
                               lexicon.interest_index, [i.code for i in lexicon.interests],
                               params)
    return learning.words, learning.used


@dataclass(frozen=True, slots=True)
class RelearnOutcome:
    words: int
    changed: int  # words added, dropped or moved to another interest
    marked: int  # members marked for a tag rebuild


def relearn(store: Store, settings: Settings) -> RelearnOutcome:
    """Learn as of the newest fact, store the set, and mark the members whose tags change."""
    as_of = newest_fact(store)
    if as_of is None:
        return RelearnOutcome(0, 0, 0)
    learned = LearnedStore(store.engine)
    before = learned.saved()
    words, used = learn_as_of(store, settings, as_of)
    old = learned_index(before.words) if before else {}
    new = learned_index(words)
    changed = {w for w in old.keys() | new.keys() if old.get(w) != new.get(w)}
    if before is not None and before.as_of == as_of and before.words == words:
        return RelearnOutcome(len(words), 0, 0)
    # members who used a changed word; the old set's users are found by the same scan,
    # because a word dropped now was in the messages then
    marked = {pk for pk, ws in used.items() if ws & changed}
    if changed - new.keys():
        marked |= _users_of(store, as_of, changed - new.keys())
    learned.save(LearnedSet(as_of, words), stale=marked)
    return RelearnOutcome(len(words), len(changed), len(marked))


def _users_of(store: Store, as_of: datetime, words: set[str]) -> set[int]:
    """Members who used any of `words` up to `as_of` (words no longer learned)."""
    return {m.member for m in LearnedStore(store.engine).learning_messages(as_of)
            if words.intersection(m.words)}


def learned_words(store: Store, settings: Settings, as_of: datetime) -> dict[str, str]:
    """Word → interest code for judging personas as of `as_of` (see the module text)."""
    if not learn_config(settings).enabled:
        return {}  # switched off: no need to read the stored set at all
    saved = LearnedStore(store.engine).saved()
    if saved is None:
        return {}
    if saved.as_of <= as_of:
        return learned_index(saved.words)
    return learned_index(learn_as_of(store, settings, as_of)[0])


def latest_learned(store: Store, settings: Settings) -> dict[str, str]:
    """Word → interest code of the last learning: what the live bot judges new messages
    with (its moment is always after the last import's); the bot reloads it after a
    relearn while it runs (bot/runner.py: `Bot.reload_learned`)."""
    if not learn_config(settings).enabled:
        return {}
    saved = LearnedStore(store.engine).saved()
    if saved is None:
        return {}
    return learned_index(saved.words)


def stored_learned(store: Store) -> LearnedSet | None:
    """The set the last learning stored, for the operator's listing."""
    return LearnedStore(store.engine).saved()
