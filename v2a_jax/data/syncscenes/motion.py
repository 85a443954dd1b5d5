"""How objects move: a ball under gravity with restitution, a mallet's stroke, a box's flashes.

Each motion knows its event times (seconds) and its on-screen state at any times [N] (vectorised),
so the picture and the sound come from one description. Lengths are pixels, times seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np

MIN_HOP_S = 0.1  # a ball whose next hop would be shorter than this comes to rest
STROKE_S = 0.45  # a mallet stroke (wind-up, fall, rebound) lasts less than this


@dataclasses.dataclass
class Bounce:
    """A ball in ballistic flight over the floor; every floor contact is an event.

    At ``release_s`` the ball's bottom is ``h0`` above the floor, moving up at ``v0`` (negative:
    down); before that it is held still. Each contact returns ``restitution`` times the speed.
    """

    h0: float
    v0: float
    release_s: float
    gravity: float
    restitution: float
    vx: float  # horizontal drift, px/s, reflected at the edges of the object's slot
    contacts_s: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))  # [E]
    speeds: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))  # [E] px/s
    at_rest: bool = False  # the last contact ends the motion

    def solve(self, t_end: float, min_hop_s: float = MIN_HOP_S) -> Bounce:
        """Fills ``contacts_s`` and ``speeds`` with every contact up to ``t_end``.

        The ball comes to rest when its next hop would be shorter than ``min_hop_s``.
        """
        g, e = self.gravity, self.restitution
        v = np.sqrt(self.v0**2 + 2 * g * self.h0)  # speed at the first contact
        t = self.release_s + (self.v0 + v) / g
        times, speeds = [], []
        self.at_rest = False
        while t <= t_end:
            times.append(t)
            speeds.append(v)
            v *= e
            hop = 2 * v / g
            if hop < min_hop_s:
                self.at_rest = True
                break
            t += hop
        self.contacts_s, self.speeds = np.asarray(times), np.asarray(speeds)
        return self

    def height(self, t_n: np.ndarray) -> np.ndarray:
        """Height of the ball's bottom above the floor, px [N], at times [N]."""
        g = self.gravity
        k = np.searchsorted(self.contacts_s, t_n, side="right")  # contacts at or before t
        dt0 = np.maximum(t_n - self.release_s, 0.0)
        h = self.h0 + self.v0 * dt0 - 0.5 * g * dt0**2  # before the first contact
        if len(self.contacts_s):
            j = np.maximum(k - 1, 0)
            dt = t_n - self.contacts_s[j]
            hop = self.restitution * self.speeds[j] * dt - 0.5 * g * dt**2
            if self.at_rest:
                hop = np.where(j == len(self.contacts_s) - 1, 0.0, hop)
            h = np.where(k > 0, hop, h)
        return np.maximum(h, 0.0)

    def x_offset(self, t_n: np.ndarray, half_range: float) -> np.ndarray:
        """Horizontal offset from the start column, px [N]: drifts, bounces off the slot walls."""
        if half_range <= 0:
            return np.zeros_like(t_n)
        stop = self.contacts_s[-1] if self.at_rest and len(self.contacts_s) else np.inf
        moving = np.clip(t_n, self.release_s, stop) - self.release_s  # from release to rest
        d = self.vx * moving + half_range
        period = 4 * half_range
        d = np.mod(d, period)
        return np.where(d < 2 * half_range, d, period - d) - half_range  # triangle wave

    def to_json(self) -> dict:
        return {
            "drop_height_px": round(self.h0, 3),
            "up_speed_px_s": round(self.v0, 3),
            "release_s": round(self.release_s, 4),
            "gravity_px_s2": round(self.gravity, 3),
            "restitution": round(self.restitution, 4),
        }


@dataclasses.dataclass
class Strike:
    """A mallet above a resting object: it winds up, falls, touches the object at each strike.

    ``gap`` is the distance from the mallet's bottom to the object's top, px; it is 0 exactly at
    every strike time. A harder strike (higher gain) winds up higher.
    """

    times_s: np.ndarray  # [E]
    gains: np.ndarray  # [E]
    rest_gap: float
    lift: float  # extra wind-up height at gain 1
    fall_s: float = 0.1
    windup_s: float = 0.15
    rebound_s: float = 0.15

    def gap(self, t_n: np.ndarray) -> np.ndarray:
        """Mallet-to-object gap, px [N] >= 0, at times [N]."""
        if not len(self.times_s):
            return np.full_like(t_n, self.rest_gap)
        dt = t_n[:, None] - self.times_s[None, :]  # [N, E]
        top = self.rest_gap + self.lift * self.gains[None, :]
        # Falling: accelerates into the contact (gap shrinks quadratically towards 0 at dt=0).
        u = np.clip(-dt / self.fall_s, 0.0, 1.0)
        fall = top * (1 - (1 - u) ** 2)
        # Winding up before the fall, rebounding to rest after the contact (smoothsteps).
        w = np.clip((-dt - self.fall_s) / self.windup_s, 0.0, 1.0)
        windup = self.rest_gap + (top - self.rest_gap) * (1 - w * w * (3 - 2 * w))
        r = np.clip(dt / self.rebound_s, 0.0, 1.0)
        rebound = self.rest_gap * r * r * (3 - 2 * r)
        per_strike = np.where(
            dt >= 0,
            np.where(dt < self.rebound_s, rebound, self.rest_gap),
            np.where(-dt <= self.fall_s, fall, windup),
        )
        # Strokes never overlap (strikes are >= STROKE_S apart), so at any time at most one
        # strike is away from rest and the deviations simply add.
        return self.rest_gap + (per_strike - self.rest_gap).sum(axis=1)

    def to_json(self) -> dict:
        return {"rest_gap_px": round(self.rest_gap, 3), "lift_px": round(self.lift, 3)}


@dataclasses.dataclass
class Flash:
    """A box that lights up for ``beep_s`` from each event time, while it beeps."""

    times_s: np.ndarray  # [E]
    beep_s: float

    def lit(self, t0_n: np.ndarray, t1_n: np.ndarray) -> np.ndarray:
        """bool [N]: whether the light is on at any time in each interval [t0, t1)."""
        start, end = self.times_s[None, :], self.times_s[None, :] + self.beep_s
        return np.any((t0_n[:, None] < end) & (t1_n[:, None] > start), axis=1)

    def to_json(self) -> dict:
        return {"flash_s": round(self.beep_s, 4)}
