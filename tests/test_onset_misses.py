"""experiments/onset_misses.py: which events a prediction loses, by material."""

import numpy as np
from experiment_scripts import load_experiment

from v2a_jax.eval.onsets import OnsetConfig

SR = 16_000


def _clicks(times_s, gains, duration_s=2.0):
    """Decaying broadband bursts (impacts) at ``times_s`` over faint noise."""
    rng = np.random.default_rng(0)
    wave = 1e-3 * rng.standard_normal(int(duration_s * SR))
    decay = np.exp(-np.arange(int(0.08 * SR)) / (0.015 * SR))
    for t, g in zip(times_s, gains, strict=True):
        s = int(t * SR)
        wave[s : s + decay.size] += g * decay * rng.standard_normal(decay.size)
    return wave.astype(np.float32)


def test_a_removed_event_is_missed_with_little_power_and_a_kept_one_is_found():
    om = load_experiment("onset_misses")
    events = [{"time_s": 0.5, "material": "wood"}, {"time_s": 1.3, "material": "beep"}]
    truth = _clicks([0.5, 1.3], [0.5, 0.5])
    pred = _clicks([0.5, 1.3], [0.5, 0.0])  # the beep is gone
    records = om.tally(events, truth, SR, pred, SR, OnsetConfig())
    by = {r["material"]: r for r in records}
    assert set(by) == {"wood", "beep"}
    assert not by["wood"]["missed"] and by["beep"]["missed"]
    assert 0.5 < by["wood"]["power_after_ratio"] < 2.0
    assert by["beep"]["power_after_ratio"] < 1e-3
    summary = om.summarize(records)
    assert summary["all"] == {
        "events": 2,
        "missed": 1,
        "miss_rate": 0.5,
        "median_power_after_ratio_missed": by["beep"]["power_after_ratio"],
        "median_power_after_ratio_found": by["wood"]["power_after_ratio"],
    }
    assert summary["per_material"]["beep"]["miss_rate"] == 1.0


def test_events_the_truth_itself_misses_are_not_counted():
    om = load_experiment("onset_misses")
    truth = _clicks([0.5], [0.5])
    events = [{"time_s": 0.5, "material": "wood"}, {"time_s": 1.5, "material": "glass"}]
    records = om.tally(events, truth, SR, truth, SR, OnsetConfig())
    assert [r["material"] for r in records] == ["wood"]
    assert om.found([0.52], 0.5) and not om.found([0.56], 0.5) and not om.found([], 0.5)
