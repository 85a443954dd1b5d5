"""Atomic writes: a file appears whole at its final path or not at all.

Every writer in the project (wav, mp4, json reports, checkpoints' side files) writes through
``atomic_path``, so an interrupted run never leaves a half-written file where a finished one is
expected, and an existing file is only ever replaced by a complete one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _current_umask() -> int:
    # os.umask can only be read by setting it; done once at import, not per write, because the
    # umask is process-wide and another thread could create a file while it is briefly 0.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside ``path``; moves it onto ``path`` when the block succeeds.

    The temporary file is in the same directory (so ``os.replace`` is an atomic rename on the same
    file system) and has the same suffix (so writers that pick a format from the extension, such
    as FFmpeg's muxers and soundfile, behave as they would on ``path``). It exists, empty, when
    the block starts. On any exception it is removed and ``path`` is left as it was.

    Example:
        with atomic_path("out/report.json") as tmp:
            tmp.write_text(text)
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        # mkstemp makes the file 0600; a finished file gets the mode any other new file would get.
        os.chmod(tmp, 0o666 & ~_UMASK)
        yield tmp
        # Flush the data to disk before the rename, so a crash cannot leave a renamed but empty
        # file behind (the rename may reach the disk before the data otherwise).
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: str | Path, obj) -> None:
    """Writes ``obj`` as indented JSON (one space, a final newline) to ``path``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1) + "\n")
