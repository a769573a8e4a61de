"""The intent decision: is a message a question, a complaint, a purchase intent, praise?

Every rule that decides a message's intents is here, so a change to them (or a learned
classifier joining them) lands in one module: the analyser (persona/analyze.py) calls these
steps from its single pass over the tokens, clause by clause, and takes the intents from
`IntentRules.decide` at the end.

Chinese chat negates and asks locally: "太贵了，有没有优惠？" is a complaint in one clause and
a question in the next, so the rules work on tokens and clauses (runs of tokens between
punctuation or spaces).

* Negation: a negator up to `window` tokens before a cue in the same clause; degree adverbs
  (很, 太 …) do not use up the window. A-not-A questions ("好不好用", "会不会") are not
  negations. The same rule cancels interest keywords and attribute cues.
* Questions: "?", a question marker (有没有, 怎么, 多少 …), a clause-final 吗/嘛/么, a
  clause-final 呢 that is not a statement in progress, or an A-not-A form. A question about a
  cue is not a statement of it: weak complaint cues and praise are dropped in a question clause
  ("会不会很贵？"), unless the question presupposes them ("为什么还没到？"); "facts" (没收到,
  坏了) and purchase cues ("怎么买？") are kept.
* Verdicts: a purchase cue or a strong complaint cue counts unless negated; a negated praise
  cue is a complaint (不满意 / 不好用); soft praise ("喜欢") is praise only when it is not
  about an interest that follows ("我喜欢旅行" states a taste).
"""

from __future__ import annotations

from dataclasses import dataclass

from persona.lexicon import Lexicon
from persona.token_roles import (
    COMPLAINT,
    NOT_PAIR,
    PRAISE,
    PURCHASE,
    Q_ASKS,
    Q_CJK,
    Q_NOT_START,
    QMARK,
    SOFT,
    STRONG,
    TokenInfo,
    verb_negation,
)

_HOW = frozenset({"怎么", "咋"})


@dataclass(slots=True)
class IntentFlags:
    """What one message has shown so far: the working state of the intent rules."""

    question: bool = False
    complaint: bool = False
    purchase: bool = False
    praise: bool = False
    negated: bool = False  # a cue the rules saw negated: "不贵", "不想买", "不喜欢旅行"


class IntentRules:
    """The question, negation and verdict rules over one lexicon; build once per analyser."""

    def __init__(self, lexicon: Lexicon, roles: dict[str, int]) -> None:
        self._lx = lexicon
        self._roles = roles
        self._not_asking_after = (tuple(lexicon.indefinite_after | lexicon.exclaim_after)
                                  or ("\0",))

    @staticmethod
    def question_starts(infos: list[TokenInfo]) -> list[int]:
        """Tokens where a question can start (see `clause`): almost always none.

        A question marker, an A-not-A token, or a CJK token before one starting with 不/没.
        """
        last = len(infos) - 1
        return [i for i, info in enumerate(infos) if info[3] and (
            info[3] & Q_ASKS
            or (info[3] & Q_CJK and i < last and infos[i + 1][3] & Q_NOT_START))]

    def clause(
        self, toks: list[str], s: int, e: int, qmark: bool, hot: list[int], flags: IntentFlags
    ) -> tuple[bool, bool, set[int]]:
        """Whether clause [s, e) asks something (noted in `flags`), whether it presupposes
        what it asks as in "为什么还没到", and the indices of A-not-A 不/没 (no negators).

        `hot` holds the message's tokens where the loop below can do anything
        (`question_starts`): every other token would only be skipped.
        """
        lx = self._lx
        roles = self._roles
        asked = qmark
        why = False
        neutral: set[int] = set()
        for i in hot:
            if i < s or i >= e:
                continue
            t = toks[i]
            nxt = toks[i + 1] if i + 1 < e else ""
            if roles.get(t, 0) & QMARK:
                if nxt.startswith(self._not_asking_after):
                    continue  # 什么都行 / 怎么这么贵: not a question
                asked = True
                if t in lx.presupposing or (t in _HOW and nxt.startswith(lx.presupposing_after)):
                    why = True
            elif not ("\u4e00" <= t[0] <= "\u9fff"):
                continue
            elif len(t) >= 3 and t[1] in "不没" and t[2] == t[0]:  # a_not_a: 喜不喜欢
                asked = True
            elif nxt[:1] not in NOT_PAIR:
                continue
            elif len(nxt) == 1:
                if i + 2 < e and toks[i + 2].startswith(t):
                    asked = True  # 好 不 好用 / 贵 不 贵
                    neutral.add(i + 1)
            elif nxt.startswith(t, 1):
                asked = True  # 会 不会 / 好 不好用
                neutral.add(i + 1)
        if not asked:
            asked = self._ends_asking(toks, s, e)
        flags.question = flags.question or asked
        return asked, why, neutral

    def _ends_asking(self, toks: list[str], s: int, e: int) -> bool:
        """A clause-final question particle, or a 呢 that is not a statement in progress."""
        lx = self._lx
        last = toks[e - 1]
        if last in lx.question_particles or (len(last) > 1 and last[-1] == "吗"):
            return True
        if last in lx.soft_particles:
            blockers = lx.soft_blockers
            return not any(
                toks[j] in blockers or toks[j][0] in blockers for j in range(s, e - 1)
            )  # "还没到呢", "我在上班呢": statements in progress
        return False

    def negated(self, toks: list[str], s: int, i: int, neutral: set[int]) -> bool:
        """A negator within the window before token i (degree adverbs are free)?"""
        lx = self._lx
        budget = lx.negation_window
        j = i - 1
        while j >= s and budget > 0:
            t = toks[j]
            if (t in lx.negators or verb_negation(t)) and j not in neutral:
                return True
            if t not in lx.negation_skip:
                budget -= 1
            j -= 1
        return False

    def verdict(self, toks: list[str], e: int, i: int, role: int, neg: bool, asked: bool,
                why: bool, flags: IntentFlags) -> None:
        """The intent cues of token i (its `role` bits), given its negation and its clause's
        question (`asked`, `why`)."""
        if role & PURCHASE and not neg:
            flags.purchase = True
        if role & STRONG and not neg:
            flags.complaint = True
        if role & COMPLAINT and not neg and (why or not asked):
            flags.complaint = True
        if role & PRAISE and not asked:
            if neg:
                flags.complaint = True  # 不满意 / 不好用 / 不推荐
            else:
                flags.praise = True
        # "我喜欢旅行" states an interest, not a verdict on a product; "不喜欢" is taste
        if (
            role & SOFT
            and not neg
            and not asked
            and not any(toks[j] in self._lx.interest_index for j in range(i + 1, e))
        ):
            flags.praise = True

    @staticmethod
    def decide(flags: IntentFlags) -> list[str]:
        """The message's intents, in the contract's order (persona.signals.INTENT_CODES)."""
        return [
            code
            for code, on in (
                ("question", flags.question),
                ("complaint", flags.complaint),
                ("purchase_intent", flags.purchase),
                ("praise", flags.praise),
            )
            if on
        ]
