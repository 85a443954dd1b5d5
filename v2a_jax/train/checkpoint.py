"""Checkpoints: orbax ``CheckpointManager`` for training, params-only exports for sampling.

A training workdir holds ``checkpoints/<step>/`` with two items: ``state`` (the ``TrainState``:
step, params, optimiser state, other variables) and ``meta`` (JSON: step, data position, the run's
base RNG key, the config with its types, and the import path of the model's build function). Orbax
writes each step to a temporary folder and renames it when complete, so a run killed at any moment
leaves only whole checkpoints; the latest ``keep_checkpoints`` are kept.

The resume order (big_vision) is written once, in ``v2a_jax.train.loop.restore_or_init``.

``export_params(workdir, out_dir)`` writes ``out_dir/params`` (params and other variables only)
and ``out_dir/config.json``; ``load_model(path)`` rebuilds the model from either that export or a
training workdir.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from flax import nnx

from v2a_jax.config import config_from_dict, config_to_dict
from v2a_jax.io.atomic import atomic_path

CHECKPOINTS = "checkpoints"


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt or does not match the model; names the path."""


def _is_key(x: Any) -> bool:
    return hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _saveable(tree: Any) -> Any:
    """Typed PRNG keys as their uint32 data (orbax stores plain arrays only)."""
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, tree)


def _abstract_saveable(tree: Any) -> Any:
    def leaf(x):
        if _is_key(x):
            x = jax.eval_shape(jax.random.key_data, x)
        return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None))

    return jax.tree.map(leaf, tree)


def _unsaveable(restored: Any, like: Any) -> Any:
    return jax.tree.map(
        lambda r, x: jax.random.wrap_key_data(r) if _is_key(x) else r, restored, like
    )


def import_callable(path: str) -> Callable:
    """The object named ``module:qualname``."""
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def callable_path(fn: Callable) -> str:
    """``module:qualname`` of a module-level function (so a checkpoint can name its builder)."""
    return f"{fn.__module__}:{fn.__qualname__}"


class CheckpointStore:
    """The workdir's checkpoint manager: save every so often, keep the last N, restore any."""

    def __init__(self, workdir: str | Path, keep: int, read_only: bool = False):
        self.directory = Path(workdir).absolute() / CHECKPOINTS
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=not read_only, read_only=read_only
        )
        self.manager = ocp.CheckpointManager(
            self.directory, options=options, item_names=("state", "meta")
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def all_steps(self) -> list[int]:
        return list(self.manager.all_steps())

    def save(self, step: int, state: Any, meta: dict[str, Any]) -> None:
        """Starts writing checkpoint ``step`` (asynchronously after the device-to-host copy)."""
        args = ocp.args.Composite(
            state=ocp.args.StandardSave(_saveable(state)), meta=ocp.args.JsonSave(meta)
        )
        self.manager.save(step, args=args, force=True)

    def wait(self) -> None:
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def _locate(path: str | Path) -> tuple[Path, int]:
    """``(checkpoints folder, step)`` for a step folder, a checkpoints folder or a workdir."""
    path = Path(path).absolute()
    if (path / "state").is_dir() and (path / "meta").is_dir() and path.name.isdigit():
        return path.parent, int(path.name)
    root = path / CHECKPOINTS if (path / CHECKPOINTS).is_dir() else path
    steps = sorted(int(p.name) for p in root.glob("*") if p.name.isdigit() and p.is_dir())
    if not steps:
        raise CheckpointError(
            f"no checkpoint at {path}: expected a workdir with checkpoints/<step>/, a checkpoints "
            "folder, or a step folder holding state/ and meta/"
        )
    return root, steps[-1]


def read_meta(path: str | Path) -> dict[str, Any]:
    """The ``meta`` JSON of the checkpoint at ``path`` (a workdir, checkpoints or step folder)."""
    root, step = _locate(path)
    file = root / str(step) / "meta" / "metadata"
    try:
        return json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(
            f"checkpoint {root / str(step)} has no readable meta: {err}"
        ) from None


def restore_checkpoint(path: str | Path, like_state: Any) -> tuple[Any, dict[str, Any]]:
    """Restores the full train state (laid out like ``like_state``) and meta from ``path``.

    Args:
        path: a workdir, its checkpoints folder, or one step folder.
        like_state: a state (concrete or abstract, with shardings) of the model being trained.

    Raises:
        CheckpointError: nothing there, or the checkpoint is corrupt or from another model.
    """
    root, step = _locate(path)
    meta = read_meta(root / str(step))
    target = _abstract_saveable(like_state)
    try:
        manager = ocp.CheckpointManager(
            root,
            options=ocp.CheckpointManagerOptions(read_only=True),
            item_names=("state", "meta"),
        )
        restored = manager.restore(
            step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
        ).state
        manager.close()
    except Exception as err:  # orbax raises many kinds; every one means this path is unusable
        raise CheckpointError(
            f"checkpoint {root / str(step)} cannot be restored into this model "
            f"(corrupt, or saved from a different model/optimiser config): {err}"
        ) from err
    return _unsaveable(restored, like_state), meta


def _restore_variables(path: Path, like: Any) -> Any:
    """Restores ``{"params", "rest"}`` saved by ``export_params`` into the layout of ``like``."""
    try:
        restored = ocp.StandardCheckpointer().restore(path, _abstract_saveable(like))
    except Exception as err:
        raise CheckpointError(
            f"exported params {path} cannot be restored into this model "
            f"(corrupt, or from a different model config): {err}"
        ) from err
    return _unsaveable(restored, like)


def _child(node: Any, key: Any) -> Any:
    """One step down a tree restored without a target (orbax stores every key as a string)."""
    name = getattr(key, "key", getattr(key, "name", getattr(key, "idx", None)))
    if isinstance(node, (list, tuple)):
        return node[int(name)]
    return node[name] if name in node else node[str(name)]


def restore_params(path: str | Path, params: Any, rest: Any) -> tuple[Any, Any]:
    """``(params, rest)`` from an export folder or a training checkpoint (for ``--init-from``)."""
    path = Path(path).absolute()
    if (path / "params").is_dir() and (path / "config.json").is_file():
        out = _restore_variables(path / "params", {"params": params, "rest": rest})
        return out["params"], out["rest"]
    root, step = _locate(path)
    try:
        manager = ocp.CheckpointManager(
            root, options=ocp.CheckpointManagerOptions(read_only=True), item_names=("state",)
        )
        # No target: read the stored tree as it is, then keep the model's part of it.
        raw = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore())).state
        manager.close()
        like = {"params": params, "rest": rest}
        flat = jax.tree_util.tree_flatten_with_path(_abstract_saveable(like))[0]
        values = []
        for key_path, spec in flat:
            node = raw
            for key in key_path:
                node = _child(node, key)
            if tuple(node.shape) != tuple(spec.shape):
                raise ValueError(f"{jax.tree_util.keystr(key_path)}: {node.shape} != {spec.shape}")
            values.append(jax.device_put(jnp.asarray(node, spec.dtype), spec.sharding))
        out = jax.tree.unflatten(jax.tree.structure(_abstract_saveable(like)), values)
    except CheckpointError:
        raise
    except Exception as err:
        raise CheckpointError(
            f"checkpoint {root / str(step)} has no params matching this model: {err!r}"
        ) from err
    out = _unsaveable(out, like)
    return out["params"], out["rest"]


def export_params(
    workdir: str | Path,
    out_dir: str | Path,
    step: int | None = None,
    storage_dtype: str | None = None,
) -> Path:
    """Writes the params (and other model variables) of a training checkpoint for sampling.

    Args:
        workdir: a training workdir (or checkpoints/step folder, as ``restore_checkpoint``).
        out_dir: gets ``params/`` (orbax) and ``config.json`` (config, build function, step).
        step: which checkpoint (default: the latest).
        storage_dtype: store floating-point arrays in this dtype (``"bfloat16"`` halves a
            shipped checkpoint); loading casts them back to the model's param dtype.

    Returns:
        ``out_dir``.
    """
    root, latest = _locate(workdir)
    step = latest if step is None else step
    meta = read_meta(root / str(step))
    model, config = _build_from_meta(meta, root / str(step))
    _, params, rest = nnx.split(model, nnx.Param, ...)
    params, rest = restore_params(root / str(step), params, rest)
    out = Path(out_dir).absolute()
    out.mkdir(parents=True, exist_ok=True)
    tree = _saveable({"params": params, "rest": rest})
    if storage_dtype is not None:
        dtype = jnp.dtype(storage_dtype)
        tree = jax.tree.map(
            lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree
        )
    ckptr = ocp.StandardCheckpointer()
    ckptr.save(out / "params", tree, force=True)
    ckptr.wait_until_finished()
    card = {"config": meta["config"], "build": meta["build"], "step": step}
    if storage_dtype is not None:
        card["storage_dtype"] = str(jnp.dtype(storage_dtype))
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2))
    return out


def _build_from_meta(
    meta: dict[str, Any], where: Path, dtype: str | None = None
) -> tuple[nnx.Module, Any]:
    try:
        config = config_from_dict(meta["config"])
        build = import_callable(meta["build"])
    except (KeyError, ValueError, ImportError, AttributeError) as err:
        raise CheckpointError(f"{where}: config or build function unusable: {err!r}") from err
    if dtype is not None:
        config = with_model_dtype(config, dtype)
    model = nnx.eval_shape(lambda: build(config, nnx.Rngs(config.seed)))
    return model, config


def with_model_dtype(config: Any, dtype: str) -> Any:
    """``config`` with its model's compute and parameter dtypes set to ``dtype``.

    Raises:
        ValueError: the model config has no dtypes, or ``dtype`` is not one it accepts.
    """
    model = config.model
    if not all(hasattr(model, name) for name in ("dtype", "param_dtype")):
        raise ValueError(f"{type(model).__name__} has no dtype/param_dtype to set to {dtype!r}")
    model = dataclasses.replace(model, dtype=str(dtype), param_dtype=str(dtype))
    return dataclasses.replace(config, model=model)


def load_model(path: str | Path, dtype: str | None = None) -> tuple[nnx.Module, Any]:
    """The trained model and its ``Config`` from an ``export_params`` folder or a training workdir.

    Args:
        path: the folder.
        dtype: run the model in this dtype instead of the saved config's (compute and
            parameters, e.g. ``"bfloat16"``: the weights are cast on loading; products still
            accumulate in float32, see ``v2a_jax.layers.dot``); None keeps the saved one.

    Raises:
        CheckpointError: nothing loadable at ``path`` (the message names it).
        ValueError: a ``dtype`` the model config does not accept.
    """
    path = Path(path).absolute()
    if (path / "params").is_dir() and (path / "config.json").is_file():
        try:
            meta = json.loads((path / "config.json").read_text())
        except json.JSONDecodeError as err:
            raise CheckpointError(f"{path / 'config.json'} is not valid JSON: {err}") from None
    else:
        meta = read_meta(path)
    abstract, config = _build_from_meta(meta, path, dtype)
    graphdef, params, rest = nnx.split(abstract, nnx.Param, ...)
    params, rest = restore_params(path, params, rest)
    return nnx.merge(graphdef, params, rest), config


def config_json(config: Any) -> dict[str, Any]:
    """The config as stored in checkpoints (types recorded; see ``v2a_jax.config``)."""
    return config_to_dict(config)


def model_config_differences(saved: dict[str, Any], config: Any) -> list[str]:
    """Keys of the model config that differ between a checkpoint's JSON and ``config``."""
    now = config_to_dict(config)["model"]
    old = saved.get("model", {})
    keys = sorted(set(now) | set(old))
    return [k for k in keys if now.get(k) != old.get(k)]


__all__ = [
    "CheckpointError",
    "CheckpointStore",
    "config_json",
    "export_params",
    "load_model",
    "read_meta",
    "restore_checkpoint",
    "restore_params",
    "with_model_dtype",
]
