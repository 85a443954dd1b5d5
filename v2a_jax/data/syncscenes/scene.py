"""Sampling a scene: which objects, how they look, move and sound, and when their events happen.

Event times come from each motion's physics (a ball's contacts from gravity and restitution), not
from a grid. Two rules keep onset evaluation well defined, and are checked on the real foreground
audio as objects are added:

- separation: all events of a clip, an object's own and those of different objects, are
  ``MIN_EVENT_GAP_S`` apart, after ``FIRST_EVENT_S`` and before the last ``END_MARGIN_S`` (a ball
  comes to rest before a hop that short, a flash or a strike waits at least that long);
- audibility: at every onset the foreground's RMS over the next ``ONSET_WINDOW_S`` is at least
  ``ONSET_RATIO`` times that over the previous window (no event hides in another's ring).

Balls go first (their contacts are fixed by physics) and are thrown again on a clash; a strike or
a flash that would clash is skipped, which leaves the mallet or the light still at that moment, so
sight and sound still agree. Legend: S samples, E events.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from v2a_jax.data.syncscenes.config import SceneConfig
from v2a_jax.data.syncscenes.constants import (
    AMBIENCES,
    APPEARANCE,
    END_MARGIN_S,
    FIRST_EVENT_S,
    FLOOR_FRACTION,
    GRAVITY_PER_HEIGHT,
    MATERIALS,
    MIN_EVENT_GAP_S,
    MOTIONS,
    ONSET_RATIO,
    ONSET_WINDOW_S,
    PROMPT_LAYERS,
    SIZE,
)
from v2a_jax.data.syncscenes.materials import Timbre, object_audio, sample_timbre, synth_kernels
from v2a_jax.data.syncscenes.motion import MIN_HOP_S, STROKE_S, Bounce, Flash, Strike

Motion = Bounce | Strike | Flash
RESTITUTION = {
    "rubber": (0.72, 0.86),
    "metal": (0.55, 0.75),
    "glass": (0.5, 0.7),
    "wood": (0.45, 0.65),
}
BALL_TRIES = 25


@dataclasses.dataclass
class SceneObject:
    """One sounding object. Pixel lengths; ``x`` is the centre column at time 0."""

    index: int
    material: str
    shape: str
    color: str
    rgb: tuple[int, int, int]
    motion_kind: str  # "bounce" | "strike" | "flash"
    half_h: float
    half_w: float
    x: float
    slot_half: float  # how far a ball may drift from x either way
    timbre: Timbre
    motion: Motion
    event_times: np.ndarray  # float64 [E] seconds, exactly event_samples / sample_rate
    event_samples: np.ndarray  # int64 [E]
    gains: np.ndarray  # float32 [E] in (0, 1]
    audio: np.ndarray  # float32 [S] this object's sound


@dataclasses.dataclass
class Scene:
    """Everything drawn and heard, before any pixel is made."""

    objects: list[SceneObject]
    ambiences: list[str]
    prompt_layers: list[str]
    floor_y: float  # pixel row of the floor surface (objects rest with their bottom on it)

    @property
    def foreground(self) -> np.ndarray:
        """float32 [S]: every object's sound."""
        return np.sum([o.audio for o in self.objects], axis=0, dtype=np.float32)


def _clear(times: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """bool [E]: which times are at least ``MIN_EVENT_GAP_S`` from every taken time."""
    if not len(taken) or not len(times):
        return np.ones(len(times), bool)
    return np.min(np.abs(times[:, None] - taken[None, :]), axis=1) >= MIN_EVENT_GAP_S


def _audible(audio: np.ndarray, samples: np.ndarray, window: int) -> np.ndarray:
    """bool [E]: whether each onset raises the RMS by ``ONSET_RATIO`` (``audio`` [S])."""
    s = np.asarray(samples)[:, None]
    idx = np.clip(s + np.arange(-window, window)[None, :], 0, len(audio) - 1)  # [E, 2 * window]
    seg = np.square(audio[idx], dtype=np.float32)
    seg[idx < s - window] = 0.0  # a window cut by the clip's start counts only what exists
    before, after = seg[:, :window].sum(1), seg[:, window:].sum(1)
    return after >= ONSET_RATIO**2 * before + 1e-12


def _snap(times_s: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Event times rounded to whole samples: (samples int64 [E], times float64 [E])."""
    samples = np.round(np.asarray(times_s) * sample_rate).astype(np.int64)
    return samples, samples / sample_rate


def _throw(rng, cfg, material, floor_y, half_h, ring_s) -> Bounce | None:
    """One throw of a ball; None when its contacts leave the event window.

    The ball settles once its hops get shorter than its ring (``ring_s``), which would hide them.
    """
    g = GRAVITY_PER_HEIGHT * cfg.height
    top = max(2.0, floor_y - 2 * half_h - 2)  # highest the ball's bottom may go, in px
    apex = rng.uniform(0.45, 1.0) * top
    h0 = rng.uniform(0.3, 1.0) * apex
    v0 = np.sqrt(2 * g * (apex - h0)) * rng.choice([-1.0, 1.0])  # thrown up or falling
    held = rng.random() < 0.5  # held still, then dropped
    release = rng.uniform(0.0, min(1.5, 0.4 * cfg.duration_s)) if held else 0.0
    ball = Bounce(h0, v0, release, g, rng.uniform(*RESTITUTION[material]),
                  vx=rng.uniform(-0.06, 0.06) * cfg.width)  # fmt: skip
    ball.solve(cfg.duration_s, max(MIN_HOP_S, MIN_EVENT_GAP_S, 1.2 * ring_s))
    times = ball.contacts_s
    if not len(times) or times[0] < FIRST_EVENT_S or times[-1] > cfg.duration_s - END_MARGIN_S:
        return None
    return ball


def _renewal(rng, cfg, min_gap, max_gap) -> np.ndarray:
    """Irregular times: gaps uniform in [min_gap, max_gap], inside the event window."""
    times = []
    t = FIRST_EVENT_S + rng.uniform(0.0, 0.7)
    while t <= cfg.duration_s - END_MARGIN_S:
        times.append(t)
        t += rng.uniform(min_gap, max_gap)
    return np.asarray(times)


def sample_scene(rng: np.random.Generator, cfg: SceneConfig) -> Scene:
    """Draws objects, their motions, sounds and events, the ambiences and prompt-only layers."""
    floor_y = round(cfg.height * FLOOR_FRACTION)
    for _ in range(20):
        objects = _sample_objects(rng, cfg, floor_y)
        if len(objects) >= cfg.min_objects:
            break  # an object left out (no clash-free events) could leave too few: draw again
    else:
        raise RuntimeError("could not place enough objects")
    ambiences: list[str] = []
    if rng.random() < cfg.p_ambience:
        ambiences.append(str(rng.choice(AMBIENCES)))
        if rng.random() < cfg.p_second_ambience:
            ambiences.append(str(rng.choice([a for a in AMBIENCES if a not in ambiences])))
    ambiences.sort(key=AMBIENCES.index)
    prompt_layers = [p for p in PROMPT_LAYERS if rng.random() < cfg.p_prompt_layer]
    return Scene(objects, ambiences, prompt_layers, float(floor_y))


def _sound(rng, kernels, samples, gains, cfg) -> np.ndarray:
    """An object's sound for these events, each with its own click mix: float32 [S]."""
    clicks = rng.uniform(0.6, 1.4, len(samples)).astype(np.float32)
    return object_audio(*kernels, samples, gains, clicks, cfg.num_samples, cfg.sample_rate)


def _place_ball(rng, cfg, kind, material, timbre, kernels, floor_y, half_h, fg, taken):
    """Throws a ball until its contacts are clear of, and audible over, the accepted sounds.

    Returns:
        (motion, samples [E], times [E], gains [E], sound [S]), or None after ``BALL_TRIES``.
    """
    window = max(1, round(ONSET_WINDOW_S * cfg.sample_rate))
    for _ in range(BALL_TRIES):
        ball = _throw(rng, cfg, material, floor_y, half_h, timbre.decay_s)
        if ball is None:
            continue
        samples, times = _snap(ball.contacts_s, cfg.sample_rate)
        if not _clear(times, taken / cfg.sample_rate).all():
            continue
        v_ref = np.sqrt(2 * ball.gravity * (floor_y - 2 * half_h))  # from the highest throw
        gains = np.clip((ball.speeds / v_ref) ** 0.8, 0.25, 1.0)
        own = _sound(rng, kernels, samples, gains, cfg)
        if _audible(fg + own, np.concatenate([taken, samples]), window).all():
            return ball, samples, times, gains, own
    return None


def _place_hits(rng, cfg, kind, material, timbre, kernels, floor_y, half_h, fg, taken):
    """Strike or flash times, skipping those that clash with, hide or are hidden by others.

    Returns:
        (motion, samples [E], times [E], gains [E], sound [S]), or None if none is left.
    """
    sr = cfg.sample_rate
    window = max(1, round(ONSET_WINDOW_S * sr))
    if kind == "strike":
        times = _renewal(rng, cfg, max(STROKE_S, MIN_EVENT_GAP_S), 1.2)
        gains = rng.uniform(0.45, 1.0, len(times))
    else:
        gap = max(timbre.beep_s + 0.12, MIN_EVENT_GAP_S)  # the light goes dark between beeps
        times = _renewal(rng, cfg, gap, gap + 0.8)
        gains = rng.uniform(0.6, 0.9, len(times))
    keep = _clear(times, taken / sr)
    samples, times, gains = *_snap(times[keep], sr), gains[keep]
    for _ in range(6):
        if not len(samples):
            return None
        own = _sound(rng, kernels, samples, gains, cfg)
        ok = _audible(fg + own, np.concatenate([taken, samples]), window)
        if ok.all():
            break
        drop = ~ok[len(taken) :]
        for s in taken[~ok[: len(taken)]]:  # a ring of ours hides an older onset: skip the hit
            before = np.nonzero(samples < s)[0]
            if len(before):
                drop[before[-1]] = True
        samples, times, gains = samples[~drop], times[~drop], gains[~drop]
    else:
        return None
    room = floor_y - 2 * half_h - 3  # free pixels above the object
    if kind == "strike":
        rest, lift = rng.uniform(0.35, 0.5) * room, rng.uniform(0.15, 0.3) * room
        motion = Strike(times, gains, rest_gap=rest, lift=lift)
    else:
        motion = Flash(times, timbre.beep_s)
    return motion, samples, times, gains, own


def _sample_objects(rng: np.random.Generator, cfg: SceneConfig, floor_y: int) -> list[SceneObject]:
    """Objects left to right, each with at least one event; unplaceable ones are left out."""
    unit, sr, n = min(cfg.height, cfg.width), cfg.sample_rate, cfg.num_samples
    num = int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    materials = [str(m) for m in rng.choice(MATERIALS, size=num, replace=False)]
    slot_w = cfg.width / num

    drafts = []
    for slot, material in enumerate(materials):
        shape, colours = APPEARANCE[material]
        colour, rgb = colours[int(rng.integers(len(colours)))]
        half_h = rng.uniform(*SIZE[material]) * unit
        half_w = {"disc": 2.0, "triangle": 0.9}.get(shape, 1.0) * half_h
        room = max(0.0, slot_w / 2 - half_w - 1)
        x = (slot + 0.5) * slot_w + rng.uniform(-0.4, 0.4) * room
        kind = str(rng.choice(MOTIONS[material]))
        drafts.append((material, shape, colour, rgb, kind, half_h, half_w, x, room))

    fg = np.zeros(n, np.float32)  # the accepted objects' sound so far
    taken = np.zeros(0, np.int64)  # and their onset samples
    built: dict[int, SceneObject] = {}
    for i in sorted(range(num), key=lambda i: drafts[i][4] != "bounce"):
        material, shape, colour, rgb, kind, half_h, half_w, x, room = drafts[i]
        timbre = sample_timbre(material, rng, kind)
        kernels = synth_kernels(timbre, sr, np.random.default_rng(rng.integers(2**63)))
        x_room = min(room, 0.35 * slot_w) if kind == "bounce" else 0.0
        place = _place_ball if kind == "bounce" else _place_hits
        placed = place(rng, cfg, kind, material, timbre, kernels, floor_y, half_h, fg, taken)
        if placed is None or not len(placed[1]):
            continue  # no clash-free events for this object: leave it out
        motion, samples, times, gains, own = placed
        fg += own
        taken = np.concatenate([taken, samples])
        built[i] = SceneObject(
            index=-1, material=material, shape=shape, color=colour, rgb=rgb, motion_kind=kind,
            half_h=half_h, half_w=half_w, x=x, slot_half=x_room, timbre=timbre, motion=motion,
            event_times=times, event_samples=samples, gains=gains.astype(np.float32), audio=own,
        )  # fmt: skip
    objects = [built[i] for i in sorted(built)]  # left to right
    for index, obj in enumerate(objects):
        obj.index = index
    return objects
