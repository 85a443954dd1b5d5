"""Checkpoints, exact resume after SIGKILL, the NaN stop, exports (v2a_jax.train).

Uses the toy model of ``train_toy.py`` (milliseconds per step): what is under test is the loop's
bookkeeping, which is the same for every model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
import train_toy
from flax import nnx

from v2a_jax.train.checkpoint import (
    CheckpointError,
    export_params,
    load_model,
    read_meta,
    restore_params,
)
from v2a_jax.train.loop import train
from v2a_jax.train.metrics import read_metrics

TESTS = Path(__file__).parent


# The runs of this module share compiled programs (see conftest.jax_compilation_cache).
pytestmark = pytest.mark.usefixtures("jax_compilation_cache")


def _train(workdir, config=None, **kwargs):
    return train(
        config or train_toy.config(),
        workdir,
        build=train_toy.build,
        loss_fn=train_toy.loss,
        records=(train_toy.records(10, 0), train_toy.records(4, 1)),
        progress=False,
        **kwargs,
    )


def _losses(workdir, split="train"):
    return {r["step"]: r["loss"] for r in read_metrics(workdir, split)}


def _steps(workdir):
    return sorted(
        int(p.name) for p in (Path(workdir) / "checkpoints").iterdir() if p.name.isdigit()
    )


def _run_until_checkpoint(workdir: Path, step: int, sig: int) -> int:
    """Runs the toy in a subprocess, sends ``sig`` once checkpoint ``step`` is on disk.

    Returns:
        The process's exit code.
    """
    env = dict(
        os.environ,
        PYTHONPATH=f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        JAX_COMPILATION_CACHE_DIR=jax.config.jax_compilation_cache_dir,
        JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
    )
    cmd = [sys.executable, "-c", "import train_toy; train_toy.main()", str(workdir)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    try:
        while not (workdir / "checkpoints" / str(step) / "commit_success.txt").exists():
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, f"no checkpoint {step} within 120 s"
            time.sleep(0.01)
        # The sample hook sleeps 0.15 s a step, so the run is still short of the next one.
        proc.send_signal(sig)
        return proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigkill_between_checkpoints_then_resume_gives_the_same_losses(tmp_path):
    """A run killed after checkpoint 6 (before 9), rerun, reproduces the uninterrupted losses.

    Exact equality: the resumed run restores params, optimiser state, the model's other
    variables and the data position, and draws each step's key as fold_in(key, step); on one
    CPU the same XLA program on the same inputs gives bit-identical results.
    """
    # The reference first: it fills the compilation cache the killed and resumed runs then hit.
    reference = tmp_path / "reference"
    _train(reference)

    killed = tmp_path / "killed"
    assert _run_until_checkpoint(killed, 6, signal.SIGKILL) == -signal.SIGKILL
    assert max(_steps(killed)) == 6
    assert read_meta(killed)["position"] == {"epoch": 2, "index": 8}  # 6 batches of 4 out of 10

    result = _train(killed)  # same workdir: resumes from its checkpoint
    assert result.source == "workdir" and result.step == 12

    got, want = _losses(killed), _losses(reference)
    assert sorted(got) == list(range(1, 13))
    assert got == want  # exact, every step, including those after the kill
    assert _losses(killed, "eval") == _losses(reference, "eval")
    assert _steps(killed) == [9, 12]  # keep_checkpoints=2


def test_sigterm_saves_and_stops(tmp_path):
    """A preemption notice (SIGTERM) ends the run cleanly with a checkpoint of the last step."""
    assert _run_until_checkpoint(tmp_path, 3, signal.SIGTERM) == 0
    last = max(_steps(tmp_path))
    # Normally a step after 3 (the signal lands mid-step, that step is saved); 3 itself only if
    # the process was descheduled between writing checkpoint 3 and looking at the signal flag.
    assert 3 <= last < 12 and read_meta(tmp_path)["step"] == last
    assert max(_losses(tmp_path)) == last  # every logged step is in the checkpoint


def test_nan_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    """The loss turns NaN at step 5: the error names step 5; checkpoint 4 is the latest, loads,
    and nothing from step 5 on was written."""
    config = train_toy.config(save_every=2, log_every=4)
    config = config.__class__(**{**config.__dict__, "model": train_toy.ToyConfig(nan_from_call=4)})
    with pytest.raises(FloatingPointError, match=r"non-finite \{'loss': nan\} at step 5\b"):
        _train(tmp_path, config)
    assert _steps(tmp_path) == [2, 4]  # step 6's save would have held the NaN state
    model, loaded_config = load_model(tmp_path)
    assert loaded_config == config
    assert int(model.calls[...]) == 4
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
    assert max(_losses(tmp_path)) == 4  # the window with the NaN is not logged


def test_export_load_model_resume_from_and_init_from(tmp_path):
    _train(tmp_path / "run", train_toy.config(steps=6))
    out = export_params(tmp_path / "run", tmp_path / "export")
    model, config = load_model(out)
    assert config == train_toy.config(steps=6)
    from_workdir, _ = load_model(tmp_path / "run")
    a, b = nnx.state(model, nnx.Param), nnx.state(from_workdir, nnx.Param)
    assert jax.tree.all(jax.tree.map(lambda x, y: bool((x == y).all()), a, b))

    # --resume-from: another run's full state, step and data position continue in a new workdir.
    result = _train(tmp_path / "b", train_toy.config(steps=8), resume_from=tmp_path / "run")
    assert result.source == f"resume:{tmp_path / 'run'}" and result.step == 8
    assert sorted(_losses(tmp_path / "b")) == [7, 8]

    # --init-from: the exported params start a new run at step 0 with a fresh optimiser.
    result = _train(tmp_path / "c", train_toy.config(steps=2), init_from=out)
    assert result.source == f"init:{out}" and result.step == 2


def test_unusable_checkpoints_give_one_clear_error(tmp_path):
    _train(tmp_path / "run", train_toy.config(steps=3))
    # Another model config in the same workdir.
    wider = train_toy.config(steps=6)
    wider = wider.__class__(**{**wider.__dict__, "model": train_toy.ToyConfig(width=32)})
    with pytest.raises(CheckpointError, match=r"run.*different model config.*\['width'\]"):
        _train(tmp_path / "run", wider)
    # Params of another shape.
    model = train_toy.ToyModel(train_toy.ToyConfig(width=32), nnx.Rngs(0))
    _, params, rest = nnx.split(model, nnx.Param, ...)
    with pytest.raises(CheckpointError, match=str(tmp_path / "run")):
        restore_params(tmp_path / "run", params, rest)
    # A corrupt array file.
    for f in (tmp_path / "run" / "checkpoints" / "3" / "state").rglob("*"):
        if f.is_file() and f.stat().st_size > 100 and "metadata" not in f.name:
            f.write_bytes(b"\0" * 16)
    with pytest.raises(CheckpointError, match=r"checkpoints/3"):
        _train(tmp_path / "run", train_toy.config(steps=6))
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_model(tmp_path / "empty")
