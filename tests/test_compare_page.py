"""The AR vs AR+diffusion comparison page, rendered in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from v2a_jax.io.audio import write_wav
from v2a_jax.io.video_write import write_video
from v2a_jax.viz.compare_page import Track, write_clip_page
from v2a_jax.viz.spectrogram import save_spectrogram

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SR = 16_000


def make_page(folder):
    frames = np.zeros((25, 32, 32, 3), np.uint8)
    frames[:, 8:24, 8:24] = np.linspace(0, 255, 25, dtype=np.uint8)[:, None, None, None]
    t = np.arange(SR) / SR
    tracks = []
    for i, label in enumerate(["ground truth", "AR", "AR + diffusion"]):
        wave = (0.3 * np.sin(2 * np.pi * 220 * (i + 1) * t)).astype(np.float32)
        write_wav(folder / f"{i}.wav", wave, SR)
        write_video(folder / f"{i}.mp4", frames, 25, audio=wave, sample_rate=SR)
        save_spectrogram(folder / f"{i}.png", wave, SR, title=label)
        tracks.append(Track(label, f"{i}.wav", f"{i}.png", f"{i}.mp4", {"mel_distance": 0.5 * i}))
    return write_clip_page(folder / "clip.html", "clip<0>", tracks, caption="a ball & a drum")


def test_page_lists_every_track(tmp_path):
    page = make_page(tmp_path).read_text()
    assert page.count("<video") == 3 and page.count("<audio") == 3 and page.count("<img") == 3
    assert "clip&lt;0&gt;" in page and "a ball &amp; a drum" in page
    with pytest.raises(ValueError, match="distinct labels"):
        write_clip_page(tmp_path / "x.html", "x", [Track("a", "a.wav", "a.png")] * 2)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_chromium_shows_players_and_spectrograms(tmp_path):
    page = make_page(tmp_path)
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--autoplay-policy=no-user-gesture-required",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    tags = {tag: re.findall(rf"<{tag}\b[^>]*>", dom) for tag in ("video", "audio", "img")}
    assert {tag: len(found) for tag, found in tags.items()} == {"video": 3, "audio": 3, "img": 3}
    # Every element loaded its file (the page records onload / onloadedmetadata / onerror).
    for tag, found in tags.items():
        states = [re.search(r'data-state="(\w+)"', el) for el in found]
        assert [s.group(1) if s else None for s in states] == ["loaded"] * 3, (tag, found)
