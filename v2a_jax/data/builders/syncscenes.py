"""The ``syncscenes`` TFDS builder: SyncScenes clips rendered from seeds into ArrayRecord files.

Each split is a range of seeds (``v2a_jax.data.splits``); a record holds the shared clip features
(``v2a_jax.data.features``) plus the clip's stems, so evaluation can measure what a negative prompt
removed:

    stems   float16 [L, S]   one waveform per layer in ``LAYER_NAMES`` order; zeros where absent

The config's name is derived from its parameters, so two builds with different parameters land in
different folders under ``data_dir/syncscenes/`` instead of one silently reusing the other.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import tensorflow_datasets as tfds

from v2a_jax.data import features, splits
from v2a_jax.data.syncscenes import LAYER_NAMES, SceneConfig, render_clip


@dataclasses.dataclass
class SyncScenesConfig(tfds.core.BuilderConfig):
    """What to render: the scene parameters and how many clips each split gets.

    Attributes:
        test_seeds: ``(A, B)`` renders seeds ``[A, B)`` as the test split instead of the first
            ``num_test`` seeds of the test range (``num_test`` is then ignored).
    """

    height: int = 64
    width: int = 64
    fps: float = 25.0
    duration_s: float = 4.0
    sample_rate: int = 16000
    num_train: int = 1000
    num_validation: int = 100
    num_test: int = 100
    test_seeds: tuple[int, int] | None = None

    def scene_config(self) -> SceneConfig:
        return SceneConfig(
            height=self.height,
            width=self.width,
            fps=self.fps,
            duration_s=self.duration_s,
            sample_rate=self.sample_rate,
        )

    def seeds(self) -> dict[str, range]:
        """The seeds of every split, checked against the split ranges."""
        out = {
            "train": splits.split_seeds("train", self.num_train),
            "validation": splits.split_seeds("validation", self.num_validation),
        }
        if self.test_seeds is None:
            out["test"] = splits.split_seeds("test", self.num_test)
        else:
            a, b = self.test_seeds
            out["test"] = range(a, b)
            for seed in (a, b - 1):
                if splits.split_of_seed(seed) != "test":
                    test_range = splits.SPLIT_SEED_RANGES["test"]
                    raise ValueError(f"test seeds {a}:{b} leave the test range {test_range}")
        return out


def make_config(**params) -> SyncScenesConfig:
    """A config whose name encodes its parameters (validated by rendering's own checks)."""
    probe = SyncScenesConfig(name="probe", **params)
    probe.scene_config().validate()
    probe.seeds()
    test = (
        f"t{probe.test_seeds[0]}-{probe.test_seeds[1]}"
        if probe.test_seeds
        else f"t{probe.num_test}"
    )
    name = (
        f"{probe.height}x{probe.width}_{probe.fps:g}fps_{probe.duration_s:g}s_{probe.sample_rate}hz"
        f"_n{probe.num_train}-{probe.num_validation}-{test}"
    )
    return dataclasses.replace(probe, name=name.replace(".", "p"))


class SyncScenes(tfds.core.GeneratorBasedBuilder):
    """SyncScenes: procedural clips with exact event times, ambiences and prompt-only layers."""

    name = "syncscenes"
    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "First release.",
        "2.0.0": "Any two events of a clip are at least 250 ms apart (1.0.0: 60 ms, between "
        "objects only), so onset F1 sees a 200 ms sync error; 1.68 instead of 2.49 events/s on "
        "200 test clips (experiments/syncbench_baselines.py).",
    }
    BUILDER_CONFIGS: list[SyncScenesConfig] = []

    def _info(self) -> tfds.core.DatasetInfo:
        cfg: SyncScenesConfig = self.builder_config
        params = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(SyncScenesConfig)}
        params = {k: v for k, v in params.items() if k not in ("release_notes", "tags")}
        params["layer_names"] = list(LAYER_NAMES)
        return self.dataset_info_from_configs(
            description=__doc__,
            features=features.clip_features(
                cfg.height,
                cfg.width,
                stems=tfds.features.Tensor(
                    shape=(len(LAYER_NAMES), None),
                    dtype=np.float16,
                    encoding=tfds.features.Encoding.ZLIB,
                ),
            ),
            metadata=tfds.core.MetadataDict(params=json.loads(json.dumps(params))),
            disable_shuffling=True,  # record i of a split is the split's i-th seed
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download: every clip is rendered from its seed.
        seeds = self.builder_config.seeds()
        if not any(len(seeds[s]) for s in splits.SPLITS):
            raise ValueError("a SyncScenes build needs at least one clip in some split")
        # TFDS cannot write an empty split: a split asked for with 0 clips is left out.
        return {s: self._generate_examples(seeds[s]) for s in splits.SPLITS if len(seeds[s])}

    def _generate_examples(self, seeds: range):
        scene = self.builder_config.scene_config()
        for seed in seeds:
            clip = render_clip(seed, scene)
            yield (
                clip.clip_id,
                {
                    "clip_id": clip.clip_id,
                    "frames": clip.frames,
                    "fps": scene.fps,
                    "audio": clip.audio,
                    "sample_rate": scene.sample_rate,
                    "caption": clip.annotation["captions"][0],
                    "negative_prompt": "",
                    "annotation": json.dumps(clip.annotation),
                    "stems": clip.stems.astype(np.float16),
                },
            )


def build_syncscenes(data_dir: str, **params) -> tfds.core.DatasetBuilder:
    """Renders SyncScenes into ``data_dir`` (ArrayRecord) and returns the prepared builder."""
    builder = SyncScenes(
        data_dir=data_dir, config=make_config(**params), file_format="array_record"
    )
    builder.download_and_prepare()
    return builder
