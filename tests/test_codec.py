"""The EnCodec wrapper: shapes, the dequantize/decode identity, checkpoints, input errors,
and the torch-only torchaudio stand-in that lets encodec import here.

Tolerances: 1e-5 for single ops (the stand-in's Spectrogram against torch.stft, decode against
decode_latent of dequantize); exact equality where the same computation is repeated (save/load
round trip, the wrapper against encodec's own encode).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from v2a_jax.codec import Codec, CodecCheckpointError, CodecConfig, save_codec
from v2a_jax.codec import _torchaudio_compat as compat

# A tiny architecture: the default's structure at a fraction of its cost.
TINY = CodecConfig(n_filters=4, dimension=16, n_q=4, bins=64, kmeans_init=False)


@pytest.fixture(scope="module")
def codec():
    return Codec.from_config(TINY, seed=0)


@pytest.fixture(scope="module")
def wave_bs():
    rng = np.random.default_rng(0)
    return (0.1 * rng.standard_normal((2, 3200))).astype(np.float32)


def test_properties(codec):
    assert (codec.sample_rate, codec.frame_rate, codec.hop_length) == (16_000, 50, 320)
    assert (codec.num_codebooks, codec.codebook_size, codec.latent_dim) == (4, 64, 16)
    assert codec.num_frames_for(16_000) == 50 and codec.num_frames_for(16_001) == 51


def test_encode_decode_shapes_and_dtypes(codec, wave_bs):
    tokens_btk = codec.encode(wave_bs)
    assert tokens_btk.shape == (2, 10, 4) and tokens_btk.dtype == np.int32
    assert 0 <= tokens_btk.min() and tokens_btk.max() < 64
    z_btd = codec.encode_latent(wave_bs)
    assert z_btd.shape == (2, 10, 16) and z_btd.dtype == np.float32
    wave = codec.decode(tokens_btk)
    assert wave.shape == (2, 10 * 320) and wave.dtype == np.float32
    # Unbatched in, unbatched out; a ragged length rounds up to whole frames.
    tokens_tk = codec.encode(wave_bs[0, :1000])
    assert tokens_tk.shape == (codec.num_frames_for(1000), 4)
    assert codec.decode(tokens_tk).shape == (4 * 320,)
    np.testing.assert_array_equal(codec.encode(wave_bs[0]), tokens_btk[0])


def test_matches_encodec_reference(codec, wave_bs):
    import torch

    with torch.no_grad():
        ((codes_bkt, scale),) = codec.model.encode(torch.from_numpy(wave_bs)[:, None])
    assert scale is None
    np.testing.assert_array_equal(codec.encode(wave_bs), codes_bkt.permute(0, 2, 1).numpy())


def test_decode_equals_decode_latent_of_dequantize(codec, wave_bs):
    tokens_btk = codec.encode(wave_bs)
    np.testing.assert_allclose(
        codec.decode(tokens_btk), codec.decode_latent(codec.dequantize(tokens_btk)), atol=1e-5
    )
    # Coarse: the first k codebooks, by argument or by slicing the tokens.
    zq2 = codec.dequantize(tokens_btk, num_codebooks=2)
    np.testing.assert_allclose(zq2, codec.dequantize(tokens_btk[..., :2]), atol=1e-6)
    assert not np.allclose(zq2, codec.dequantize(tokens_btk))


def test_save_load_round_trip(codec, wave_bs, tmp_path):
    folder = save_codec(codec, tmp_path / "ck", card={"note": "test"})
    save_codec(codec, folder)  # overwriting an existing folder works (atomic swap)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]
    again = Codec.from_pretrained(folder)
    assert again.config == TINY
    tokens_btk = codec.encode(wave_bs)
    np.testing.assert_array_equal(again.encode(wave_bs), tokens_btk)
    np.testing.assert_array_equal(again.decode(tokens_btk), codec.decode(tokens_btk))


def test_corrupt_checkpoint_errors(codec, tmp_path):
    folder = codec.save(tmp_path / "ck")
    weights = folder / "codec.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CodecCheckpointError, match="codec.safetensors.*safetensors"):
        Codec.load(folder)

    folder = codec.save(tmp_path / "ck2")
    (folder / "codec.json").write_text("{not json")
    with pytest.raises(CodecCheckpointError, match="codec.json is not valid JSON"):
        Codec.load(folder)
    meta = {"format_version": 1, "config": {**TINY.to_dict(), "colour": "red"}}
    del meta["config"]["bins"]
    (folder / "codec.json").write_text(json.dumps(meta))
    with pytest.raises(CodecCheckpointError, match=r"unknown \['colour'\], missing \['bins'\]"):
        Codec.load(folder)
    # A config that disagrees with the weights names the weights file.
    meta["config"] = {**TINY.to_dict(), "dimension": 8}
    (folder / "codec.json").write_text(json.dumps(meta))
    with pytest.raises(CodecCheckpointError, match="does not match the architecture"):
        Codec.load(folder)


@pytest.mark.parametrize(
    "wave, kwargs, error, match",
    [
        (np.zeros(320, np.float32), {"sample_rate": 24_000}, ValueError, "24000 Hz.*16000 Hz"),
        (np.zeros((1, 2, 320), np.float32), {}, ValueError, "expects 1 channel"),
        (np.zeros((1, 0), np.float32), {}, ValueError, "empty"),
        (np.full(320, np.nan, np.float32), {}, ValueError, "NaN"),
        (np.zeros(320, bool), {}, TypeError, "floating point"),
    ],
)
def test_bad_inputs(codec, wave, kwargs, error, match):
    with pytest.raises(error, match=match):
        codec.encode(wave, **kwargs)


def test_dtype_casting(codec, wave_bs):
    tokens_btk = codec.encode(wave_bs)
    np.testing.assert_array_equal(codec.encode(wave_bs.astype(np.float64)), tokens_btk)
    pcm = np.round(wave_bs * 32768).clip(-32768, 32767).astype(np.int16)
    assert codec.encode(pcm).shape == tokens_btk.shape
    with pytest.raises(ValueError, match=r"\[0, 64\)"):
        codec.decode(np.full((3, 4), 64))
    with pytest.raises(TypeError, match="integers"):
        codec.decode(np.zeros((3, 4), np.float32))


@pytest.fixture(scope="module")
def fake_hub(tmp_path_factory):
    """A torch hub dir holding encodec 24 kHz weights (random) under the official file name."""
    import torch

    from v2a_jax.codec import import_encodec
    from v2a_jax.codec.config import quiet_weight_norm

    encodec = import_encodec()
    hub = tmp_path_factory.mktemp("hub")
    (hub / "checkpoints").mkdir()
    torch.manual_seed(0)
    with quiet_weight_norm():
        model = encodec.EncodecModel.encodec_model_24khz(pretrained=False)
    torch.save(model.state_dict(), hub / "checkpoints" / "encodec_24khz-d7cc33bc.th")
    return hub


def test_official_24khz_from_hub_dir(fake_hub):
    codec = Codec.from_official("encodec_24khz", hub_dir=fake_hub, bandwidth=3.0)
    assert (codec.sample_rate, codec.frame_rate, codec.num_codebooks) == (24_000, 75, 4)
    tokens_tk = codec.encode(np.zeros(24_000, np.float32), sample_rate=24_000)
    assert tokens_tk.shape == (75, 4)
    assert Codec.from_pretrained("encodec_24khz", hub_dir=fake_hub).num_codebooks == 8
    by_path = Codec.from_official(path=fake_hub / "checkpoints")  # a folder holding the file
    assert by_path.latent_dim == 128
    with pytest.raises(ValueError, match="checksum mismatch"):
        Codec.from_official(hub_dir=fake_hub, check_hash=True)


def test_official_missing_lists_places(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        Codec.from_official("encodec_24khz", path=tmp_path / "nope.th", hub_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "nope.th") in message
    assert str(tmp_path / "checkpoints" / "encodec_24khz-d7cc33bc.th") in message
    assert "never downloads" in message


def test_missing_default_codec_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr("v2a_jax.codec.encodec_codec.DEFAULT_CODEC_DIR", tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="not been trained/shipped yet"):
        Codec.from_pretrained("default")


def test_shipped_default_codec_loads_round_trips_and_has_its_card():
    from v2a_jax.codec.encodec_codec import DEFAULT_CODEC_DIR
    from v2a_jax.data.syncscenes import SceneConfig, render_clip

    size = sum(p.stat().st_size for p in DEFAULT_CODEC_DIR.iterdir())
    assert size <= 10 * 2**20
    codec = Codec.from_pretrained("default")
    assert (codec.sample_rate, codec.frame_rate, codec.num_codebooks) == (16000, 50, 4)
    assert codec.card["steps"] > 0 and codec.card["metrics"]["reconstruction"]["num_clips"] >= 100
    wave = render_clip(1100000, SceneConfig(duration_s=1.0)).audio
    tokens = codec.encode(wave, sample_rate=16000)
    assert tokens.shape == (50, 4) and len(np.unique(tokens)) > 10  # trained codebooks in use
    decoded = codec.decode(tokens)
    assert decoded.shape == (16000,) and np.isfinite(decoded).all()


def test_imports_do_not_import_torch():
    code = (
        "import sys, v2a_jax, v2a_jax.codec, v2a_jax.conditioning.text_encoder\n"
        "from v2a_jax.codec import encodec_codec, config, checkpoint, official, inputs\n"
        "bad = [m for m in ('torch', 'encodec', 'transformers') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- torchaudio stand-in ----------------------------------------------------------------


@pytest.mark.parametrize("normalized", [True, False, "frame_length"])
def test_spectrogram_matches_stft(normalized):
    spectrogram = compat._make_spectrogram_class()
    # The arguments encodec.msstftd passes.
    spec = spectrogram(
        n_fft=256, hop_length=64, win_length=200, window_fn=torch.hann_window,
        normalized=normalized, center=False, pad_mode=None, power=None,
    )  # fmt: skip
    x = torch.randn(2, 1, 2000, generator=torch.Generator().manual_seed(0))
    window = torch.hann_window(200)
    ref = torch.stft(
        x.reshape(2, 2000), n_fft=256, hop_length=64, win_length=200, window=window,
        center=False, normalized=normalized == "frame_length", return_complex=True,
    ).reshape(2, 1, 129, -1)  # fmt: skip
    if normalized is True:
        ref = ref / window.pow(2).sum().sqrt()
    out = spec(x)
    assert out.shape == ref.shape and out.is_complex()
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    power = spectrogram(n_fft=256, hop_length=64, normalized=normalized, power=2.0)(x)
    assert power.dtype == torch.float32


def test_resample_keeps_a_sine():
    resample = compat._make_resample_class()(24_000, 16_000)
    t_in = torch.arange(2400, dtype=torch.float64) / 24_000
    y = resample(torch.sin(2 * math.pi * 440 * t_in).float()[None])
    assert y.shape == (1, 1600)
    t_out = np.arange(1600) / 16_000
    # Away from the zero-padded edges the band-limited interpolation is near exact.
    np.testing.assert_allclose(y[0, 100:-100].numpy(), np.sin(2 * math.pi * 440 * t_out)[100:-100],
                               atol=2e-3)  # fmt: skip
    assert math.ceil(16_000 * 2401 / 24_000) == resample(torch.zeros(2401)).shape[-1]


def test_import_encodec_and_shim_io_error():
    encodec = compat.import_encodec()
    assert hasattr(encodec, "EncodecModel")
    import encodec.msstftd  # the discriminator needs torchaudio.transforms.Spectrogram

    if compat.shim_installed():
        with pytest.raises(RuntimeError, match="Install a torchaudio build"):
            sys.modules["torchaudio"].load("x.wav")
