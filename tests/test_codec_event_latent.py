"""experiments/codec_event_latent.py: how much a material's events move a codec's latent."""

import numpy as np
from experiment_scripts import load_experiment

from v2a_jax.codec import Codec
from v2a_jax.data.syncscenes import SceneConfig, render_clip


def test_each_beep_of_a_clip_gets_a_row_with_its_latent_change_and_its_magnitudes():
    cel = load_experiment("codec_event_latent")
    clip = render_clip(1100002, SceneConfig())  # 4 square beeps at 1490 Hz
    rows = cel.event_rows(Codec.from_pretrained("default"), clip, "beep", 0.2)
    beeps = [e for e in clip.annotation["events"] if e["material"] == "beep"]
    assert [r["time_s"] for r in rows] == [e["time_s"] for e in beeps] and len(rows) == 4
    for r in rows:
        assert r["latent_moved"] > 0 and r["median_frame_step"] > 0
        assert abs(r["bin_hz"] - 1490) <= 25  # the beep's bin, 25 Hz wide
        # the beep stands far above the frame's median in the real audio
        assert r["real_log_mag"] > r["real_median_log_mag"] + 5
        assert np.isfinite(r["pred_log_mag"])
    # nothing of another material is cut: no rows
    assert cel.event_rows(Codec.from_pretrained("default"), clip, "wood", 0.2) == []
