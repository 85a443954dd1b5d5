"""Run configuration: nested frozen dataclasses, read from ``configs/NAME.py``, overridable.

A config file defines ``get_config() -> Config``. On the command line any leaf can be replaced
with ``--config.train.lr=3e-4`` (big_vision / ml_collections style); values are parsed as Python
literals where they can be and converted to the field's declared type, so
``--config.train.steps=10`` gives an int and ``--config.data.data_dir=out/tok`` a string.

``Config.model`` and ``Config.mesh`` hold whatever frozen dataclasses the model and the sharding
code define (``ModelConfig``, ``MeshConfig``): this module only needs them to be dataclasses, so
the refiner can reuse the same machinery with its own model config. ``config_to_dict`` records
each dataclass's import path so ``config_from_dict`` can rebuild the exact types from a
checkpoint's JSON.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import types
import typing
from pathlib import Path
from typing import Any, Literal

_TYPE_KEY = "__dataclass__"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation and bookkeeping of one training run.

    The compute dtype is the model's (``ModelConfig.dtype``, e.g.
    ``--config.model.dtype=bfloat16``): one place, so a checkpoint's config says how its model
    computes.

    Attributes:
        steps: total optimiser steps.
        batch_size: global batch size (split over the mesh's data and fsdp axes).
        lr: peak learning rate, reached after ``warmup_steps`` (linear warm-up from 0).
        end_lr_factor: the cosine decay ends at ``lr * end_lr_factor`` at ``steps``.
        weight_decay: AdamW decoupled weight decay.
        b1, b2: Adam moments' decay rates.
        clip_norm: gradient clipping by global norm (0 disables it).
        log_every: steps between train-metric records (JSONL, TensorBoard, progress bar).
        eval_every: steps between validation-loss evaluations (0: only at the end).
        eval_batches: validation batches per evaluation (0: the whole validation split).
        save_every: steps between checkpoints (a checkpoint is also written at the end).
        keep_checkpoints: how many of the latest checkpoints stay on disk.
        sample_every: steps between sample dumps through the loop's ``sample_fn`` (0: never).
    """

    steps: int = 1000
    batch_size: int = 16
    lr: float = 3e-4
    warmup_steps: int = 100
    end_lr_factor: float = 0.1
    weight_decay: float = 0.01
    b1: float = 0.9
    b2: float = 0.95
    clip_norm: float = 1.0
    log_every: int = 10
    eval_every: int = 200
    eval_batches: int = 8
    save_every: int = 200
    keep_checkpoints: int = 3
    sample_every: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "eval_every", "eval_batches", "save_every", "sample_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"train.{name} must be >= 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the training batches come from (a tokenized data set, see ``v2a_jax.train.data``).

    Attributes:
        data_dir: folder holding the built ``tokenized`` data set.
        name: ``builder`` or ``builder/config`` inside ``data_dir`` (as ``v2a data`` takes it).
        train_split, eval_split: split names.
        max_text_len: text embeddings are cut or zero-padded to this many tokens (with a mask).
        shuffle_seed: seeds each epoch's permutation (epoch e uses ``[shuffle_seed, e]``).
        keys: record fields stacked into a batch besides ``text_emb`` (always included).
        crop_frames: train on random windows of this many token frames (0: whole clips); every
            time-axis field is cut to the same time span (frames at the video rate). Validation
            always uses whole clips.
        onset_weight: ``w`` > 0 weighs each training token frame ``1 + w * onset strength``
            (the rise of the audio's energy there, ``v2a_jax.train.onset_weight``) in the loss;
            validation stays unweighted.
        frame_rate: token frames per second of the tokenized data (for ``onset_weight``).
    """

    data_dir: str = "data/tokenized"
    name: str = "tokenized"
    train_split: str = "train"
    eval_split: str = "validation"
    max_text_len: int = 32
    shuffle_seed: int = 0
    keys: tuple[str, ...] = ("tokens", "frames")
    crop_frames: int = 0
    onset_weight: float = 0.0
    frame_rate: float = 50.0

    def __post_init__(self):
        if self.onset_weight < 0:
            raise ValueError(f"data.onset_weight must be >= 0, got {self.onset_weight}")


@dataclasses.dataclass(frozen=True)
class Config:
    """One run: model, training, data, device mesh and the seed of everything random.

    Attributes:
        model: the model's frozen dataclass config (``v2a_jax.models.ModelConfig`` for the AR LM).
        train: optimisation and bookkeeping.
        data: the data set.
        mesh: the device mesh (``v2a_jax.sharding.MeshConfig``); None runs on one device.
        seed: parameter init and the per-step RNG (``fold_in(key(seed), step)``).
    """

    model: Any
    train: TrainConfig = TrainConfig()
    data: DataConfig = DataConfig()
    mesh: Any = None
    seed: int = 0


def load_config(path: str | Path, overrides: typing.Sequence[str] = ()) -> Config:
    """Reads ``get_config()`` from the Python file ``path`` and applies ``overrides``.

    Args:
        path: a config file such as ``configs/small.py``.
        overrides: ``--config.a.b=value`` strings (the ``--config.`` prefix may be left out).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file has no ``get_config`` returning a ``Config``, or an override names an
            unknown key or gives a value of the wrong type.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} not found (expected configs/NAME.py)")
    spec = importlib.util.spec_from_file_location(f"_v2a_config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ValueError(f"config file {path} defines no get_config()")
    config = module.get_config()
    if not isinstance(config, Config):
        raise ValueError(f"{path}: get_config() returned {type(config).__name__}, not Config")
    return apply_overrides(config, overrides)


def apply_overrides(config: Any, overrides: typing.Sequence[str]) -> Any:
    """Returns ``config`` with each ``[--config.]a.b=value`` override applied in order."""
    for item in overrides:
        text = item.removeprefix("--").removeprefix("config.")
        key, sep, raw = text.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form --config.a.b=value")
        config = _replace_path(config, key.split("."), raw, key)
    return config


def _replace_path(node: Any, parts: list[str], raw: str, full_key: str) -> Any:
    if not dataclasses.is_dataclass(node):
        raise ValueError(f"unknown config key {full_key!r}: {type(node).__name__} has no fields")
    names = [f.name for f in dataclasses.fields(node)]
    name = parts[0]
    if name not in names:
        where = full_key[: -len(".".join(parts))].rstrip(".") or "the config"
        raise ValueError(f"unknown config key {full_key!r}: valid keys of {where} are {names}")
    if len(parts) > 1:
        value = _replace_path(getattr(node, name), parts[1:], raw, full_key)
    else:
        hint = typing.get_type_hints(type(node))[name]
        value = _convert(raw, hint, full_key)
    try:
        return dataclasses.replace(node, **{name: value})
    except (ValueError, TypeError) as err:  # the dataclass's own validation
        raise ValueError(f"config key {full_key!r}={raw!r}: {err}") from None


def _literal(raw: str) -> Any:
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if raw.lower() in ("none", "null"):
            return None
        return raw


def _convert(raw: str, hint: Any, key: str) -> Any:
    """Parses ``raw`` and checks it against the type hint ``hint`` of the field ``key``."""
    value = _literal(raw)
    try:
        return _coerce(value, hint, raw)
    except TypeError as err:
        raise ValueError(f"config key {key!r}: {err}") from None


def _coerce(value: Any, hint: Any, raw: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, raw)
            except TypeError:
                pass
        raise TypeError(f"{raw!r} is none of {hint}")
    if origin is Literal:
        if value in args or raw in args:
            return value if value in args else raw
        raise TypeError(f"{raw!r} is not one of {list(args)}")
    if origin is tuple:
        if isinstance(value, str):
            value = tuple(v for v in value.split(",") if v)
        if not isinstance(value, (tuple, list)):
            value = (value,)
        elem = args[0] if args else Any
        return tuple(_coerce(v, elem, str(v)) for v in value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise TypeError(f"{raw!r} is not a bool (true/false)")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError(f"{raw!r} is not an int")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise TypeError(f"{raw!r} is not a number")
    if hint is str:
        return raw
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise TypeError(f"{raw!r} cannot be converted to {hint}")


def config_to_dict(value: Any) -> Any:
    """A JSON-able form of a (nested) dataclass config that records each dataclass's type."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {_TYPE_KEY: f"{type(value).__module__}:{type(value).__qualname__}"}
        for field in dataclasses.fields(value):
            out[field.name] = config_to_dict(getattr(value, field.name))
        return out
    if isinstance(value, (tuple, list)):
        return [config_to_dict(v) for v in value]
    if isinstance(value, dict):
        return {k: config_to_dict(v) for k, v in value.items()}
    return value


def config_from_dict(data: Any) -> Any:
    """Inverse of ``config_to_dict``: imports each recorded dataclass and rebuilds it.

    Raises:
        ValueError: a recorded type cannot be imported or is not a dataclass, or its fields differ.
    """
    if isinstance(data, dict) and _TYPE_KEY in data:
        module_name, _, qualname = data[_TYPE_KEY].partition(":")
        try:
            cls: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                cls = getattr(cls, part)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"config type {data[_TYPE_KEY]} cannot be imported: {err}") from None
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"config type {data[_TYPE_KEY]} is not a dataclass")
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for key, raw in data.items():
            if key == _TYPE_KEY:
                continue
            if key not in hints:
                raise ValueError(f"config type {data[_TYPE_KEY]} has no field {key!r}")
            value = config_from_dict(raw)
            if isinstance(value, list) and typing.get_origin(hints[key]) is tuple:
                value = tuple(value)
            kwargs[key] = value
        return cls(**kwargs)
    if isinstance(data, list):
        return [config_from_dict(v) for v in data]
    if isinstance(data, dict):
        return {k: config_from_dict(v) for k, v in data.items()}
    return data
