"""Official EnCodec checkpoints: where they live on disk and how to load them without a network.

``encodec`` itself downloads through ``torch.hub.load_state_dict_from_url``, which caches the
file as ``torch.hub.get_dir()/checkpoints/<file name>``. This module looks only at a path the
caller gives or at that cache; it never downloads.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# File names as encodec.model.EncodecModel.encodec_model_{24,48}khz spell them; the part after
# the dash is a sha256 prefix of the file.
OFFICIAL_CHECKPOINTS = {
    "encodec_24khz": "encodec_24khz-d7cc33bc.th",
    "encodec_48khz": "encodec_48khz-7e698e3e.th",
}
# Where encodec downloads from (printed in errors so a user can fetch the file by hand).
OFFICIAL_ROOT_URL = "https://dl.fbaipublicfiles.com/encodec/v0/"
DEFAULT_BANDWIDTH = {"encodec_24khz": 6.0, "encodec_48khz": 6.0}


def candidate_paths(name: str, path: str | os.PathLike | None, hub_dir: str | os.PathLike | None):
    """The files to try, in order, for an official checkpoint.

    Args:
        name: ``encodec_24khz`` or ``encodec_48khz``.
        path: a checkpoint file, or a folder holding the official file name.
        hub_dir: a torch hub directory (the file is under its ``checkpoints/``).

    Returns:
        list of ``Path``. With ``path`` or ``hub_dir`` given, only those are searched, so an
        explicit location never silently falls back to a different file.
    """
    file_name = official_file_name(name)
    places = []
    if path is not None:
        path = Path(path).expanduser()
        places.append(path / file_name if path.is_dir() else path)
    if hub_dir is not None:
        places.append(Path(hub_dir).expanduser() / "checkpoints" / file_name)
    if not places:
        import torch

        places.append(Path(torch.hub.get_dir()) / "checkpoints" / file_name)
    return places


def official_file_name(name: str) -> str:
    if name not in OFFICIAL_CHECKPOINTS:
        raise ValueError(
            f"unknown official codec {name!r}; choose one of {list(OFFICIAL_CHECKPOINTS)}"
        )
    return OFFICIAL_CHECKPOINTS[name]


def find_official_checkpoint(name: str, path=None, hub_dir=None) -> Path:
    """Returns the first existing candidate file, else raises ``FileNotFoundError``.

    The error lists every place looked at and how to obtain the file (no download here).
    """
    places = candidate_paths(name, path, hub_dir)
    for place in places:
        if place.is_file():
            return place
    file_name = official_file_name(name)
    raise FileNotFoundError(
        f"official {name} weights not found; looked at:\n"
        + "\n".join(f"  - {p}" for p in places)
        + f"\nv2a_jax never downloads. Fetch {OFFICIAL_ROOT_URL}{file_name} yourself and pass "
        "path=<file or folder>, or put it in <torch hub dir>/checkpoints/ (torch.hub.get_dir(), "
        "set by TORCH_HOME)."
    )


def check_sha256_prefix(file: Path) -> None:
    """Verifies the sha256 prefix encoded in an official file name (``name-<prefix>.th``)."""
    expected = file.stem.split("-")[-1]
    sha = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    if not sha.hexdigest().startswith(expected):
        raise ValueError(
            f"checksum mismatch for {file}: sha256 starts with {sha.hexdigest()[: len(expected)]}, "
            f"the file name promises {expected}"
        )


def load_official_model(name: str, path=None, hub_dir=None, check_hash: bool = False):
    """Builds encodec's own architecture for ``name`` and loads the official state dict.

    Args:
        name: ``encodec_24khz`` or ``encodec_48khz``.
        path: optional checkpoint file or folder.
        hub_dir: optional torch hub directory.
        check_hash: verify the sha256 prefix in the official file name (the hub cache was
            already verified when it was downloaded).

    Returns:
        ``encodec.EncodecModel`` in eval mode.
    """
    import torch

    from ._torchaudio_compat import import_encodec
    from .config import quiet_weight_norm

    encodec = import_encodec()
    file = find_official_checkpoint(name, path, hub_dir)
    if check_hash:
        check_sha256_prefix(file)
    builder = getattr(encodec.EncodecModel, f"{name.replace('encodec_', 'encodec_model_')}")
    with quiet_weight_norm():
        model = builder(pretrained=False)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as err:
        raise ValueError(f"could not load official {name} weights from {file}: {err}") from err
    model.name = name
    return model.eval()
