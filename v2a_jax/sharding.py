"""Device meshes and logical-axis sharding (T5X / MaxText style) for every model in v2a_jax.

Legend of logical names: batch, audio_time (token steps), video_time (frames), codebook (K),
embed (model width D), heads (H), kv (head width), mlp (hidden width), vocab (V).

Every parameter carries logical names (``out_sharding`` metadata, set in ``v2a_jax.layers.params``);
``LOGICAL_RULES`` is the one table that maps them to the mesh axes ``data``, ``fsdp``,
``tensor``. A mesh comes from ``MeshConfig`` (``-1`` = the devices left over).

Typical use from a train step::

    mesh = make_mesh(MeshConfig(data=-1, fsdp=2))
    model = create_sharded(lambda: build_model(cfg, nnx.Rngs(0)), mesh)  # never unsharded
    graphdef, state = nnx.split(model)
    step = jax.jit(train_step, in_shardings=(state_shardings(state, mesh), batch_sharding(mesh)))
    with use_mesh(mesh):  # activations get their constraints (``constrain``)
        ...
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence

import jax
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

MESH_AXES = ("data", "fsdp", "tensor")

# logical name -> mesh axis (or tuple of axes, or None = replicated). Batch is split over data
# and fsdp (FSDP is data parallel with sharded weights); weights' embed axis over fsdp; heads,
# mlp and vocab over tensor (Megatron-style).
LOGICAL_RULES: tuple[tuple[str, str | tuple[str, ...] | None], ...] = (
    ("batch", ("data", "fsdp")),
    ("audio_time", None),
    ("video_time", None),
    ("codebook", None),
    ("embed", "fsdp"),
    ("heads", "tensor"),
    ("kv", None),
    ("mlp", "tensor"),
    ("vocab", "tensor"),
)
_RULES = dict(LOGICAL_RULES)


@dataclasses.dataclass(frozen=True)
class MeshConfig:
    """Mesh shape over (data, fsdp, tensor); at most one entry may be -1 (the rest)."""

    data: int = -1
    fsdp: int = 1
    tensor: int = 1

    def shape(self, num_devices: int) -> tuple[int, int, int]:
        """The concrete (data, fsdp, tensor) shape for ``num_devices`` devices."""
        dims = (self.data, self.fsdp, self.tensor)
        if dims.count(-1) > 1 or any(d == 0 or d < -1 for d in dims):
            raise ValueError(f"mesh {dims}: each axis must be >= 1, with at most one -1")
        known = math.prod(d for d in dims if d != -1)
        if -1 in dims:
            if num_devices % known:
                raise ValueError(f"mesh {dims} does not divide {num_devices} devices")
            dims = tuple(num_devices // known if d == -1 else d for d in dims)
        if math.prod(dims) != num_devices:
            raise ValueError(f"mesh {dims} needs {math.prod(dims)} devices, have {num_devices}")
        return dims


def make_mesh(cfg: MeshConfig = MeshConfig(), devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A ``Mesh`` with axes (data, fsdp, tensor) over ``devices`` (default: all)."""
    devices = list(jax.devices() if devices is None else devices)
    shape = cfg.shape(len(devices))
    return Mesh(np.asarray(devices).reshape(shape), MESH_AXES)


def _mesh_axis_size(mesh, axes) -> int:
    if axes is None:
        return 1
    axes = (axes,) if isinstance(axes, str) else axes
    return math.prod(mesh.shape[a] for a in axes)


def _mesh_axes(names: Sequence[str | None]) -> list:
    """Mesh axes of each logical name; a mesh axis already taken by an earlier dimension is not
    reused (T5X / Flax rule semantics), e.g. activations ("batch", "audio_time", "embed") put
    fsdp on batch only."""
    used, out = set(), []
    for name in names:
        if name is None:
            out.append(None)
            continue
        if name not in _RULES:
            raise ValueError(f"unknown logical axis {name!r}; known: {sorted(_RULES)}")
        axes = _RULES[name]
        group = () if axes is None else (axes,) if isinstance(axes, str) else tuple(axes)
        if used & set(group):
            out.append(None)
            continue
        used |= set(group)
        out.append(axes)
    return out


def logical_to_spec(
    names: Sequence[str | None], shape: Sequence[int] | None = None, mesh=None
) -> PartitionSpec:
    """The PartitionSpec of logical ``names``; with ``shape`` and ``mesh``, checks divisibility.

    Raises:
        ValueError: for an unknown logical name, or a dimension the mesh axes do not divide.
    """
    spec = _mesh_axes(names)
    if shape is not None and mesh is not None:
        for i, axes in enumerate(spec):
            if shape[i] % _mesh_axis_size(mesh, axes):
                raise ValueError(
                    f"dimension {i} ({names[i]}) of size {shape[i]} is not divisible by mesh "
                    f"axes {axes} of size {_mesh_axis_size(mesh, axes)}"
                )
    return PartitionSpec(*spec)


def logical_to_sharding(
    names: Sequence[str | None], mesh: Mesh, shape: Sequence[int] | None = None
) -> NamedSharding:
    """``NamedSharding`` on ``mesh`` of logical ``names`` (divisibility checked with ``shape``)."""
    return NamedSharding(mesh, logical_to_spec(names, shape, mesh))


def _names(variable: nnx.Variable) -> tuple | None:
    return variable.get_metadata().get("out_sharding")


def _variable_spec(path, variable, mesh) -> PartitionSpec:
    names = _names(variable)
    shape = getattr(variable.get_value(), "shape", ())
    if names is None:
        return PartitionSpec()  # unannotated state (counters, rng keys): replicated
    try:
        return logical_to_spec(names, shape, mesh)
    except ValueError as err:
        raise ValueError(f"parameter {'/'.join(map(str, path))}: {err}") from None


def state_shardings(state, mesh: Mesh):
    """A pytree like ``state`` (an nnx State, or any tree of Variables) of ``NamedSharding``s.

    Annotated Variables follow ``LOGICAL_RULES``; everything else is replicated. Usable as
    ``jax.jit`` in/out shardings of the state and with ``jax.device_put``.
    """

    def one(path, x):
        if isinstance(x, nnx.Variable):
            return x.replace(NamedSharding(mesh, _variable_spec(path, x, mesh)))
        return NamedSharding(mesh, PartitionSpec())

    return jax.tree_util.tree_map_with_path(
        one, state, is_leaf=lambda x: isinstance(x, nnx.Variable)
    )


def partition_specs(state) -> dict[str, list]:
    """``{"a/b/c": [mesh axes per dim]}`` of every annotated Variable (mesh-independent)."""
    out = {}
    for path, variable in nnx.to_flat_state(state):
        names = _names(variable)
        if names is not None:
            spec = logical_to_spec(names)
            out["/".join(map(str, path))] = [list(a) if isinstance(a, tuple) else a for a in spec]
    return out


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Sharding of any batch array: leading axis over (data, fsdp), the rest replicated."""
    return NamedSharding(mesh, PartitionSpec(_RULES["batch"]))


def shard_model(model: nnx.Module, mesh: Mesh) -> nnx.Module:
    """Places an existing model's state on ``mesh`` following its logical names (in place)."""
    state = nnx.state(model)
    nnx.update(model, jax.device_put(state, state_shardings(state, mesh)))
    return model


def create_sharded(init_fn: Callable[[], nnx.Module], mesh: Mesh | None = None) -> nnx.Module:
    """Builds ``init_fn()`` in one jitted call, directly sharded on ``mesh`` (shapes from
    ``nnx.eval_shape``, placement by ``out_shardings``), so no device ever holds the full unsharded
    model. Without a mesh: on the default device (still one compile instead of one per op)."""
    abstract = nnx.eval_shape(init_fn)
    graphdef, abstract_state = nnx.split(abstract)
    shardings = None if mesh is None else state_shardings(abstract_state, mesh)

    def init():
        return nnx.state(init_fn())

    state = jax.jit(init, out_shardings=shardings)()
    return nnx.merge(graphdef, state)


@contextlib.contextmanager
def use_mesh(mesh: Mesh) -> Iterator[Mesh]:
    """``jax.set_mesh(mesh)`` plus ``LOGICAL_RULES`` as Flax's logical axis rules, so Flax's own
    readers of ``out_sharding`` (``nnx.eval_shape``, ``nnx.get_partition_spec``) translate the
    logical names too; without the rules they would take ``embed`` for a mesh axis and fail."""
    with jax.set_mesh(mesh), nnx.logical_axis_rules(LOGICAL_RULES):
        yield mesh


def constrain(x: jax.Array, names: Sequence[str | None]) -> jax.Array:
    """Sharding constraint on an activation by logical names, when a mesh is set
    (``jax.set_mesh``); a no-op without one. Axes the mesh does not divide stay unconstrained
    (an activation constraint is a hint to the partitioner, unlike a parameter's placement)."""
    mesh = jax.sharding.get_abstract_mesh()
    if mesh.empty:
        return x
    spec = [
        axes if dim % _mesh_axis_size(mesh, axes) == 0 else None
        for dim, axes in zip(x.shape, _mesh_axes(names), strict=True)
    ]
    return jax.lax.with_sharding_constraint(x, PartitionSpec(*spec))
