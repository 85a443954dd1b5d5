"""SyncScenes: shapes, determinism, events in sight and sound, physics, variety, captions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from v2a_jax.data.syncscenes import (
    AMBIENCES,
    LABELS,
    LAYER_NAMES,
    MATERIALS,
    PROMPT_LAYERS,
    SceneConfig,
    render_clip,
)
from v2a_jax.data.syncscenes import captions as cap
from v2a_jax.data.syncscenes.constants import MIN_EVENT_GAP_S
from v2a_jax.data.syncscenes.materials import sample_timbre, synth_kernels
from v2a_jax.data.syncscenes.motion import Bounce
from v2a_jax.data.syncscenes.render import scene_for

NUM_SEEDS = 200
SR, FPS = 16000, 25.0
TOP_KEYS = {"clip_id", "seed", "duration_s", "fps", "sample_rate", "num_frames", "num_samples",
            "height", "width", "objects", "events", "ambiences", "prompt_layers", "labels",
            "captions", "stem_names"}  # fmt: skip
EVENT_KEYS = {"time_s", "sample", "frame", "object", "material", "kind", "gain"}


@pytest.fixture(scope="module")
def clips():
    return [render_clip(seed) for seed in range(NUM_SEEDS)]


@pytest.mark.parametrize(
    "cfg", [SceneConfig(), SceneConfig(height=32, width=48, duration_s=2.5, fps=30.0)]
)
def test_shapes_dtypes_and_lengths(cfg):
    clip = render_clip(5, cfg)
    f, s = round(cfg.duration_s * cfg.fps), round(cfg.duration_s * cfg.sample_rate)
    assert clip.frames.shape == (f, cfg.height, cfg.width, 3) and clip.frames.dtype == np.uint8
    assert clip.audio.shape == (s,) and clip.audio.dtype == np.float32
    assert clip.stems.shape == (len(LAYER_NAMES), s) and clip.stems.dtype == np.float32
    np.testing.assert_allclose(clip.stems.sum(0), clip.audio, atol=1e-5)
    assert 0.5 < np.abs(clip.audio).max() <= 0.9 + 1e-6
    ann = clip.annotation
    assert (ann["num_frames"], ann["num_samples"], ann["height"], ann["width"]) == (
        f, s, cfg.height, cfg.width)  # fmt: skip
    assert json.loads(json.dumps(ann)) == ann
    for ev in ann["events"]:
        assert ev["frame"] == int(ev["sample"] * cfg.fps // cfg.sample_rate) < f


def test_same_seed_same_clip_other_seed_other_clip():
    a, b, c = render_clip(42), render_clip(42), render_clip(43)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.stems, b.stems)
    assert a.annotation == b.annotation
    assert not np.array_equal(a.audio, c.audio)
    assert not np.array_equal(a.frames, c.frames)


def test_annotation_schema(clips):
    for clip in clips[:40]:
        ann = clip.annotation
        assert set(ann) == TOP_KEYS
        assert ann["clip_id"] == clip.clip_id == f"syncscenes-{clip.seed:07d}"
        assert ann["stem_names"] == list(LAYER_NAMES)
        assert set(ann["labels"]) <= set(LABELS)
        assert [o["index"] for o in ann["objects"]] == list(range(len(ann["objects"])))
        for obj in ann["objects"]:
            assert {"index", "material", "shape", "color", "motion"} <= set(obj)
            assert obj["motion"] in ("bounce", "strike", "flash")
        for ev in ann["events"]:
            assert set(ev) == EVENT_KEYS
            assert ev["time_s"] == ev["sample"] / SR
            assert ev["frame"] == int(ev["sample"] * FPS // SR)  # frame i covers [i, i+1) / fps
            assert ann["objects"][ev["object"]]["material"] == ev["material"]
            assert 0 < ev["gain"] <= 1


def test_events_are_separated_and_inside_the_window(clips):
    for clip in clips:
        samples = np.array([e["sample"] for e in clip.annotation["events"]])
        assert len(samples) >= 1
        assert np.all(np.diff(samples) >= MIN_EVENT_GAP_S * SR - 1), clip.clip_id  # snapped
        assert samples[0] >= 0.1 * SR and samples[-1] <= 4.0 * SR - 0.05 * SR


def test_a_200ms_sync_error_never_lands_on_another_event(clips):
    """Events >= 250 ms apart: every event delayed by 200 ms is > 50 ms from all events."""
    assert MIN_EVENT_GAP_S >= 0.2 + 0.05
    for clip in clips:
        t = np.array([e["time_s"] for e in clip.annotation["events"]])
        nearest = np.min(np.abs((t + 0.2)[:, None] - t[None, :]), axis=1)
        assert np.all(nearest > 0.05 - 1e-4), clip.clip_id


def test_every_onset_is_audible_in_the_foreground_stem(clips):
    win = int(0.02 * SR)
    for clip in clips:
        fg = clip.stems[0].astype(np.float64)
        for ev in clip.annotation["events"]:
            s = ev["sample"]
            before = np.sqrt(np.mean(fg[max(0, s - win) : s] ** 2))
            after = np.sqrt(np.mean(fg[s : s + win] ** 2))
            assert after > 2.0 * before, (clip.clip_id, ev)
            assert np.abs(fg[s : s + win]).max() > 0.01, (clip.clip_id, ev)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).sum(-1).max())


def test_event_frames_show_the_event(clips):
    """A ball touches the floor, the mallet touches the object, the beep box is lit."""
    checked = {"bounce": 0, "strike": 0, "flash": 0}
    for clip in clips[:80]:
        scene, _ = scene_for(clip.seed)
        floor = int(scene.floor_y)
        frames = clip.frames
        for ev in clip.annotation["events"]:
            obj = scene.objects[ev["object"]]
            f = ev["frame"]
            if ev["kind"] == "bounce":
                # At the contact the ball covers the pixel just above the floor at its centre;
                # in the frame where it flies highest that pixel shows what is behind it.
                t = ev["sample"] / SR
                assert obj.motion.height(np.array([t]))[0] < 0.05
                col = int(obj.x + obj.motion.x_offset(np.array([t]), obj.slot_half)[0])
                t_mid = (np.arange(len(frames)) + 0.5) / FPS
                high = int(np.argmax(obj.motion.height(t_mid)))
                if obj.motion.height(t_mid[high : high + 1])[0] < 2 * obj.half_h + 2:
                    continue  # a low throw: no frame shows the floor there free of the ball
                assert _diff(frames[f, floor - 1, col], frames[high, floor - 1, col]) > 30
            elif ev["kind"] == "strike":
                # The mallet head sits right on the object's top in the event frame only.
                top = int(np.floor(floor - 2 * obj.half_h))
                col = int(obj.x)
                head = frames[f, top - 1, col]
                assert head.astype(int).mean() > 100, clip.clip_id  # the light mallet, not sky
                rest = frames[max(0, f - 6), top - 1, col]  # 240 ms before: winding up, high
                assert _diff(head, rest) > 100, clip.clip_id
            else:
                # The box is brighter in its event frame than in frames where it is dark.
                y0, y1 = int(floor - 2 * obj.half_h), floor
                x0, x1 = int(obj.x - obj.half_w), int(obj.x + obj.half_w) + 1
                lum = frames[:, y0:y1, x0:x1].astype(float).mean((1, 2, 3))
                t0 = np.arange(len(frames)) / FPS
                dark = ~obj.motion.lit(t0, t0 + 1 / FPS)
                assert dark.any() and lum[f] > lum[dark].max() + 40, clip.clip_id
            checked[ev["kind"]] += 1
    assert min(checked.values()) >= 20, checked


def test_bounces_follow_gravity_and_restitution(clips):
    """Contact gaps shrink by the restitution; impact gains fall with the speed."""
    seen = 0
    for clip in clips:
        for obj in clip.annotation["objects"]:
            if obj["motion"] != "bounce":
                continue
            ev = [e for e in clip.annotation["events"] if e["object"] == obj["index"]]
            t = np.array([e["time_s"] for e in ev])
            if len(t) >= 3:
                gaps = np.diff(t)
                np.testing.assert_allclose(gaps[1:] / gaps[:-1], obj["restitution"], atol=0.01)
                g = [e["gain"] for e in ev]
                assert all(a >= b for a, b in zip(g, g[1:], strict=False))
                seen += 1
    assert seen >= 30


def test_layers_present_are_nonzero_and_absent_are_zero(clips):
    for clip in clips[:60]:
        ann = clip.annotation
        assert np.abs(clip.stems[0]).max() > 0.05
        for i, name in enumerate(LAYER_NAMES[1:], start=1):
            present = name in ann["ambiences"] + ann["prompt_layers"]
            rms = np.sqrt(np.mean(clip.stems[i] ** 2))
            assert (rms > 1e-3) if present else not clip.stems[i].any(), (clip.clip_id, name)
            if present:  # background layers stay below the foreground events
                assert np.abs(clip.stems[i]).max() < np.abs(clip.stems[0]).max()


def test_labels_match_content(clips):
    for clip in clips:
        ann = clip.annotation
        sounding = {e["material"] for e in ann["events"]}
        expected = [m for m in MATERIALS if m in sounding] + ann["ambiences"] + ann["prompt_layers"]
        assert ann["labels"] == expected
        assert set(ann["ambiences"]) <= set(AMBIENCES)
        assert set(ann["prompt_layers"]) <= set(PROMPT_LAYERS)


def test_variety_over_many_seeds(clips):
    seen = {label for c in clips for label in c.annotation["labels"]}
    assert seen == set(LABELS)
    assert {len(c.annotation["objects"]) for c in clips} == {1, 2, 3}
    pairs = {(o["material"], o["motion"]) for c in clips for o in c.annotation["objects"]}
    assert len(pairs) == 9  # every material with every motion it can have
    gaps = np.concatenate([np.diff([e["time_s"] for e in c.annotation["events"]]) for c in clips])
    assert len(np.unique(np.round(gaps, 3))) > 300  # timing is not on a grid
    assert sum(not c.annotation["ambiences"] for c in clips) > 20  # some quiet scenes too


def test_materials_have_distinct_timbres():
    """Spectral centroid and ring time separate the materials across per-object jitter."""
    f = np.fft.rfftfreq(2**15, 1 / SR)
    centroid, ring = {}, {}
    for m in MATERIALS:
        c, r = [], []
        for seed in range(10):
            rng = np.random.default_rng(seed)
            body, click = synth_kernels(sample_timbre(m, rng), SR, rng)
            x = (body + click).astype(np.float64)
            power = np.abs(np.fft.rfft(x, 2**15)) ** 2
            c.append(np.sum(f * power) / np.sum(power))
            r.append(np.searchsorted(np.cumsum(x**2) / np.sum(x**2), 0.9) / SR)  # 90% energy
        centroid[m], ring[m] = np.array(c), np.array(r)
    assert centroid["rubber"].max() < centroid["drum"].min()
    assert centroid["drum"].max() < centroid["wood"].min()
    assert np.median(centroid["glass"]) > 1.5 * np.median(centroid["metal"])
    assert np.median(centroid["metal"]) > 1.3 * np.median(centroid["wood"])
    assert ring["metal"].min() > 2 * max(ring["wood"].max(), ring["rubber"].max())
    assert ring["glass"].min() > ring["wood"].max()
    assert len(np.unique(np.round(centroid["metal"]))) == 10  # every object sounds its own


def test_captions_name_every_label_in_varied_words(clips):
    firsts = set()
    for clip in clips[:100]:
        captions = clip.annotation["captions"]
        assert len(captions) >= 5 and len(set(captions)) == len(captions)
        firsts.add(captions[0][:12])
        for text in captions:
            for label in clip.annotation["labels"]:
                assert any(k in text.lower() for k in cap.KEYWORDS[label]), (label, text)
    assert len(firsts) > 20  # the first caption (the one trained on) is not one template


def test_every_caption_phrase_carries_its_label_keyword():
    for table in (cap.NOUNS, cap.SOUND_WORDS, cap.LAYER_WORDS):
        for label, phrases in table.items():
            for phrase in phrases:
                assert any(k in phrase.lower() for k in cap.KEYWORDS[label]), (label, phrase)


def test_short_clip_and_other_rates_render_consistently():
    cfg = SceneConfig(duration_s=1.0, fps=12.0, sample_rate=22050, height=24, width=80)
    for seed in range(5):
        clip = render_clip(seed, cfg)
        assert clip.frames.shape == (12, 24, 80, 3) and clip.audio.shape == (22050,)
        for ev in clip.annotation["events"]:
            assert 0.1 <= ev["time_s"] <= 0.95 and ev["frame"] == int(ev["sample"] * 12 // 22050)


@pytest.mark.parametrize(
    ("field", "value"),
    [("duration_s", 0.5), ("duration_s", 11.0), ("height", 0), ("width", -4), ("fps", 0.0),
     ("sample_rate", 100), ("max_objects", 4), ("min_objects", 0), ("p_ambience", 1.5)],
)  # fmt: skip
def test_bad_config_raises_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        render_clip(0, SceneConfig(**{field: value}))


def test_bad_seed_raises():
    with pytest.raises(ValueError, match="seed"):
        render_clip(-1)


def test_bounce_physics_contacts():
    """A dropped ball's contacts: fall time sqrt(2h/g), hops 2ev/g shrinking by e."""
    ball = Bounce(h0=20.0, v0=0.0, release_s=0.5, gravity=320.0, restitution=0.7, vx=0.0)
    ball.solve(10.0)
    t1 = 0.5 + np.sqrt(2 * 20.0 / 320.0)
    v1 = np.sqrt(2 * 320.0 * 20.0)
    assert ball.contacts_s[0] == pytest.approx(t1)
    assert ball.contacts_s[1] - ball.contacts_s[0] == pytest.approx(2 * 0.7 * v1 / 320.0)
    assert ball.at_rest and np.all(ball.height(ball.contacts_s) < 1e-9)
    mid = (ball.contacts_s[0] + ball.contacts_s[1]) / 2  # apex of the first hop: e^2 h
    assert ball.height(np.array([mid]))[0] == pytest.approx(0.49 * 20.0)
    assert ball.height(np.array([0.2]))[0] == pytest.approx(20.0)  # held before release
