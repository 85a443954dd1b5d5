"""The codec recipe's losses and the loss balancer."""

import pytest
import torch

from v2a_jax.codec.training.balancer import Balancer
from v2a_jax.codec.training.losses import (
    MultiResolutionSTFTLoss,
    MultiScaleMelLoss,
    feature_matching,
    hinge_discriminator_loss,
    waveform_l1,
)


def test_multiscale_mel_is_zero_on_identical_audio_and_grows_with_distortion():
    torch.manual_seed(0)
    y = torch.randn(2, 1, 8000) * 0.1
    loss = MultiScaleMelLoss(16000)
    assert loss(y, y).item() == pytest.approx(0.0, abs=1e-6)
    small, large = loss(y + 0.01 * torch.randn_like(y), y), loss(y + 0.1 * torch.randn_like(y), y)
    assert 0 < small.item() < large.item()


def test_stft_loss_is_zero_on_identical_audio_and_tells_a_tone_from_band_noise():
    sr, n = 16000, 8000
    t = torch.arange(n) / sr
    tone = (0.1 * torch.sin(2 * torch.pi * 1500 * t))[None, None]
    # noise confined to 1440-1560 Hz (one mel band there) with the tone's energy
    spec = torch.fft.rfft(torch.randn(1, 1, n, generator=torch.Generator().manual_seed(0)))
    freqs = torch.fft.rfftfreq(n, 1 / sr)
    spec[..., (freqs < 1440) | (freqs > 1560)] = 0
    band = torch.fft.irfft(spec, n=n)
    band = band * tone.pow(2).mean().sqrt() / band.pow(2).mean().sqrt()
    loss = MultiResolutionSTFTLoss()
    assert loss(tone, tone).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(band, tone).item() > 2 * loss(0.5 * tone, tone).item() > 0
    # A silent crop beside an audible one stays a bounded term, not a division by ~0.
    batch_y = torch.cat([tone, torch.zeros_like(tone)])
    batch_x = torch.cat([0.5 * tone, 1e-3 * torch.randn_like(tone)])
    assert loss(batch_x, batch_y).item() < 20


def test_waveform_and_adversarial_losses_are_zero_where_they_should_be():
    y = torch.ones(1, 1, 10)
    assert waveform_l1(y, y).item() == 0.0
    # Real logits >= 1 and fake <= -1 leave nothing for the hinge to push.
    assert hinge_discriminator_loss([torch.full((3,), 2.0)], [torch.full((3,), -2.0)]).item() == 0
    fmaps = [[torch.ones(2, 3)]]
    assert feature_matching(fmaps, fmaps).item() == 0.0


def test_balancer_gives_each_loss_its_weighted_share_whatever_its_scale():
    out = torch.randn(4, 1, 100, requires_grad=True)
    target = torch.zeros_like(out)
    losses = {"big": 1000.0 * (out - target).abs().mean(), "small": 1e-3 * (out**2).mean()}
    balancer = Balancer({"big": 1.0, "small": 3.0})
    balancer.backward(losses, out)
    # Gradient norms of the two raw losses differ by ~1e6; after balancing their shares are 1:3.
    g_big = torch.autograd.grad(1000.0 * (out - target).abs().mean(), out)[0]
    g_small = torch.autograd.grad(1e-3 * (out**2).mean(), out)[0]
    n_big = g_big.flatten(1).norm(dim=1).mean()
    n_small = g_small.flatten(1).norm(dim=1).mean()
    expected = 0.25 * g_big / n_big + 0.75 * g_small / n_small
    torch.testing.assert_close(out.grad, expected, rtol=1e-4, atol=1e-7)


def test_balancer_rejects_losses_without_a_weight():
    out = torch.randn(1, 3, requires_grad=True)
    with pytest.raises(KeyError, match="no balancer weight"):
        Balancer({"a": 1.0}).backward({"b": out.sum()}, out)
