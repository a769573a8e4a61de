"""One message in, one `Signals` out: interests, intents, motivations, content, attributes.

This runs once per message at ingest (hundreds of thousands of them on a first import), so
everything that can be decided ahead of time is: `Analyzer.__init__` folds the lexicon into a
token -> role bitmask (persona/token_roles.py), a token -> attribute-cue index and a token ->
city table, and `analyse` makes one tokenisation and one pass over the tokens, clause by
clause. No regex is compiled per call and no clock is read: the message timestamp is the only
"now" (for "90后" → age).

`analyse_many` does the same for a batch (the ingest's), with the complaint model's
probabilities worked out for the whole batch in one numpy pass (persona/sentiment_arrays.py).

`analyse` in steps: the message type decides whether there is text to read; the text is
normalised and cut once; each distinct token's role is looked up once; one pass over the
clauses applies the rules; the findings become `Signals`. The rules live by what they decide:
* intents (question / complaint / purchase_intent / praise), with the negation and question
  rules: persona/intents.py (`IntentRules`);
* self-referenced attributes (city, age, gender, life stage, occupation): persona/attributes.py;
* here: interests and motivations score the number of distinct cue words hit, at most 3;
  motivations are counted whether negated or asked ("不贵" still shows price awareness), an
  interest keyword not when negated or used as a form of address ("宝宝们晚上好"); keywords
  are the message's content words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from persona.attributes import COHORT_RE, SAID_OF_SELF, AttributeRules, SelfFacts
from persona.intents import IntentFlags, IntentRules
from persona.lexicon import Lexicon
from persona.phrases import may_pain, pains
from persona.sentiment import LONG_CHARS, SentimentModel, complaint_judgement, default_model
from persona.signals import Signals
from persona.text import Tokenizer, normalise
from persona.token_roles import (
    ATTR,
    COMPLAINT,
    INTEREST,
    LIGHT_VERBS,
    MOTIVE,
    NEEDS_NEGATION,
    NEG,
    NOT_PAIR,
    NUMERAL_START,
    PRAISE,
    PURCHASE,
    Q_ASKS,
    Q_CJK,
    Q_NOT_START,
    QMARK,
    SOFT,
    STRONG,
    TOPICAL,
    VERDICT,
    TokenInfo,
    a_not_a,
    compound_interest,
    verb_negation,
)

# Message types (bot.events.MessageType values) that say nothing about interests or intent.
_SILENT = frozenset(
    {"system", "recall", "sticker", "red_packet", "transfer", "call", "location", "contact_card"}
)
_CONTENT = {"image": "image", "video": "video", "link": "link", "mini_program": "mini_program"}
# Shared media whose text (if any) is a placeholder, not the member's words.
_MEDIA_ONLY = frozenset({"image", "video"})

MAX_KEYWORDS = 6
MAX_SCORE = 3.0

# Fewer texts than this are judged one by one: numpy's fixed cost per call outweighs the batch.
_PRIME_AT_LEAST = 8

# Distinct tokens remembered by `_token_info` / `_can_be_keyword`; then the memo starts over.
_TOKEN_MEMO_MAX = 200_000


@dataclass(slots=True)
class _Found:
    """What one message has revealed so far (the working state of `analyse`)."""

    interests: dict[str, set[str]] = field(default_factory=dict)
    motives: dict[str, set[str]] = field(default_factory=dict)
    intent: IntentFlags = field(default_factory=IntentFlags)
    facts: SelfFacts = field(default_factory=SelfFacts)


class Analyzer:
    """Turns one message into `Signals`; build once, call `analyse` per message."""

    def __init__(self, lexicon: Lexicon, tokenizer: Tokenizer) -> None:
        lx = lexicon
        self._lx = lx
        self._cut = tokenizer.cut
        # jieba dictionary words containing a lexicon word (persona/text.py): 手机电池 → 手机
        self._compounds: frozenset[str] = getattr(tokenizer, "compounds", frozenset())

        roles: dict[str, int] = {}

        def mark(words: Iterable[str], bit: int) -> None:
            for w in words:
                roles[w] = roles.get(w, 0) | bit

        mark(lx.negators, NEG)
        mark(lx.interest_index, INTEREST)
        mark(lx.motivations, MOTIVE)
        mark(lx.complaint, COMPLAINT)
        mark(lx.complaint_strong, STRONG)
        mark(lx.praise, PRAISE)
        mark(lx.praise_soft, SOFT)
        mark(lx.purchase, PURCHASE)
        mark(lx.question_markers, QMARK)
        for w in lx.fixed:  # fixed expressions are units with no role at all
            roles.pop(w, None)

        self._intent = IntentRules(lx, roles)
        self._facts = AttributeRules(lx, getattr(tokenizer, "places", ()),
                                     self._intent.negated)
        mark(self._facts.cues, ATTR)
        mark(self._facts.places, ATTR)
        mark(self._facts.demonyms, ATTR)
        self._roles = roles

        self._non_keywords = lx.stopwords | lx.negators | lx.question_markers | lx.fixed
        # token -> may it be a keyword (`_can_be_keyword`), filled as tokens are met
        self._keyword_ok: dict[str, bool] = {}
        # token -> `_token_info`, filled as tokens are met
        self._token_memo: dict[str, TokenInfo] = {}

    # ----------------------------------------------------------------------------------------
    def analyse(self, text: str | None, msg_type: str, ts: datetime) -> Signals:
        """Signals of one message; `ts` (timezone-aware) only turns cohorts into ages.

        Only `ts.year` is read, and handlers/ingest.py relies on that: it analyses each
        distinct (text, type, year) once. A rule that needs more of the time must change
        that cache key too.
        """
        read = self._read(text, msg_type)
        if isinstance(read, Signals):
            return read
        return self._analyse_text(*read, ts, None)

    def analyse_many(self, keys: Sequence[tuple[str | None, str, datetime]]) -> list[Signals]:
        """`analyse` of each (text, type, time), the complaint model's probabilities worked
        out for all of them at once (`SentimentModel.primed`: a few µs a text in numpy instead
        of ≈ 50 in Python); the same signals as one `analyse` call each."""
        read = [self._read(text, kind) for text, kind, _ts in keys]
        texts = [r[0] for r in read if not isinstance(r, Signals)]
        model = default_model().primed(texts) if len(texts) >= _PRIME_AT_LEAST else None
        return [r if isinstance(r, Signals) else self._analyse_text(*r, ts, model)
                for r, (_text, _kind, ts) in zip(read, keys, strict=True)]

    def _read(self, text: str | None, msg_type: str) -> Signals | tuple[str, str | None]:
        """The finished signals of a message with no text to read, else its normalised text
        and what it shares."""
        if msg_type == "system":
            return Signals(join=parse_join_notice(text or ""))
        if msg_type in _SILENT:
            return Signals()
        content = _CONTENT.get(msg_type)
        if msg_type in _MEDIA_ONLY or not text:
            return Signals(content=content)
        norm = normalise(text)
        if norm.urls and content is None:
            content = "link"
        if not norm.text:
            return Signals(content=content)
        return norm.text, content

    def _analyse_text(self, text: str, content: str | None, ts: datetime,
                      model: SentimentModel | None) -> Signals:
        raw = self._cut(text)
        toks = [t.lower() for t in raw]
        found = self._scan(toks, self._token_infos(toks), ts)
        confidence = self._learned_complaint(found, text, toks, model)
        return self._signals(found, content, raw, toks, confidence)

    def _token_infos(self, toks: list[str]) -> list[TokenInfo]:
        """`_token_info` of each token, worked out once per distinct token."""
        memo = self._token_memo
        infos: list[TokenInfo] = []
        for t in toks:
            info = memo.get(t)
            if info is None:
                if len(memo) >= _TOKEN_MEMO_MAX:
                    memo.clear()
                info = memo[t] = self._token_info(t)
            infos.append(info)
        return infos

    def _scan(self, toks: list[str], infos: list[TokenInfo], ts: datetime) -> _Found:
        """The one pass: per clause its question, then each token with a role by the rules
        that role calls for."""
        lx = self._lx
        intent = self._intent
        rules = self._facts
        hot = intent.question_starts(infos)
        found = _Found()
        flags, facts = found.intent, found.facts
        speaker_clause = False
        for s, e, qmark in self._clauses(toks):
            facts.carry_self = speaker_clause
            speaker_clause = rules.about_speaker(toks, s, e)
            asked, why, neutral = intent.clause(toks, s, e, qmark, hot, flags)
            for i in range(s, e):
                t, role, numeral, _q = infos[i]
                if not (role or numeral):
                    continue
                if role & MOTIVE:
                    for code in lx.motivations[t]:
                        found.motives.setdefault(code, set()).add(t)
                if role & NEEDS_NEGATION:
                    neg = intent.negated(toks, s, i, neutral)
                    flags.negated = flags.negated or neg
                    if role & INTEREST and not neg:
                        self._interest(toks, s, e, i, t, found)
                    if role & VERDICT:
                        intent.verdict(toks, e, i, role, neg, asked, why, flags)
                if role & ATTR or numeral:
                    rules.attribute(toks, s, e, i, ts, facts)
        return found

    def _learned_complaint(self, found: _Found, text: str, toks: list[str],
                           model: SentimentModel | None) -> float | None:
        """The shipped negative-review model (persona/sentiment.py) may add a complaint the cue
        rules missed: not to a question, an order, the speaker saying who they are, a negated
        cue ("一点都不难用") or a fixed idiom, and to praise only when it is sure; in a whole
        review's worth of text it may also overrule them (sentiment.LONG_CHARS). A chat line
        holding a pain phrase (`_pain_evidence`) counts as the rules' complaint. Returns the
        message's complaint confidence (None: no opinion voiced)."""
        flags, facts = found.intent, found.facts
        about_self = (any(a[0] >= SAID_OF_SELF for a in facts.attrs.values())
                      or facts.city is not None or facts.age is not None)
        opinion = not (flags.question or flags.purchase or about_self)
        settled = not opinion or flags.negated or not self._lx.fixed.isdisjoint(toks)
        verdict = complaint_judgement(text, flags.complaint, settled,
                                      bool(found.interests or found.motives), opinion,
                                      flags.praise, model, lambda: _pain_evidence(text))
        flags.complaint = verdict.complaint
        return verdict.confidence

    def _interest(self, toks: list[str], s: int, e: int, i: int, t: str, found: _Found) -> None:
        """An interest keyword (not negated) counts unless it is a form of address."""
        # "宝宝们晚上好" / "宝宝，这款适合你": a seller's form of address, not a baby
        if (i + 1 < e and toks[i + 1] == "们") or (e - s == 1 and t in self._lx.others):
            return
        for code in self._lx.interest_index[t]:
            found.interests.setdefault(code, set()).add(t)

    def _signals(self, found: _Found, content: str | None, raw: list[str],
                 toks: list[str], complaint: float | None) -> Signals:
        lx = self._lx
        return Signals(
            interests={
                c.code: float(min(len(found.interests[c.code]), MAX_SCORE))
                for c in lx.interests
                if c.code in found.interests
            },
            intents=self._intent.decide(found.intent),
            motivations={
                code: float(min(len(found.motives[code]), MAX_SCORE))
                for code in ("price", "quality", "service")
                if code in found.motives
            },
            content=content,
            attributes=found.facts.as_dict(),
            keywords=self._keywords(raw, toks),
            complaint=complaint,
        )

    # ----------------------------------------------------------------------------------------
    @staticmethod
    def _clauses(toks: list[str]) -> list[tuple[int, int, bool]]:
        """(start, end, followed by "?") for each run of tokens between punctuation/spaces.

        jieba emits every punctuation mark and space as a one-character token, so a break is
        a one-character token that is not a letter, digit or CJK character.
        """
        clauses: list[tuple[int, int, bool]] = []
        start = -1
        for i, t in enumerate(toks):
            if len(t) == 1 and not t.isalnum():
                if start >= 0:
                    clauses.append((start, i, False))
                    start = -1
                if t == "?" and clauses and not clauses[-1][2]:
                    clauses[-1] = (clauses[-1][0], clauses[-1][1], True)
            elif start < 0:
                start = i
        if start >= 0:
            clauses.append((start, len(toks), False))
        return clauses

    def _token_info(self, token: str) -> TokenInfo:
        """What the analyser needs of one (lower-cased) token wherever it stands: a pure
        function of the token and the lexicon, so `analyse` works it out once per distinct
        token instead of at every occurrence.

        (the token as the cue rules see it, its role bits, whether that starts with a
        numeral, the token's question bits). A token without a role may still name an
        interest through its stem: "iphone15" → "iphone", "吃火锅" → "火锅".
        """
        roles = self._roles
        t, role = token, roles.get(token, 0)
        if not role:
            stem = ""
            if t.isascii() and t[-1].isdigit():
                stem = t.rstrip("0123456789")  # "iphone15" → "iphone"
            elif len(t) >= 3 and t[0] in LIGHT_VERBS:
                stem = t[1:]  # "吃火锅" → "火锅"
            if stem and roles.get(stem, 0) & INTEREST:
                t, role = stem, INTEREST
            elif t in self._compounds:
                part = compound_interest(t, roles)
                if part:
                    t, role = part, INTEREST
        q = 0
        if roles.get(token, 0) & QMARK:
            q |= Q_ASKS
        if "\u4e00" <= token[0] <= "\u9fff":
            q |= Q_CJK
            if a_not_a(token):  # 喜不喜欢
                q |= Q_ASKS
            if token[0] in NOT_PAIR:
                q |= Q_NOT_START
        return (t, role, t[0] in NUMERAL_START, q)

    # ----------------------------------------------------------------------------------------
    def _keywords(self, raw: list[str], toks: list[str]) -> list[str]:
        """Content words in order of appearance: topics, not verdicts, quantities or fillers."""
        seen: set[str] = set()
        words: list[str] = []
        eligible = self._keyword_ok
        for original, t in zip(raw, toks, strict=True):
            ok = eligible.get(t)
            if ok is None:
                if len(eligible) >= _TOKEN_MEMO_MAX:
                    eligible.clear()
                ok = eligible[t] = self._can_be_keyword(t)
            if not ok or t in seen:
                continue
            seen.add(t)
            words.append(original)
            if len(words) == MAX_KEYWORDS:
                break
        return words

    def _can_be_keyword(self, t: str) -> bool:
        """Whether a (lower-cased) token may be a keyword at all: a pure function of the token
        and the lexicon, so `_keywords` asks it once per distinct token, not per occurrence."""
        if len(t) < 2 or t in self._non_keywords:
            return False
        role = self._roles.get(t, 0)
        return bool(role & TOPICAL or t in self._facts.places) or not (
            role & VERDICT  # 想买, 不满意, 好用: already in `intents`
            or (t[0] in NUMERAL_START and not COHORT_RE.match(t))  # 两盒, 三次, 一枚
            or not any(ch.isalpha() for ch in t)  # 3.5, +1
            or a_not_a(t)
            or verb_negation(t)
            or t[-1] in "吗呢嘛"  # 有用吗
        )


# WeChat's own join notices, as exports keep them: '"小禾助手"邀请"王丽"加入了群聊' and
# '"陈晨"通过扫描"小禾助手"分享的二维码加入群聊' (quotes straight or curly).
_JOIN_INVITE = re.compile(r'^["“]?(?P<inviter>[^"”]+)["”]?邀请["“]?(?P<member>.+?)["”]?加入了群聊')
_JOIN_QR = re.compile(
    r'^["“]?(?P<member>[^"”]+)["”]?通过扫描["“]?(?P<inviter>[^"”]+?)["”]?分享的二维码加入群聊')


def parse_join_notice(text: str) -> dict[str, str] | None:
    """The join channel a system notice states, or None for any other notice."""
    m = _JOIN_QR.match(text.strip())
    if m:
        return {"channel": "qrcode", "inviter": m.group("inviter")}
    m = _JOIN_INVITE.match(text.strip())
    if m:
        return {"channel": "invite", "inviter": m.group("inviter")}
    return None


def _pain_evidence(text: str) -> bool:
    """Does a chat-length line name a thing and what went wrong with it ("牛奶漏了", "鞋子开胶",
    "纸张薄", "商家不接")? The cue rules list few of any one shop's troubles; the pain-phrase
    lexicon (persona/phrases.py) pairs a thing with its fault, so its phrase is complaint
    evidence as good as a cue. Not in a longer message, where such a pair is often incidental
    (a book review's "环境恶劣" is the book's story) and the model judges the whole
    (sentiment.LONG_CHARS), and not a phrase whose aspect the message never says: a lone 晚 or
    贵 reads as 物流晚 / 价格贵 in a card, but "天天加班到很晚" is no complaint."""
    if len(text) >= LONG_CHARS or not may_pain(text):
        return False
    return any(p.aspect is None or p.aspect in text for p in pains(text))
