"""SyncBench metric functions on hand-made cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from v2a_jax.data.syncscenes import LABELS
from v2a_jax.eval.adherence import labels_multi_hot, macro_f1, per_label_f1
from v2a_jax.eval.diversity import pairwise_diversity
from v2a_jax.eval.fad import frechet_distance
from v2a_jax.eval.matching import match_onsets
from v2a_jax.eval.onsets import OnsetConfig, detect_onsets, onset_function, rising_band_fraction
from v2a_jax.eval.suppression import fraction_removed, negated_layers

SR = 16000


def _clicks(samples, n=SR * 2, seed=0, noise=0.002):
    """Decaying 800 Hz tone bursts starting exactly at ``samples`` over faint noise."""
    rng = np.random.default_rng(seed)
    x = noise * rng.standard_normal(n).astype(np.float32)
    t = np.arange(int(0.15 * SR)) / SR
    burst = (np.sin(2 * np.pi * 800 * t) * np.exp(-t / 0.04)).astype(np.float32)
    for s in samples:
        x[s : s + len(burst)] += 0.8 * burst[: n - s]
    return x


def test_an_onset_at_a_known_sample_is_found_within_2_ms():
    onsets = detect_onsets(_clicks([12345]), SR)
    assert len(onsets) == 1
    assert abs(onsets[0] - 12345 / SR) <= 0.002


def test_several_onsets_and_a_shifted_copy():
    events = [4000, 9000, 15000, 22000]
    wave = _clicks(events, n=SR * 2)
    found = detect_onsets(wave, SR)
    m = match_onsets(found, np.array(events) / SR, 0.05)
    assert (m.tp, m.fp, m.fn) == (4, 0, 0) and m.offset_ms <= 2.0
    shifted = np.concatenate([np.zeros(3200, np.float32), wave[:-3200]])  # 200 ms later
    m2 = match_onsets(detect_onsets(shifted, SR), np.array(events) / SR, 0.05)
    assert m2.tp == 0 and m2.f1 == 0.0


def test_a_quiet_onset_counts_only_when_broadband():
    """A soft click (noise, all bands) is an onset; a bubble-like sine blip of equal rise is not."""
    rng = np.random.default_rng(2)
    t = np.arange(int(0.1 * SR)) / SR
    click = (rng.standard_normal(len(t)) * np.exp(-t / 0.01)).astype(np.float32)
    blip = (np.sin(2 * np.pi * 700 * t) * np.exp(-t / 0.01)).astype(np.float32)
    loud, soft_click, soft_blip = 4000, 14000, 24000
    wave = _clicks([loud], n=SR * 2)
    wave[soft_click : soft_click + len(t)] += 0.16 * click
    wave[soft_blip : soft_blip + len(t)] += 0.23 * blip
    cfg = OnsetConfig()
    _, rise_n, t_n = onset_function(wave, SR, cfg)
    for s in (soft_click, soft_blip):  # both rises lie between the soft and the full floor
        assert cfg.soft_rise_floor < rise_n[np.searchsorted(t_n, s)] < cfg.rise_floor
    frac = rising_band_fraction(wave, SR, [soft_click, soft_blip], cfg)
    assert frac[0] >= cfg.min_band_fraction and frac[1] <= 2 / 7
    m = match_onsets(detect_onsets(wave, SR), np.array([loud, soft_click]) / SR, 0.005)
    assert (m.tp, m.fp, m.fn) == (2, 0, 0)


def test_silence_and_steady_noise_have_no_onsets():
    assert len(detect_onsets(np.zeros(SR, np.float32), SR)) == 0
    noise = 0.1 * np.random.default_rng(1).standard_normal(SR * 2).astype(np.float32)
    assert len(detect_onsets(noise, SR)) <= 1
    with pytest.raises(ValueError, match="mono"):
        detect_onsets(np.zeros((2, 100)), SR)


def test_matching_is_one_to_one_and_respects_the_tolerance():
    m = match_onsets([1.0, 1.01], [1.005], 0.05)  # two detections, one event
    assert (m.tp, m.fp, m.fn) == (1, 1, 0)
    assert m.offset_ms == pytest.approx(5.0)
    m = match_onsets([1.0], [1.0, 1.02], 0.05)  # one detection, two events
    assert (m.tp, m.fp, m.fn) == (1, 0, 1) and m.offset_ms == pytest.approx(0.0)
    assert match_onsets([1.0], [1.0501], 0.05).tp == 0
    assert match_onsets([1.0], [1.05], 0.05).tp == 1  # on the boundary counts
    # closest pairs first: 1.00 -> 1.00 and 1.04 -> 1.09, not 1.04 -> 1.00
    m = match_onsets([1.0, 1.04], [1.0, 1.09], 0.05)
    assert m.tp == 2
    m = match_onsets([], [], 0.05)
    assert (m.precision, m.recall, m.f1, m.offset_ms) == (1.0, 1.0, 1.0, None)
    m = match_onsets([], [1.0], 0.05)
    assert (m.precision, m.recall, m.f1) == (0.0, 0.0, 0.0)
    total = match_onsets([1.0], [1.0], 0.05) + match_onsets([2.0], [2.01], 0.05)
    assert total.tp == 2 and total.offset_ms == pytest.approx(5.0)


def test_frechet_distance_of_identical_sets_is_zero_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 1.0) == pytest.approx(8.0, rel=1e-6)  # |mu diff|^2 = 8
    b = rng.standard_normal((500, 8)) * 2.0
    assert frechet_distance(a, b) > 5.0
    with pytest.raises(ValueError, match=">= 2"):
        frechet_distance(a[:1], a)


def test_frechet_distance_with_singular_covariances():
    """4 embeddings in 128 dimensions (rank-3 covariances): copies score 0, shifts |d|^2, and a
    diagonal case matches the closed form sum (sqrt(s_a) - sqrt(s_b))^2."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 128))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(x, x + 0.5) == pytest.approx(128 * 0.25, rel=1e-5)  # sqrt(round-off)
    basis = np.eye(6)[:, :3]  # both sets spread along the same 3 axes of 6, by 1 and by 3
    u = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1.0]])
    a, b = u @ basis.T, 3 * u @ basis.T
    var_a, var_b = np.var(u[:, 0], ddof=1), 9 * np.var(u[:, 0], ddof=1)
    expected = 3 * (np.sqrt(var_a) - np.sqrt(var_b)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_macro_f1_and_multi_hot():
    wanted = labels_multi_hot([["metal", "rain"], ["wood"]])
    probs = wanted.astype(np.float32) * 0.9
    assert macro_f1(probs, wanted) == pytest.approx(1.0)
    probs2 = probs.copy()
    probs2[1] = 0.0  # wood missed: F1(wood) = 0, metal and rain 1
    assert macro_f1(probs2, wanted) == pytest.approx(2 / 3)
    f1s = dict(zip(LABELS, per_label_f1(probs2, wanted), strict=True))
    assert (f1s["metal"], f1s["rain"], f1s["wood"], f1s["glass"]) == (1.0, 1.0, 0.0, None)
    with pytest.raises(ValueError, match="unknown label"):
        labels_multi_hot([["trumpet"]])


def test_diversity_and_suppression_helpers():
    assert pairwise_diversity(np.zeros((1, 4))) is None
    assert pairwise_diversity(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    assert negated_layers("rain, a melody") == ["rain", "music"]
    assert negated_layers("") == []
    assert fraction_removed([0.8, 0.6], [0.2, 0.0]) == pytest.approx(1 - 0.1 / 0.7)
    assert fraction_removed([], []) is None


def test_chance_curve_of_the_baselines_script_on_hand_made_events():
    """Annotations delayed by d match themselves only when an event lies d +- 50 ms later."""
    from experiment_scripts import load_experiment

    chance = load_experiment("syncbench_baselines").chance_onset_f1
    sr = 1000
    clips = [{"annotation": {"events": [{"time_s": t} for t in (0.5, 1.0, 2.0)]},
              "audio": np.zeros(4 * sr), "sample_rate": sr}]  # fmt: skip
    out = chance(clips)
    curve = out["annotations_shifted"]
    assert out["events_per_s"] == pytest.approx(0.75)
    assert curve["50"] == 1.0  # within the tolerance: every event matches itself
    assert curve["100"] == 0.0 and curve["200"] == 0.0 and curve["300"] == 0.0
    # 500 ms: 0.5 -> 1.0 matches, 1.0 -> 1.5 and 2.0 -> 2.5 do not: P = R = 1/3.
    assert curve["500"] == pytest.approx(1 / 3)
    assert curve["1000"] == pytest.approx(1 / 3)  # 1.0 -> 2.0
    assert out["annotations_shifted_200ms"] == curve["200"]
