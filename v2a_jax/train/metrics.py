"""Training metrics: a JSONL file and TensorBoard events in the workdir, and a progress bar.

``metrics.jsonl`` holds one JSON object per record: ``{"step": s, "split": "train"|"eval"|...,
"time": unix seconds, <metric>: value, ...}``. On resume the records after the restored step are
dropped (they belong to the interrupted run's lost steps), so the file reads as one run.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from v2a_jax.io.atomic import atomic_path

METRICS_FILE = "metrics.jsonl"


def read_metrics(workdir: str | Path, split: str | None = None) -> list[dict[str, Any]]:
    """The records of ``workdir/metrics.jsonl`` (only those of ``split`` when given)."""
    path = Path(workdir) / METRICS_FILE
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if split is None or r.get("split") == split]


class MetricsWriter:
    """Appends records to the JSONL file and TensorBoard; drives the progress bar.

    Args:
        workdir: where ``metrics.jsonl`` and ``tensorboard/`` go.
        start_step: the step training resumes from (records after it are dropped).
        total_steps: the run's last step (for the bar's ETA).
        progress: show a tqdm bar (on stderr).
        active: False on every process but the first of a multi-host run (one writer per file).
    """

    def __init__(
        self,
        workdir: str | Path,
        start_step: int,
        total_steps: int,
        progress: bool,
        active: bool = True,
    ):
        self.active = active
        self.path = Path(workdir) / METRICS_FILE
        if not active:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            kept = [r for r in read_metrics(workdir) if r.get("step", 0) <= start_step]
            with atomic_path(self.path) as tmp:
                tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        self._file = open(self.path, "a")  # noqa: SIM115 (closed in close())
        from tensorboardX import SummaryWriter

        self._tb = SummaryWriter(str(Path(workdir) / "tensorboard"), purge_step=start_step or None)
        self._bar = tqdm(
            total=total_steps,
            initial=start_step,
            disable=not progress,
            unit="step",
            dynamic_ncols=True,
        )

    def write(self, step: int, split: str, values: dict[str, float]) -> None:
        """One record: JSONL line (flushed), TensorBoard scalars ``split/name``."""
        if not self.active:
            return
        clean = {k: float(v) for k, v in values.items()}
        record = {"step": int(step), "split": split, "time": time.time(), **clean}
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        for name, value in clean.items():
            if math.isfinite(value):
                self._tb.add_scalar(f"{split}/{name}", value, step)
        self._tb.flush()

    def advance(self, step: int, postfix: dict[str, float] | None = None) -> None:
        """Moves the bar to ``step`` and shows ``postfix`` (loss, tokens/s)."""
        if not self.active:
            return
        self._bar.update(step - self._bar.n)
        if postfix:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)

    def close(self) -> None:
        if not self.active:
            return
        self._bar.close()
        self._tb.close()
        self._file.close()
