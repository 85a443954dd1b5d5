"""SceneConfig: the size, rate and duration of a SyncScenes clip, and its content odds."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class SceneConfig:
    height: int = 64
    width: int = 64
    fps: float = 25.0
    duration_s: float = 4.0
    sample_rate: int = 16000
    min_objects: int = 1
    max_objects: int = 3
    p_ambience: float = 0.5  # chance of each clip having one visible ambience
    p_second_ambience: float = 0.15  # chance of a second one on top
    p_prompt_layer: float = 0.5  # chance of each prompt-only layer (music, hum), independently

    def validate(self) -> None:
        """Raises ValueError naming the first field outside its range."""
        checks = [
            ("duration_s", 1.0 <= self.duration_s <= 10.0, "in [1, 10] seconds"),
            ("height", self.height >= 16, ">= 16 pixels"),
            ("width", self.width >= 16, ">= 16 pixels"),
            ("fps", 1.0 <= self.fps <= 120.0, "in [1, 120]"),
            ("sample_rate", 8000 <= self.sample_rate <= 48000, "in [8000, 48000] Hz"),
            ("min_objects", 1 <= self.min_objects <= self.max_objects, "in [1, max_objects]"),
            ("max_objects", self.max_objects <= 3, "<= 3"),
        ]
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
