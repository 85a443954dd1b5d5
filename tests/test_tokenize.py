"""``v2a data tokenize``: records, codec info, reuse, and bad input (contract section 1)."""

import math

import numpy as np
import pytest

from v2a_jax.cli import main
from v2a_jax.codec import Codec
from v2a_jax.data.loaders import open_split
from v2a_jax.data.tokenized import read_codec_info


def test_splits_and_record_shapes(tokenized_dir, tiny_codec_dir):
    codec = Codec.load(tiny_codec_dir)
    sizes = {s: len(open_split(tokenized_dir, s)) for s in ("train", "validation", "test")}
    assert sizes == {"train": 4, "validation": 2, "test": 2}
    for rec in open_split(tokenized_dir, "train"):
        s = len(rec["audio"])
        t = math.ceil(s / codec.hop_length)
        assert rec["tokens"].dtype == np.int32 and rec["tokens"].shape == (t, 4)
        assert rec["latent"].dtype == np.float32 and rec["latent"].shape == (t, codec.latent_dim)
        assert rec["text_emb"].dtype == np.float16
        assert 0 < rec["text_emb"].shape[0] <= 32 and rec["text_emb"].shape[1] == 384
        assert rec["frames"].dtype == np.uint8 and rec["frames"].shape == (25, 64, 64, 3)
        assert rec["audio"].dtype == np.float32 and rec["sample_rate"] == 16000
        assert rec["caption"] and isinstance(rec["annotation"], dict)


def test_tokens_and_latents_are_the_codecs(tokenized_dir, tiny_codec_dir):
    codec = Codec.load(tiny_codec_dir)
    source = open_split(tokenized_dir.parent / "syncscenes", "test")
    for rec, src in zip(open_split(tokenized_dir, "test"), source, strict=True):
        assert rec["clip_id"] == src["clip_id"]
        np.testing.assert_array_equal(rec["audio"], src["audio"])
        np.testing.assert_array_equal(rec["frames"], src["frames"])
        tokens = codec.encode(src["audio"], sample_rate=16000)
        assert len(np.unique(tokens)) > 1  # the tiny codec's tokens are not all one code
        np.testing.assert_array_equal(rec["tokens"], tokens)
        latent = codec.encode_latent(src["audio"], sample_rate=16000)
        np.testing.assert_allclose(rec["latent"], latent, rtol=1e-5, atol=1e-6)


def test_text_embeddings_are_the_captions_real_tokens(tokenized_dir):
    from v2a_jax.conditioning.text_encoder import TextEncoder

    rec = open_split(tokenized_dir, "validation")[0]
    emb = TextEncoder().encode([rec["caption"]])
    expected = emb.tokens_bld[0][emb.mask_bl[0]]
    assert rec["text_emb"].shape == expected.shape
    np.testing.assert_allclose(rec["text_emb"].astype(np.float32), expected, atol=2e-3, rtol=2e-3)


def test_codec_info_names_a_loadable_codec(tokenized_dir, tiny_codec_dir):
    info = read_codec_info(tokenized_dir)
    codec = Codec.load(tiny_codec_dir)
    assert info["codec"] == str(tiny_codec_dir.resolve())
    assert info["sample_rate"] == 16000 and info["frame_rate"] == 50 and info["hop_length"] == 320
    assert (info["num_codebooks"], info["codebook_size"], info["latent_dim"]) == (4, 1024, 64)
    assert Codec.from_pretrained(info["codec"]).num_codebooks == codec.num_codebooks


def test_second_run_reuses_the_set(tokenized_dir, tiny_codec_dir, capsys):
    args = ["data", "tokenize", "--data-dir", str(tokenized_dir.parent / "syncscenes"),
            "--codec", str(tiny_codec_dir), "--out-dir", str(tokenized_dir)]  # fmt: skip
    assert main(args) == 0
    assert "up to date, reused" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["no_data_set", "no_codec"])
def test_bad_input_gets_one_clear_error(tmp_path, tokenized_dir, tiny_codec_dir, what, capsys):
    data, codec = tokenized_dir.parent / "syncscenes", tiny_codec_dir
    if what == "no_data_set":
        data = tmp_path / "empty"
        data.mkdir()
    else:
        codec = tmp_path / "no_such_codec"
    args = ["data", "tokenize", "--data-dir", str(data), "--codec", str(codec),
            "--out-dir", str(tmp_path / "out")]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert (str(data) if what == "no_data_set" else str(codec)) in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.array_record*"))


def test_read_codec_info_without_a_tokenized_set_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no tokenized data set"):
        read_codec_info(tmp_path)
