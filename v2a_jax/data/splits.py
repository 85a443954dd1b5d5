"""Seed ranges of the SyncScenes splits.

Every SyncScenes clip is a pure function of its seed, so a split is a range of seeds. The ranges are
disjoint and wide enough that no realistic build overlaps the next one. The i-th clip of a split has
seed ``SPLIT_SEED_START[split] + i`` unless a build names its own seed range (``--test-seeds A:B``).
"""

from __future__ import annotations

SPLITS = ("train", "validation", "test")

# [start, stop) of each split's seeds.
SPLIT_SEED_RANGES: dict[str, tuple[int, int]] = {
    "train": (0, 1_000_000),
    "validation": (1_000_000, 1_100_000),
    "test": (1_100_000, 1_200_000),
}


def split_of_seed(seed: int) -> str:
    """Returns the split whose seed range holds ``seed``."""
    for split, (start, stop) in SPLIT_SEED_RANGES.items():
        if start <= seed < stop:
            return split
    raise ValueError(f"seed {seed} lies outside every split range {SPLIT_SEED_RANGES}")


def split_seeds(split: str, num: int, start: int | None = None) -> range:
    """The seeds of ``num`` clips of ``split``, starting at the split's first seed or at ``start``.

    Raises:
        ValueError: unknown split, negative count, or a range that leaves the split.
    """
    if split not in SPLIT_SEED_RANGES:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    if num < 0:
        raise ValueError(f"number of {split} clips must be >= 0, got {num}")
    lo, hi = SPLIT_SEED_RANGES[split]
    first = lo if start is None else start
    if not (lo <= first and first + num <= hi):
        raise ValueError(
            f"{split} seeds [{first}, {first + num}) leave the split's range [{lo}, {hi})"
        )
    return range(first, first + num)


def parse_seed_range(text: str) -> tuple[int, int]:
    """Parses ``"A:B"`` into ``(A, B)`` with ``A < B``; raises a ValueError naming the input."""
    try:
        a_str, b_str = text.split(":")
        a, b = int(a_str), int(b_str)
    except ValueError:
        raise ValueError(f"seed range {text!r}: expected 'A:B' with integers A < B") from None
    if not a < b:
        raise ValueError(f"seed range {text!r}: expected A < B")
    return a, b
