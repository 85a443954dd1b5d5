"""V2A.generate on a tiny random model and an untrained codec: exact durations at any frame
rate, per-seed reproducibility, guidance and refine errors, mismatched checkpoints."""

import json
import shutil
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from sampling_fixtures import tiny_checkpoint

from v2a_jax.api import V2A, ModelMismatchError
from v2a_jax.io.audio import read_wav
from v2a_jax.sampling.duration import DurationError

SR = 16000


@pytest.fixture(scope="module")
def pipe():
    return V2A.from_pretrained(tiny_checkpoint())


def _frames(n, size=(48, 80), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *size, 3), dtype=np.uint8)


# Every call below has 4 samples and a negative prompt (4 guidance branches) and is longer than
# one tiny-model window, so all of them share one compiled sampler program.
KW = dict(prompt="a metal ball bouncing", negative_prompt="rain", num_samples=4)


@pytest.mark.parametrize(
    ("num_frames", "fps"), [(45, Fraction(30000, 1001)), (40, 24.0), (90, 60.0)]
)
def test_exact_duration_at_any_frame_rate(pipe, num_frames, fps):
    out = pipe.generate(frames=_frames(num_frames), fps=float(fps), seed=3, **KW)
    duration = num_frames / float(fps)
    assert out.waveforms.shape == (4, round(duration * SR))
    assert out.tokens.shape == (4, -(-round(duration * SR) // 320), 4)
    assert out.duration_s == pytest.approx(duration)
    assert out.seeds == [3, 4, 5, 6] and out.sample_rate == SR
    assert out.settings["refined"] is False


def test_variable_frame_rate_and_duration_argument(pipe):
    ts = np.cumsum(np.r_[0.0, np.random.default_rng(1).uniform(0.02, 0.06, 59)])
    out = pipe.generate(frames=_frames(60), timestamps=ts, **KW)
    full = ts[-1] + np.median(np.diff(ts))
    assert out.waveforms.shape[1] == round(full * SR)
    short = pipe.generate(frames=_frames(60), timestamps=ts, duration=1.5, **KW)
    assert short.waveforms.shape[1] == round(1.5 * SR)
    with pytest.raises(ValueError, match="longer than the frames"):
        pipe.generate(frames=_frames(60), timestamps=ts, duration=full + 1.0, **KW)


def test_sample_i_reproducible_from_its_seed(pipe):
    frames = _frames(40, size=(64, 64))
    many = pipe.generate(frames=frames, fps=25.0, seed=10, **KW)
    assert len({many.tokens[i].tobytes() for i in range(4)}) == 4  # four different samples
    again = pipe.generate(frames=frames, fps=25.0, seed=10, **KW)
    np.testing.assert_array_equal(again.tokens, many.tokens)
    one = pipe.generate(frames=frames, fps=25.0, seed=12, **{**KW, "num_samples": 1})
    np.testing.assert_array_equal(one.tokens[0], many.tokens[2])


def test_bad_requests_raise_one_clear_error(pipe):
    frames = _frames(40)
    with pytest.raises(ValueError, match="needs a non-empty prompt"):
        pipe.generate(frames=frames, fps=25.0, prompt="", guidance_scale=3.0)
    with pytest.raises(ValueError, match="needs a non-empty prompt"):
        pipe.generate(frames=frames, fps=25.0, prompt=" ", negative_prompt="rain")
    with pytest.raises(ValueError, match="no refiner"):
        pipe.generate(frames=frames, fps=25.0, refine=True, **KW)
    with pytest.raises(ValueError, match="no frames"):
        pipe.generate(frames=_frames(0), fps=25.0, **KW)
    with pytest.raises(ValueError, match="uint8"):
        pipe.generate(frames=frames.astype(np.float32), fps=25.0, **KW)
    with pytest.raises(ValueError, match="not both"):
        pipe.generate(frames=frames, **KW)
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        pipe.generate(video="missing.mp4", **KW)


def test_duration_beyond_the_sampler_limit():
    short = V2A.from_pretrained(tiny_checkpoint(), max_duration_s=1.0)
    with pytest.raises(DurationError, match="longer than this sampler supports"):
        short.generate(frames=_frames(40), fps=25.0, **KW)


def test_checkpoint_from_another_config(tmp_path):
    from v2a_jax.codec import Codec, CodecConfig
    from v2a_jax.train.checkpoint import CheckpointError

    with pytest.raises(ModelMismatchError, match="another codec config"):
        V2A.from_pretrained(tiny_checkpoint(), codec=Codec.from_config(CodecConfig(n_q=8)))
    bad = tmp_path / "bad"
    shutil.copytree(tiny_checkpoint(), bad)
    card = json.loads((bad / "config.json").read_text())
    card["config"]["model"]["d_model"] = 64  # params saved at d_model 32
    (bad / "config.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="bad"):
        V2A.from_pretrained(bad)
    with pytest.raises(FileNotFoundError, match="neither 'default' nor"):
        V2A.from_pretrained(tmp_path / "nothing")


def test_bfloat16_model_loads_cast_and_samples_like_float32(pipe):
    import jax
    from flax import nnx

    half = V2A.from_pretrained(tiny_checkpoint(), dtype="bfloat16")
    dtypes = {str(x.dtype) for x in jax.tree.leaves(nnx.state(half.model, nnx.Param))}
    assert dtypes == {"bfloat16"} and half.model.cfg.dtype == "bfloat16"
    assert pipe.model.cfg.dtype == "float32"  # the saved config is untouched
    kw = dict(frames=_frames(20), fps=25.0, prompt="a metal ball bouncing", num_samples=2, seed=1)
    ours, theirs = half.generate(**kw), pipe.generate(**kw)
    assert ours.tokens.shape == theirs.tokens.shape
    assert np.isfinite(ours.waveforms).all() and np.abs(ours.waveforms).max() > 0
    with pytest.raises(ValueError, match="dtype must be one of"):
        V2A.from_pretrained(tiny_checkpoint(), dtype="int8")


def test_import_stays_light():
    code = (
        "import sys, v2a_jax; heavy = [m for m in ('jax', 'torch', 'transformers', 'flax') "
        "if m in sys.modules]; assert not heavy, heavy; "
        "assert {'V2A', 'GenerationOutput', 'TopK', 'SeparateCFG'} <= set(dir(v2a_jax))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_refine_applies_the_refiner_to_the_dequantized_latent(pipe):
    from flax import nnx

    from v2a_jax.models.refiner import Refiner
    from v2a_jax.models.refiner_config import RefinerConfig

    codec = pipe.codec
    cfg = RefinerConfig(latent_dim=codec.latent_dim, num_codebooks=4, codebook_size=1024,
                        width=16, num_blocks=1, time_dim=8)  # fmt: skip
    refiner = Refiner(cfg, np.asarray(codec.codebooks()), rngs=nnx.Rngs(0))
    refined = V2A(pipe.model, pipe.config, codec, pipe.text_encoder, refiner, name="r")
    out = refined.generate(frames=_frames(40), fps=25.0, refine_steps=2, **KW)
    assert out.settings["refined"] is True  # the default with a refiner: refine
    assert out.refined_latent.shape == (4, 80, codec.latent_dim)
    assert out.waveforms.shape == (4, round(1.6 * SR))
    # The same tokens decoded both ways: what the AR-vs-AR+diffusion comparison runs.
    wave_ref, latent = refined.decode_tokens(out.tokens, out.seeds, refine=True, refine_steps=2)
    np.testing.assert_allclose(wave_ref[:, : out.waveforms.shape[1]], out.waveforms, atol=1e-5)
    np.testing.assert_allclose(latent, out.refined_latent, atol=1e-5)
    wave_ar, none = refined.decode_tokens(out.tokens, out.seeds, refine=False)
    assert none is None and wave_ar.shape == wave_ref.shape
    assert not np.allclose(wave_ar, wave_ref)
    with pytest.raises(ValueError, match="no refiner"):
        pipe.decode_tokens(out.tokens, out.seeds, refine=True)
    bad = RefinerConfig(latent_dim=8, num_codebooks=4, codebook_size=1024)
    with pytest.raises(ModelMismatchError, match="another codec"):
        V2A(pipe.model, pipe.config, codec, refiner=Refiner(bad, rngs=nnx.Rngs(0)))


def test_training_sample_dumps(pipe, tmp_path):
    from v2a_jax.data.syncscenes import render_clip
    from v2a_jax.sampling.train_samples import make_sample_fn

    clip = render_clip(1_100_001)
    record = {"clip_id": clip.clip_id, "frames": clip.frames[:40], "fps": 25.0,
              "caption": clip.annotation["captions"][0], "audio": clip.audio[: 40 * 640],
              "sample_rate": SR}  # fmt: skip
    sample_fn = make_sample_fn(num_clips=1, num_samples=4, codec=pipe.codec, clips=[record])
    manifest = sample_fn(pipe.model, pipe.config, 10, tmp_path)
    assert manifest == tmp_path / "samples" / "10" / "manifest.json"
    wave, sr = read_wav(tmp_path / "samples" / "10" / f"{clip.clip_id}_3.wav")
    assert sr == SR and wave.shape == (40 * 640,)
    assert json.loads(manifest.read_text())["clips"][clip.clip_id]["seeds"] == [0, 1, 2, 3]
