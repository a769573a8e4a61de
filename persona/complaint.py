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

Whether the tag exists at all, its evidence and its expiry stay with the flags (a complaint
message within the intent window, persona/aggregate.py): the mean only says how strong it is.
A flagged message stored before confidences existed counts at the rules' confidence.
"""

from __future__ import annotations

from persona.sentiment import RULE_CONFIDENCE
from persona.signals import Signals

# Pseudo-messages of "no complaint" every member starts with: one judged line at confidence p
# scores p / 2, two agreeing lines 2p / 3.
PRIOR = 1.0
# The (kind, code) of the one tag scored this way rather than as a saturated decayed count.
MEAN_SCORED = ("intent", "complaint")


class ComplaintMean:
    """Running sums of one member's judged messages; feed newest or oldest first alike."""

    __slots__ = ("peak", "total", "weight")

    def __init__(self) -> None:
        self.total = 0.0  # Σ d·p
        self.weight = 0.0  # Σ d
        self.peak = 0.0  # max d: the newest judged message's decay

    def add(self, decay: float, signals: Signals) -> None:
        """One message with its decay weight; messages that voiced no opinion add nothing."""
        p = signals.complaint
        if p is None:
            if "complaint" not in signals.intents:
                return
            p = RULE_CONFIDENCE  # flagged before confidences were stored
        self.total += decay * p
        self.weight += decay
        if decay > self.peak:
            self.peak = decay

    def score(self) -> float:
        denominator = self.weight + PRIOR * self.peak
        return self.total / denominator if denominator > 0.0 else 0.0
