"""One-to-one matching of detected onsets to annotated events within a tolerance.

Candidate pairs within the tolerance are taken closest first, each detection and each event used
at most once (the usual onset-evaluation rule: a detection cannot count for two events, nor two
detections for one). Legend: E events, D detections.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class MatchCounts:
    """Counts of one or many clips; sums add up across clips.

    Attributes:
        tp: matched pairs; fp: detections left unmatched; fn: events left unmatched.
        offset_sum_s: sum of |detection - event| over matched pairs, in seconds.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    offset_sum_s: float = 0.0

    def __add__(self, other: MatchCounts) -> MatchCounts:
        return MatchCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn,
                           self.offset_sum_s + other.offset_sum_s)  # fmt: skip

    @property
    def precision(self) -> float:
        """tp / detections; 1.0 when nothing was detected and nothing was there to detect."""
        d = self.tp + self.fp
        return self.tp / d if d else (1.0 if self.fn == 0 else 0.0)

    @property
    def recall(self) -> float:
        """tp / events; 1.0 when there were no events and nothing was detected."""
        e = self.tp + self.fn
        return self.tp / e if e else (1.0 if self.fp == 0 else 0.0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def offset_ms(self) -> float | None:
        """Mean absolute offset of matched pairs in ms; None when nothing matched."""
        return 1000.0 * self.offset_sum_s / self.tp if self.tp else None


def match_onsets(detected_s, events_s, tolerance_s: float = 0.05) -> MatchCounts:
    """Matches detections to events one-to-one within ``tolerance_s``.

    Args:
        detected_s: [D] detected onset times in seconds (any order).
        events_s: [E] annotated event times in seconds (any order).
        tolerance_s: a pair matches when ``|detection - event| <= tolerance_s``.

    Returns:
        The counts and offset sum.
    """
    det = np.sort(np.asarray(detected_s, np.float64).ravel())
    ev = np.sort(np.asarray(events_s, np.float64).ravel())
    if tolerance_s < 0:
        raise ValueError(f"tolerance must be >= 0 seconds, got {tolerance_s}")
    if not len(det) or not len(ev):
        return MatchCounts(0, len(det), len(ev), 0.0)
    dist_de = np.abs(det[:, None] - ev[None, :])
    d_idx, e_idx = np.nonzero(dist_de <= tolerance_s + 1e-12)
    order = np.argsort(dist_de[d_idx, e_idx], kind="stable")
    used_d = np.zeros(len(det), bool)
    used_e = np.zeros(len(ev), bool)
    tp, total = 0, 0.0
    for k in order:
        d, e = d_idx[k], e_idx[k]
        if used_d[d] or used_e[e]:
            continue
        used_d[d] = used_e[e] = True
        tp += 1
        total += float(dist_de[d, e])
    return MatchCounts(tp, len(det) - tp, len(ev) - tp, total)
