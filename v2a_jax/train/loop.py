"""The training loop, generic over ``(build, loss_fn)``: the AR LM and the refiner both use it.

``train(config, workdir)`` builds (or restores) the state, then repeats: next batch, jitted step,
and every so often train metrics, validation loss, a checkpoint, a sample dump. Metrics of the
steps since the last check are fetched together (no per-step device sync) and checked for NaN/inf
before anything is logged or saved, so a diverged run stops with the step that diverged and the
last good checkpoint untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx

from v2a_jax.config import Config
from v2a_jax.io.atomic import atomic_path
from v2a_jax.train import checkpoint as ckpt
from v2a_jax.train.checks import check_codec_info, check_tokens_fit
from v2a_jax.train.data import BatchIterator, Position, eval_batches, open_records, to_device
from v2a_jax.train.metrics import MetricsWriter
from v2a_jax.train.optim import learning_rate_schedule, make_optimizer
from v2a_jax.train.step import LossFn, TrainState, init_state, jit_steps, split_model

Build = Callable[[Config, nnx.Rngs], nnx.Module]
SampleFn = Callable[[nnx.Module, Config, int, Path], None]


def build_token_lm(config: Config, rngs: nnx.Rngs) -> nnx.Module:
    """The default ``build``: the AR token LM of ``config.model``."""
    from v2a_jax.models import build_model

    return build_model(config.model, rngs)


def _default_loss() -> LossFn:
    from v2a_jax.models.losses import lm_loss

    return lm_loss


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a finished (or preempted) run reports.

    Attributes:
        step: the last step taken (and checkpointed).
        train_loss: mean train loss of the last logged window.
        eval_loss: the last validation loss (None if never evaluated).
        source: where the state came from: ``scratch``, ``workdir``, ``resume:PATH`` or
            ``init:PATH``.
        preempted: True when a SIGTERM stopped the run early (after saving).
    """

    step: int
    train_loss: float | None
    eval_loss: float | None
    source: str
    preempted: bool = False


def _state_shardings(abstract: TrainState, mesh) -> Any:
    from v2a_jax.sharding import state_shardings

    return state_shardings(abstract, mesh)


def restore_or_init(
    config: Config,
    workdir: Path,
    build: Build,
    tx,
    mesh,
    resume_from: str | Path | None,
    init_from: str | Path | None,
) -> tuple[nnx.GraphDef, TrainState, Position, str, Any]:
    """The one resume order: (1) the workdir's latest checkpoint, (2) ``resume_from`` (full state,
    data position and step of another run), (3) ``init_from`` (params only, step 0), (4) scratch.

    Returns:
        ``(graphdef, state, data position, source, state shardings or None)``.

    Raises:
        CheckpointError: the chosen checkpoint is unusable or its model config differs.
    """

    def create() -> TrainState:
        return init_state(build(config, nnx.Rngs(config.seed)), tx)

    store_dir = workdir / ckpt.CHECKPOINTS
    has_own = any(p.name.isdigit() for p in store_dir.glob("*")) if store_dir.is_dir() else False
    source, path = "scratch", None
    if has_own:
        source, path = "workdir", workdir
    elif resume_from:
        source, path = f"resume:{resume_from}", Path(resume_from)
    if path is not None:  # checked first: a mismatch should fail before anything is built
        saved = ckpt.read_meta(path)
        diff = ckpt.model_config_differences(saved.get("config", {}), config)
        if diff:
            raise ckpt.CheckpointError(
                f"checkpoint at {path} was trained with a different model config "
                f"(fields {diff} differ); use a new --workdir or --init-from for a new model"
            )

    abstract_model = nnx.eval_shape(lambda: build(config, nnx.Rngs(config.seed)))
    graphdef = split_model(abstract_model)[0]
    shardings = None
    if mesh is not None:
        shardings = _state_shardings(nnx.eval_shape(create), mesh)
    # Created under jit with out_shardings: no device ever holds an unsharded copy (a restore
    # then overwrites it in place of the same layout).
    state = jax.jit(create, out_shardings=shardings)()
    if path is not None:
        state, meta = ckpt.restore_checkpoint(path, state)
        return graphdef, state, Position(**meta["position"]), source, shardings
    if init_from:
        params, rest = ckpt.restore_params(init_from, state.params, state.rest)
        state = dataclasses.replace(state, params=params, rest=rest)
        return graphdef, state, Position(), f"init:{init_from}", shardings
    return graphdef, state, Position(), source, shardings


class _Preemption:
    """Turns SIGTERM into a flag the loop checks after each step (save, then stop)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _mean(records: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in records])) for k in records[0]}


def train(
    config: Config,
    workdir: str | Path,
    *,
    build: Build | None = None,
    loss_fn: LossFn | None = None,
    resume_from: str | Path | None = None,
    init_from: str | Path | None = None,
    sample_fn: SampleFn | None = None,
    records: tuple[Sequence[dict], Sequence[dict]] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Trains ``config`` in ``workdir`` until ``config.train.steps``, resuming where it can.

    Args:
        config: the run's config (``config.mesh`` None: one device).
        workdir: checkpoints, ``metrics.jsonl``, ``tensorboard/`` and ``config.json`` go here.
        build: ``(config, rngs) -> model``, a module-level function (its import path is stored in
            checkpoints for ``load_model``); default ``build_token_lm``.
        loss_fn: ``(model, batch, rng, train) -> (loss, metrics)``; default the LM's ``lm_loss``.
        resume_from: a checkpoint of another run to continue (used only if the workdir has none).
        init_from: an export or checkpoint whose params start a fresh run (lowest priority).
        sample_fn: called as ``sample_fn(model, config, step, workdir)`` every
            ``train.sample_every`` steps (e.g. to write wavs); the model is only valid during
            the call (the next step reuses its buffers).
        records: ``(train, eval)`` random-access record sequences instead of ``config.data``.
        progress: show the progress bar.

    Returns:
        A ``TrainResult``.

    Raises:
        FloatingPointError: a non-finite loss or gradient norm; names the step; the checkpoints
            on disk are all from before it.
        CheckpointError: an unusable checkpoint (names its path).
    """
    build = build or build_token_lm
    loss_fn = loss_fn or _default_loss()
    build_path = ckpt.callable_path(build)
    if "<" in build_path:
        raise ValueError(
            f"build must be a module-level function (for load_model), got {build_path}"
        )
    tc = config.train
    workdir = Path(workdir).absolute()
    workdir.mkdir(parents=True, exist_ok=True)
    with atomic_path(workdir / "config.json") as tmp:
        tmp.write_text(json.dumps(ckpt.config_json(config), indent=2))

    mesh = None
    if config.mesh is not None:
        from v2a_jax.sharding import make_mesh

        mesh = make_mesh(config.mesh)
    tx, schedule = make_optimizer(tc), learning_rate_schedule(tc)
    # The data first: a missing or mismatched data set fails before anything compiles.
    data_label = "the given training records"
    if records is None:
        data_label = f"data set {config.data.data_dir}"
        if hasattr(config.model, "codebook_size"):  # a token model reading a tokenized set
            check_codec_info(config.model, config.data)
        records = (
            open_records(config.data, config.data.train_split),
            open_records(config.data, config.data.eval_split),
        )
    # Built outside the mesh context: parameters carry *logical* names as sharding metadata,
    # which Flax would read as mesh axes under jax.set_mesh; placement comes from the rules.
    graphdef, state, position, source, shardings = restore_or_init(
        config, workdir, build, tx, mesh, resume_from, init_from
    )
    # The steps trace under the mesh, so activation constraints (sharding.constrain) apply.
    mesh_ctx = jax.set_mesh(mesh) if mesh is not None else contextlib.nullcontext()
    with mesh_ctx:
        train_fn, eval_fn = jit_steps(graphdef, loss_fn, tx, schedule, shardings, mesh)
        return _run(
            config, workdir, graphdef, state, position, source, train_fn, eval_fn, records,
            mesh, build_path, sample_fn, progress, data_label,
        )  # fmt: skip


def _run(
    config, workdir, graphdef, state, position, source, train_fn, eval_fn, records, mesh,
    build_path, sample_fn, progress, data_label,
) -> TrainResult:  # fmt: skip
    tc = config.train
    base_key = jax.random.key(config.seed)
    train_rng, eval_rng = jax.random.fold_in(base_key, 1), jax.random.fold_in(base_key, 2)
    step = int(jax.device_get(state.step))
    batches = BatchIterator(
        records[0], tc.batch_size, config.data, position, jax.process_index(), jax.process_count()
    )
    store = ckpt.CheckpointStore(workdir, tc.keep_checkpoints)
    first = jax.process_index() == 0
    writer = MetricsWriter(workdir, step, tc.steps, progress and first, active=first)
    writer.write(step, "start", {"resumed_from_step": step})
    pending: list[tuple[int, dict]] = []
    train_loss = eval_loss = None
    window_start, window_tokens = time.perf_counter(), 0

    def check_and_log() -> None:
        nonlocal train_loss, window_start, window_tokens
        if not pending:
            return
        fetched = jax.device_get([m for _, m in pending])
        for (s, _), m in zip(pending, fetched, strict=True):
            bad = {k: float(m[k]) for k in ("loss", "grad_norm") if not np.isfinite(m[k])}
            if bad:
                store.wait()
                raise FloatingPointError(
                    f"non-finite {bad} at step {s} in {workdir}; training stopped, the latest "
                    f"checkpoint (step {store.latest_step()}) is from before it. Lower "
                    "train.lr or raise train.warmup_steps, then rerun to resume from it."
                )
        last = pending[-1][0]
        values = _mean(fetched)
        elapsed = time.perf_counter() - window_start
        values["tokens_per_s"] = window_tokens / max(elapsed, 1e-9)
        values["steps_per_s"] = len(pending) / max(elapsed, 1e-9)
        writer.write(last, "train", values)
        writer.advance(last, {"loss": values["loss"], "tok/s": values["tokens_per_s"]})
        train_loss = values["loss"]
        pending.clear()
        window_start, window_tokens = time.perf_counter(), 0

    def save() -> None:
        meta = {
            "step": step,
            "position": dataclasses.asdict(batches.position),
            "rng": jax.device_get(jax.random.key_data(base_key)).tolist(),
            "config": ckpt.config_json(config),
            "build": build_path,
        }
        store.save(step, state, meta)

    preempted, checked = False, False
    try:
        with _Preemption() as preemption:
            while step < tc.steps:
                host_batch = next(batches)
                if not checked:
                    check_tokens_fit(config.model, host_batch, data_label)
                    checked = True
                window_tokens += int(
                    np.size(host_batch.get("tokens", host_batch[next(iter(host_batch))]))
                )
                state, metrics = train_fn(state, to_device(host_batch, mesh), train_rng)
                step += 1
                pending.append((step, metrics))
                final = step == tc.steps or preemption.requested
                saving = final or (tc.save_every and step % tc.save_every == 0)
                evaluating = final or (tc.eval_every and step % tc.eval_every == 0)
                if saving or evaluating or step % tc.log_every == 0:
                    check_and_log()  # before any save: a NaN state is never written
                if evaluating and len(records[1]):
                    eval_loss = _evaluate(state, eval_fn, records[1], config, mesh, eval_rng)
                    writer.write(step, "eval", eval_loss)
                    eval_loss = eval_loss["loss"]
                if sample_fn is not None and tc.sample_every and step % tc.sample_every == 0:
                    sample_fn(nnx.merge(graphdef, state.params, state.rest), config, step, workdir)
                if preemption.requested and not saving:  # the signal came during this step
                    check_and_log()
                    saving = True
                if saving:
                    save()
                if preemption.requested:
                    preempted = True
                    break
            check_and_log()
    finally:
        store.close()
        writer.close()
    return TrainResult(step, train_loss, eval_loss, source, preempted)


def _evaluate(state, eval_fn, records, config, mesh, rng) -> dict[str, float]:
    """Mean metrics over the validation batches (``train.eval_batches`` of them, 0: all)."""
    tc = config.train
    out = [
        eval_fn(state, to_device(batch, mesh), rng)
        for batch in eval_batches(
            records,
            tc.batch_size,
            config.data,
            tc.eval_batches,
            jax.process_index(),
            jax.process_count(),
        )  # fmt: skip
    ]
    return _mean(jax.device_get(out))
