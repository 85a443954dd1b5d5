"""``v2a train`` end to end on the tokenized fixture: checkpoints, metrics, export, reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v2a_jax.cli import main
from v2a_jax.train.checkpoint import load_model
from v2a_jax.train.metrics import read_metrics

TINY = str(Path(__file__).parents[1] / "configs" / "tiny.py")


# The runs of this module share compiled programs (see conftest.jax_compilation_cache).
pytestmark = pytest.mark.usefixtures("jax_compilation_cache")


def test_v2a_train_tiny_on_tokenized_fixture(tokenized_dir, tmp_path, capsys):
    workdir = tmp_path / "run"
    args = ["train", "--config", TINY, "--workdir", str(workdir), "--no-progress",
            f"--config.data.data_dir={tokenized_dir}", "--config.train.steps=4",
            "--config.model.num_layers=1",  # the command is under test, not the depth
            "--config.train.save_every=2", "--config.train.eval_every=2"]  # fmt: skip
    assert main(args) == 0
    assert "finished at step 4 (start: scratch)" in capsys.readouterr().out
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["2", "4"]
    train = read_metrics(workdir, "train")
    assert [r["step"] for r in train] == [1, 2, 3, 4]
    assert all(r["loss"] > 0 and r["tokens_per_s"] > 0 for r in train)
    assert [r["step"] for r in read_metrics(workdir, "eval")] == [2, 4]
    assert list((workdir / "tensorboard").glob("events.out.tfevents.*"))
    saved = json.loads((workdir / "config.json").read_text())
    assert saved["train"]["steps"] == 4 and saved["data"]["data_dir"] == str(tokenized_dir)

    # Rerunning with more steps resumes from step 4.
    more = [a.replace("steps=4", "steps=5") for a in args]
    assert main(more) == 0
    assert "finished at step 5 (start: workdir)" in capsys.readouterr().out

    assert main(["export", "--workdir", str(workdir), "--out", str(tmp_path / "export")]) == 0
    model, config = load_model(tmp_path / "export")
    assert config.train.steps == 5 and model.cfg == config.model


def test_v2a_train_rejects_a_model_that_does_not_fit_the_data(tokenized_dir, tmp_path, capsys):
    args = ["train", "--config", TINY, "--workdir", str(tmp_path), "--no-progress",
            f"--config.data.data_dir={tokenized_dir}",
            "--config.model.codebook_size=512"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "does not fit the model (codebook_size: data 1024 vs model 512)" in err
    assert not (tmp_path / "checkpoints").exists()


def test_v2a_train_names_a_missing_data_set(tmp_path, capsys):
    missing = "nope"
    args = ["train", "--config", TINY, "--workdir", str(tmp_path), "--no-progress",
            f"--config.data.data_dir={tmp_path / missing}"]  # fmt: skip
    assert main(args) == 2
    assert str(tmp_path / missing) in capsys.readouterr().err
