"""The EnCodec loss balancer (torch): fixed shares of the gradient per loss, whatever its scale.

For losses l_i of the decoder output y, the gradient sent into the model is

    G = sum_i  total_norm * w_i / sum(w) * g_i / ema(||g_i||),   g_i = d l_i / d y

so a weight is the fraction of the gradient that loss contributes, not a multiplier on its
(unknown) scale. Losses that do not depend on y only (the quantizer's commitment loss) are added
to the backward outside the balancer. Follows the EnCodec paper, section 3.4.
"""

from __future__ import annotations

import torch


class Balancer:
    """Rescales per-loss gradients w.r.t. the model output before one backward pass.

    Args:
        weights: desired gradient share of each loss (normalised to sum 1).
        total_norm: the norm the combined gradient is scaled to (per batch item).
        ema_decay: decay of the moving average of each loss's gradient norm.
    """

    def __init__(
        self, weights: dict[str, float], total_norm: float = 1.0, ema_decay: float = 0.999
    ):
        if not weights or min(weights.values()) < 0 or sum(weights.values()) <= 0:
            raise ValueError(f"balancer weights must be >= 0 with a positive sum, got {weights}")
        self.weights = dict(weights)
        self.total_norm = total_norm
        self.ema_decay = ema_decay
        self._ema: dict[str, float] = {}
        self._count: dict[str, float] = {}
        self.last_ratios: dict[str, float] = {}

    def _average(self, name: str, value: float) -> float:
        # Bias-corrected EMA, so the first steps use the norms actually seen.
        self._ema[name] = self.ema_decay * self._ema.get(name, 0.0) + value
        self._count[name] = self.ema_decay * self._count.get(name, 0.0) + 1.0
        return self._ema[name] / self._count[name]

    def backward(self, losses: dict[str, torch.Tensor], output: torch.Tensor) -> torch.Tensor:
        """Back-propagates the balanced gradient of ``losses`` through ``output``.

        Returns the effective (detached) loss, for logging.
        """
        unknown = set(losses) - set(self.weights)
        if unknown:
            known = sorted(self.weights)
            raise KeyError(f"losses {sorted(unknown)} have no balancer weight; known {known}")
        total_w = sum(self.weights[k] for k in losses)
        norms, grads = {}, {}
        for name, loss in losses.items():
            (grads[name],) = torch.autograd.grad(loss, [output], retain_graph=True)
            norms[name] = self._average(name, grads[name].flatten(1).norm(dim=1).mean().item())
        out_grad = torch.zeros_like(output)
        effective = output.new_zeros(())
        for name, loss in losses.items():
            scale = self.weights[name] / total_w * self.total_norm / (norms[name] + 1e-12)
            out_grad.add_(grads[name], alpha=scale)
            effective = effective + scale * loss.detach()
        total = sum(norms.values()) or 1.0
        self.last_ratios = {k: v / total for k, v in norms.items()}
        output.backward(out_grad)
        return effective
