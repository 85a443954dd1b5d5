"""SceneConfig: the size, rates and duration of a SyncScenes clip, and the odds of its content."""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class SceneConfig:
    """What to render. Every field has a default; ``validate`` names the first bad one.

    Attributes:
        height, width: frame size in pixels (>= 16).
        fps: frames per second; frame i covers [i / fps, (i + 1) / fps).
        duration_s: clip length in seconds, in [1, 10].
        sample_rate: audio rate in Hz, in [8000, 48000].
        min_objects, max_objects: the number of sounding objects is uniform in this range (1..3).
        p_ambience: chance that a clip has a visible ambience (rain, water or wind).
        p_second_ambience: chance, given one, of a second different ambience on top.
        p_prompt_layer: chance of each prompt-only layer (music, hum), independently.
    """

    height: int = 64
    width: int = 64
    fps: float = 25.0
    duration_s: float = 4.0
    sample_rate: int = 16000
    min_objects: int = 1
    max_objects: int = 3
    p_ambience: float = 0.6
    p_second_ambience: float = 0.2
    p_prompt_layer: float = 0.35

    def validate(self) -> None:
        """Raises ValueError naming the first field outside its range."""
        checks = [
            ("duration_s", 1.0 <= self.duration_s <= 10.0, "in [1, 10] seconds"),
            ("height", 16 <= self.height <= 1024, "an integer in [16, 1024] pixels"),
            ("width", 16 <= self.width <= 1024, "an integer in [16, 1024] pixels"),
            ("fps", 1.0 <= self.fps <= 120.0, "in [1, 120] frames per second"),
            ("sample_rate", 8000 <= self.sample_rate <= 48000, "an integer in [8000, 48000] Hz"),
            ("min_objects", 1 <= self.min_objects <= 3, "an integer in [1, 3]"),
            ("max_objects", self.min_objects <= self.max_objects <= 3, "in [min_objects, 3]"),
        ]
        for name in ("height", "width", "sample_rate", "min_objects", "max_objects"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"SceneConfig.{name}={value!r}: expected an integer")
        for name in ("fps", "duration_s"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"SceneConfig.{name}={getattr(self, name)!r}: expected finite")
        for name in ("p_ambience", "p_second_ambience", "p_prompt_layer"):
            checks.append((name, 0.0 <= getattr(self, name) <= 1.0, "a probability in [0, 1]"))
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"SceneConfig.{name}={getattr(self, name)!r}: expected {expected}")

    @property
    def num_frames(self) -> int:
        return round(self.duration_s * self.fps)

    @property
    def num_samples(self) -> int:
        return round(self.duration_s * self.sample_rate)
