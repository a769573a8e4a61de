"""How unhappy a member has recently been: the complaint tag's score, from message confidences.

A decayed count of flagged messages (what every other intent tag scores) ranks the talkative:
a member with eight reviews, two of them negative, outranked one with three reviews, two
negative, and members with no flag all tied at 0. The complaint tag's score is instead a
shrunk, decay-weighted mean of the complaint confidences (`Signals.complaint`) of the member's
opinion-bearing messages:

    score = Σ d_i·p_i / (Σ d_i + PRIOR·max d_i)        d_i = 0.5 ** (age_i / half_life)

so one mild line among many neutral ones is weak, a member whose reviews are mostly unhappy is
strong, and a single line is pulled toward 0 by PRIOR pseudo-messages of no complaint. The
prior is weighted like the member's newest judged message, so every term carries the same
decay: a later as-of with no new message multiplies all of them by one factor, which cancels.
The score therefore stays what it was when the tag was stored, which is how segmentation's
columnar path (persona/tabulate.py) reads it without the member's messages.

The tag exists when a flagged message lies within the intent window (its evidence the flagged
messages, persona/aggregate.py), or when the member has been repeatedly unhappy without any
single line crossing the flag threshold: a mean of at least MEAN_TAG_AT_LEAST over at least
MEAN_TAG_MESSAGES judged messages inside the window (`Standing`; its evidence the member's most
negative judged messages there). Both expire like any intent: the flagged tag 30 days after
the last flag, the unflagged one when fewer than MEAN_TAG_MESSAGES judged messages are left in
the window. Since the mean does not move while nothing new is said, that moment is known when
the tag is stored, and segmentation's columnar path needs only the stored expiry.
A flagged message stored before confidences existed counts at the rules' confidence.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from persona.persona import MessageRecord, Tag
from persona.sentiment import RULE_CONFIDENCE

# Pseudo-messages of "no complaint" every member starts with: one judged line at confidence p
# scores p / 2, two agreeing lines 2p / 3.
PRIOR = 1.0
# The (kind, code) of the one tag scored this way rather than as a saturated decayed count.
MEAN_SCORED = ("intent", "complaint")
# A member is a complainer without a flagged line when the mean is at least this over at least
# MEAN_TAG_MESSAGES judged messages in the intent window: review-trained confidences of 0.3-0.5
# on several lines are a repeatedly unhappy member whose every line fell short of the flag.
# Chosen on the training domains only (docs/quality.md, complaints round 6: 0.2-0.5 swept; 0.3
# best on whole reviews, 0.25 on sentences, 0.35 within 0.002 of both) with the sample
# community as the brake: at 0.3 a mother whose one flag is a baby's fever after a vaccine and
# whose other lines praise goji berries and the service (the model reads them at 0.34-0.36)
# kept her tag six days longer; at 0.35 no demo member is tagged or kept longer (the highest
# unflagged one, 0.26, praises a snack and jokes about breakfast).
MEAN_TAG_AT_LEAST = 0.35
# One line is one mood; two unhappy lines are a pattern.
MEAN_TAG_MESSAGES = 2


class Standing(NamedTuple):
    """Why an unflagged member's complaint tag stands, and until when."""

    evidence: list[str]  # message ids, most negative first
    last_counted: datetime  # the MEAN_TAG_MESSAGES-th newest judged message in the window


class ComplaintMean:
    """Running sums of one member's judged messages; feed newest or oldest first alike.

    `since` is where the intent window starts: judged messages after it are kept (time,
    confidence, id) for the unflagged tag (`standing`)."""

    __slots__ = ("peak", "recent", "since", "total", "weight")

    def __init__(self, since: datetime | None = None) -> None:
        self.total = 0.0  # Σ d·p
        self.weight = 0.0  # Σ d
        self.peak = 0.0  # max d: the newest judged message's decay
        self.since = since
        self.recent: list[tuple[float, datetime, str]] = []  # (p, ts, id) inside the window

    def add(self, decay: float, rec: MessageRecord) -> None:
        """One message with its decay weight; messages that voiced no opinion add nothing."""
        signals = rec.signals
        p = signals.complaint
        if p is None:
            if "complaint" not in signals.intents:
                return
            p = RULE_CONFIDENCE  # flagged before confidences were stored
        self.total += decay * p
        self.weight += decay
        if decay > self.peak:
            self.peak = decay
        if self.since is not None and rec.ts > self.since:
            self.recent.append((p, rec.ts, rec.id))

    def standing(self, n_evidence: int) -> Standing | None:
        """The unflagged complaint tag, when the mean and the window's judged messages carry it:
        up to `n_evidence` of the most negative of those messages as its evidence."""
        if len(self.recent) < MEAN_TAG_MESSAGES or self.score() < MEAN_TAG_AT_LEAST:
            return None
        newest = sorted((ts for _, ts, _ in self.recent), reverse=True)
        most_negative = sorted(self.recent, key=lambda r: (-r[0], -r[1].timestamp(), r[2]))
        return Standing([mid for _, _, mid in most_negative[:n_evidence]],
                        newest[MEAN_TAG_MESSAGES - 1])

    def score(self) -> float:
        denominator = self.weight + PRIOR * self.peak
        return self.total / denominator if denominator > 0.0 else 0.0


def complaint_tag(flag_latest: datetime | None, flag_evidence: list[str],
                  mean: ComplaintMean, as_of: datetime, ttl: timedelta, n_evidence: int,
                  label: str) -> Tag | None:
    """"Recently complained": a flagged message in the intent window (the newest at
    `flag_latest`), or a member repeatedly unhappy without one (`ComplaintMean.standing`).
    Scored by the mean, with no floor; it lasts while either reason holds, and its evidence is
    the flags while they stand (the lines an operator answers), else the most negative judged
    lines."""
    evidence: list[str] = []
    expires: datetime | None = None
    if flag_latest is not None and flag_latest + ttl > as_of:
        evidence, expires = flag_evidence, flag_latest + ttl
    standing = mean.standing(n_evidence)
    if standing is not None and (expires is None or standing.last_counted + ttl > expires):
        expires = standing.last_counted + ttl
        evidence = evidence or standing.evidence
    if expires is None:
        return None
    kind, code = MEAN_SCORED
    return Tag(code, label, kind, mean.score(), evidence, expires)
