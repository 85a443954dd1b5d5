"""Config files and ``--config.a.b=value`` overrides (v2a_jax.config)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import pytest
from flax import nnx

from v2a_jax.config import (
    Config,
    TrainConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
)

CONFIGS = sorted((Path(__file__).parents[1] / "configs").glob("*.py"))


def test_every_config_is_shipped():
    assert {p.stem for p in CONFIGS} >= {"tiny", "small", "base"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_config_loads_and_builds(path):
    """Each shipped config loads, round-trips through JSON, and its model builds (shapes only)."""
    from v2a_jax.models import ModelConfig
    from v2a_jax.train.loop import build_token_lm

    config = load_config(path)
    assert "v2a " in path.read_text()  # the docstring gives the run command
    assert config_from_dict(config_to_dict(config)) == config
    if not isinstance(config.model, ModelConfig):
        return  # another model's config (the refiner's): its own tests build it
    model = nnx.eval_shape(lambda: build_token_lm(config, nnx.Rngs(config.seed)))
    params = nnx.state(model, nnx.Param)
    count = sum(x.size for x in jax.tree.leaves(params))
    assert count > 10_000


def test_overrides_convert_to_field_types(tmp_path):
    path = Path(__file__).parents[1] / "configs" / "tiny.py"
    config = load_config(
        path,
        [
            "--config.train.lr=3e-4",
            "--config.train.steps=7",
            "config.data.data_dir=out/tok",
            "--config.model.num_layers=1",
            "--config.seed=5",
            "--config.data.keys=tokens,frames,latent",
            "--config.model.video.widths=(4, 8)",
        ],
    )
    assert config.train.lr == 3e-4 and isinstance(config.train.lr, float)
    assert config.train.steps == 7 and isinstance(config.train.steps, int)
    assert config.data.data_dir == "out/tok"
    assert config.model.num_layers == 1
    assert config.seed == 5
    assert config.data.keys == ("tokens", "frames", "latent")
    assert config.model.video.widths == (4, 8)
    # An int literal is fine for a float field; a float for an int field is not.
    assert apply_overrides(config, ["--config.train.lr=1"]).train.lr == 1.0
    with pytest.raises(ValueError, match=r"'train.steps'.*not an int"):
        apply_overrides(config, ["--config.train.steps=2.5"])
    with pytest.raises(ValueError, match=r"'model.dtype'"):
        apply_overrides(config, ["--config.model.dtype=float8"])  # the model's own check


def test_unknown_key_names_it_and_lists_valid_keys():
    config = Config(model=TrainConfig())
    with pytest.raises(ValueError) as err:
        apply_overrides(config, ["--config.train.learning_rate=1e-3"])
    message = str(err.value)
    assert "'train.learning_rate'" in message
    assert "valid keys of train" in message and "'lr'" in message and "'warmup_steps'" in message
    with pytest.raises(ValueError, match=r"unknown config key 'trian.lr'.*'train'.*'data'"):
        apply_overrides(config, ["--config.trian.lr=1"])
    with pytest.raises(ValueError, match="not of the form"):
        apply_overrides(config, ["--config.train.lr"])


def test_bad_config_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.py"):
        load_config(tmp_path / "nope.py")
    bad = tmp_path / "bad.py"
    bad.write_text("def get_config():\n    return 3\n")
    with pytest.raises(ValueError, match="returned int, not Config"):
        load_config(bad)


def test_validation_in_train_config():
    with pytest.raises(ValueError, match="train.batch_size must be >= 1"):
        TrainConfig(batch_size=0)
    assert dataclasses.replace(TrainConfig(), steps=3).steps == 3


def test_cli_passes_config_overrides_to_train_only(tmp_path, capsys):
    from v2a_jax.cli import main

    tiny = str(Path(__file__).parents[1] / "configs" / "tiny.py")
    code = main(["train", "--config", tiny, "--workdir", str(tmp_path), "--config.train.stepz=1"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown config key 'train.stepz'" in err and "'steps'" in err
    assert main(["train", "--config", tiny, "--workdir", str(tmp_path), "--seed", "1"]) == 2
    assert "config overrides are --config.a.b=value" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # other commands reject stray arguments as before
        main(["export", "--workdir", str(tmp_path), "--out", str(tmp_path), "--config.x=1"])
    assert "unrecognized arguments: --config.x=1" in capsys.readouterr().err


def test_cli_distributed_flags_initialize_jax_first(tmp_path, monkeypatch, capsys):
    import jax

    from v2a_jax.cli import main

    calls = []
    monkeypatch.setattr(jax.distributed, "initialize", lambda **kw: calls.append(kw))
    tiny = str(Path(__file__).parents[1] / "configs" / "tiny.py")
    args = ["train", "--config", tiny, "--workdir", str(tmp_path), "--coordinator", "h0:1234",
            "--num-processes", "2", "--process-id", "1",
            f"--config.data.data_dir={tmp_path}"]  # fmt: skip
    assert main(args) == 2  # no data there: the run stops after initialising
    assert calls == [{"coordinator_address": "h0:1234", "num_processes": 2, "process_id": 1}]
    assert "no tokenized data set" in capsys.readouterr().err
