"""`v2a eval` end to end on a tiny SyncScenes build: problems reported, never skipped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from v2a_jax.cli import main
from v2a_jax.data.loaders import open_split
from v2a_jax.io.audio import read_wav, resample, write_wav


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ss")
    code = main(["data", "build", "syncscenes", "--data-dir", str(data_dir), "--num-train", "0",
                 "--num-validation", "0", "--num-test", "4", "--duration", "2"])  # fmt: skip
    assert code == 0
    return data_dir, list(open_split(data_dir, "test"))


def _run(tmp_path, data_dir, pred, *extra):
    out = tmp_path / "report.json"
    code = main(["eval", "--data-dir", str(data_dir), "--split", "test", "--predictions",
                 str(pred), "--out", str(out), *extra])  # fmt: skip
    assert code == 0
    return json.loads(out.read_text())


def test_ground_truth_scores_well_and_the_report_is_flat(tiny, tmp_path):
    data_dir, clips = tiny
    pred = tmp_path / "gt"
    for clip in clips:  # float wavs: the very same samples (16-bit rounding moves 4-clip FAD)
        write_wav(pred / f"{clip['clip_id']}.wav", clip["audio"], clip["sample_rate"], "FLOAT")
    report = _run(tmp_path, data_dir, pred)
    for key in (
        "num_clips",
        "onset_f1",
        "onset_precision",
        "onset_recall",
        "onset_offset_ms",
        "adherence",
        "fad",
        "neg_suppression",
        "neg_suppression_visible",
        "diversity",
    ):
        assert key in report  # fmt: skip
    assert report["num_clips"] == 4 and report["num_problems"] == 0
    assert report["onset_f1"] >= 0.8 and report["onset_offset_ms"] <= 10.0
    assert report["fad"] == pytest.approx(0.0, abs=1e-3)  # the same audio as the reference
    per_label = report["adherence_per_label"]
    known = [f for f in per_label.values() if f is not None]
    assert known and report["adherence"] == pytest.approx(sum(known) / len(known))
    assert report["neg_suppression"] is None and report["diversity"] is None


def test_missing_wrong_rate_wrong_length_and_silent_files_are_reported(tiny, tmp_path):
    data_dir, clips = tiny
    pred = tmp_path / "bad"
    c0, c1, c2, c3 = clips
    write_wav(pred / f"{c0['clip_id']}.wav", resample(c0["audio"], 16000, 8000), 8000)
    write_wav(pred / f"{c1['clip_id']}.wav", c1["audio"][:-1000], 16000)
    write_wav(pred / f"{c2['clip_id']}.wav", np.zeros_like(c2["audio"]), 16000)
    # c3 is missing
    report = _run(tmp_path, data_dir, pred)
    assert report["num_clips"] == 4
    assert (report["num_wrong_rate"], report["num_wrong_length"], report["num_silent"],
            report["num_missing"]) == (1, 1, 1, 1)  # fmt: skip
    kinds = {(p["clip_id"], p["kind"]) for p in report["problems"]}
    assert (c3["clip_id"], "missing") in kinds and (c0["clip_id"], "wrong_rate") in kinds
    assert report["onset_recall"] < 1.0  # the missing and silent clips count as misses


def test_several_samples_give_diversity_and_the_av_benchmark_export(tiny, tmp_path):
    data_dir, clips = tiny
    pred = tmp_path / "multi"
    rng = np.random.default_rng(0)
    for clip in clips:
        write_wav(pred / clip["clip_id"] / "0.wav", clip["audio"], 16000)
        noise = 0.1 * rng.standard_normal(len(clip["audio"])).astype(np.float32)
        write_wav(pred / clip["clip_id"] / "1.wav", noise, 16000)
    export = tmp_path / "av"
    report = _run(tmp_path, data_dir, pred, "--export-av-benchmark", str(export))
    assert report["num_samples"] == 8 and report["diversity"] > 0.0
    cid = clips[0]["clip_id"]
    for sub, ext in (("gt_audio", "wav"), ("pred_audio", "wav"), ("videos", "mp4")):
        assert (export / sub / f"{cid}.{ext}").is_file()
    wave, sr = read_wav(export / "pred_audio" / f"{cid}.wav")
    assert sr == 16000 and len(wave) == len(clips[0]["audio"])


def test_negative_prompt_suppression_from_stems(tiny, tmp_path):
    data_dir, clips = tiny
    from v2a_jax.data.syncscenes import LAYER_NAMES
    from v2a_jax.data.syncscenes.captions import LAYER_WORDS

    pred, base = tmp_path / "neg", tmp_path / "base"
    manifest = {}
    for clip in clips:
        layers = clip["annotation"]["ambiences"] + clip["annotation"]["prompt_layers"]
        write_wav(base / f"{clip['clip_id']}.wav", clip["audio"], 16000, subtype="FLOAT")
        removed = clip["audio"]
        if layers:
            removed = clip["audio"] - clip["stems"][LAYER_NAMES.index(layers[0])]
            manifest[clip["clip_id"]] = {"negative_prompt": LAYER_WORDS[layers[0]][0]}
        write_wav(pred / f"{clip['clip_id']}.wav", removed, 16000, subtype="FLOAT")
    (pred / "manifest.json").write_text(json.dumps({"clips": manifest}))
    report = _run(tmp_path, data_dir, pred, "--baseline-predictions", str(base))
    if not manifest:
        pytest.skip("no tiny clip has a negatable layer")
    assert report["neg_num_clips"] == len(manifest)
    assert report["neg_suppression"] > 0.5  # the classifier no longer hears the layer
    assert report["neg_band_suppression"] > 0.0  # its band shares energy with the foreground


def test_a_missing_predictions_folder_is_one_clear_error(tiny, tmp_path, capsys):
    data_dir, _ = tiny
    code = main(["eval", "--data-dir", str(data_dir), "--predictions", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "r.json")])  # fmt: skip
    assert code == 2
    assert "predictions folder not found" in capsys.readouterr().err


def test_the_shipped_classifier_loads_with_its_card():
    from v2a_jax.data.syncscenes import LABELS
    from v2a_jax.eval import embed, load_classifier, predict_labels

    clf = load_classifier()
    assert clf.card["labels"] == list(LABELS) and clf.thresholds.shape == (len(LABELS),)
    wave = np.zeros(16000, np.float32)
    assert embed([wave, wave], 16000).shape == (2, clf.model.cfg.embed_dim)
    assert predict_labels([wave], 16000).shape == (1, len(LABELS))
    with pytest.raises(FileNotFoundError, match="classifier file missing"):
        load_classifier("/nonexistent")
