"""experiments/codec_pitch_probe.py: its cross-validated probes find a pitch that the features
carry and none in unrelated features, and the script runs end to end on a saved codec."""

from __future__ import annotations

import json

import numpy as np
import pytest
from experiment_scripts import load_experiment

from v2a_jax.codec import Codec, CodecConfig, save_codec


@pytest.fixture(scope="module")
def probe():
    return load_experiment("codec_pitch_probe")


def _tones(n=200, seed=0):
    rng = np.random.default_rng(seed)
    log_f = rng.uniform(np.log(150.0), np.log(5000.0), n)
    return rng, log_f


def test_ridge_finds_a_linearly_coded_pitch(probe):
    rng, log_f = _tones()
    x = np.c_[log_f + 0.01 * rng.normal(size=len(log_f)), rng.normal(size=(len(log_f), 7))]
    x = x @ np.linalg.qr(rng.normal(size=(8, 8)))[0]  # rotated into every feature
    got = probe.cross_validated(probe.ridge_predict, x, log_f)
    assert got["r2"] > 0.99 and got["median_rel_freq_error"] < 0.02


def test_knn_finds_a_nonlinearly_coded_pitch(probe):
    rng, log_f = _tones(seed=1)
    angle = 1.5 * log_f  # spans 5.3 rad: an arc, one point per pitch, bent
    x = np.c_[np.sin(angle), np.cos(angle)]
    knn = probe.cross_validated(probe.knn_predict, x, log_f)["r2"]
    assert knn > 0.95
    assert knn > probe.cross_validated(probe.ridge_predict, x, log_f)["r2"] + 0.1


def test_no_pitch_in_unrelated_features(probe):
    rng, log_f = _tones(seed=2)
    x = rng.normal(size=(len(log_f), 8))
    for fn in (probe.ridge_predict, probe.knn_predict):
        got = probe.cross_validated(fn, x, log_f)
        assert got["r2"] < 0.2 and got["median_rel_freq_error"] > 0.2


def test_script_writes_a_row_per_codec_latent_and_probe(probe, tmp_path):
    cfg = CodecConfig(n_filters=4, dimension=16, n_q=4, bins=64, kmeans_init=False)
    folder = save_codec(Codec.from_config(cfg, seed=0), tmp_path / "codec")
    out = tmp_path / "probe.json"
    assert probe.main(["--codecs", str(folder), "--num-tones", "20", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert {(r["latent"], r["probe"]) for r in rows} == {
        (latent, p) for latent in ("continuous", "tokens") for p in ("ridge", "knn")
    }
    assert all(np.isfinite(r["r2"]) and r["median_rel_freq_error"] >= 0 for r in rows)


def test_bad_range_is_refused(probe, tmp_path):
    with pytest.raises(SystemExit):
        probe.main(["--min-hz", "500", "--max-hz", "100", "--out", str(tmp_path / "x.json")])
