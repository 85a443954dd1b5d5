"""Classifier-free guidance with separate weights for the video, the prompt and the negative prompt.

Legend: R guidance branches, B samples, K codebooks, V vocabulary.

The model is run on up to four conditionings of the same samples, stacked along the batch axis in
ONE forward pass (``[R * B]`` rows, branch-major):

    l_0    NULL            no video, no text          (the fully unconditional model)
    l_v    VIDEO           video, no text
    l_vp   VIDEO_PROMPT    video + the prompt
    l_vn   VIDEO_NEGATIVE  video + the negative prompt

**Separate weights** (``SeparateCFG``; AudioCraft's two-weight CFG extended by a negative term):

    l = l_0 + w_v (l_v - l_0) + w_p (l_vp - l_v) - w_n (l_vn - l_v)

Each weight scales one difference: ``w_v`` what the video adds to nothing, ``w_p`` what the prompt
adds to the video, ``w_n`` what the negative prompt adds to the video (pushed away from). The
negative term removes what the negative prompt *asks for on top of this video*, and ``w_v`` can be
lowered independently, so a sound that the picture shows can be pushed down (rain streaks on
screen, negative prompt "rain"), which the common form cannot do.

**Common form** (``CommonCFG``; MMAudio, HunyuanVideo-Foley): the negative prompt's logits take
the place of the unconditional branch, ``l = l_neg + s (l_pos - l_neg)`` with ``l_pos = l_vp`` and
``l_neg = l_vn`` when a negative prompt is given, else ``l_neg = l_0``. The video is in both
``l_vp`` and ``l_vn``, so everything the video suggests stays in the baseline ``l_neg``.

**The defaults reduce to the common form.** With a negative prompt, take ``w_v = 1, w_p = s,
w_n = s - 1``: then ``l_0 + (l_v - l_0) = l_v`` and

    l_v + s (l_vp - l_v) - (s - 1) (l_vn - l_v)
      = l_vn - (l_vn - l_v) + s (l_vp - l_v) - (s - 1) (l_vn - l_v)
      = l_vn + s (l_vp - l_v) - s (l_vn - l_v)
      = l_vn + s (l_vp - l_vn).

Without one, take ``w_v = w_p = s, w_n = 0``: ``l_0 + s (l_v - l_0) + s (l_vp - l_v) =
l_0 + s (l_vp - l_0)``. ``SeparateCFG.from_scale(s, has_negative)`` gives exactly these
(``tests/test_sampling_guidance.py`` checks both identities numerically); any weight given
explicitly overrides its default.
"""

from __future__ import annotations

import dataclasses
import enum

import jax
import jax.numpy as jnp


class Branch(enum.IntEnum):
    """One conditioning of the model; ``video`` and ``text`` say what it sees."""

    NULL = 0
    VIDEO = 1
    VIDEO_PROMPT = 2
    VIDEO_NEGATIVE = 3

    @property
    def video(self) -> bool:
        return self is not Branch.NULL

    @property
    def text(self) -> str:
        """Which text the branch sees: ``"none"``, ``"prompt"`` or ``"negative"``."""
        return {Branch.VIDEO_PROMPT: "prompt", Branch.VIDEO_NEGATIVE: "negative"}.get(self, "none")


def _check_scale(scale: float) -> None:
    if not scale >= 1.0:
        raise ValueError(f"guidance_scale must be >= 1 (1 = no guidance), got {scale}")


@dataclasses.dataclass(frozen=True)
class NoGuidance:
    """Plain conditional sampling from ``l_vp``: one branch, no extra cost."""

    @property
    def branches(self) -> tuple[Branch, ...]:
        return (Branch.VIDEO_PROMPT,)

    def combine(self, logits_rbkv: jax.Array) -> jax.Array:
        return logits_rbkv[0]


@dataclasses.dataclass(frozen=True)
class CommonCFG:
    """``l_neg + s (l_pos - l_neg)``; ``l_neg`` is ``l_vn`` with a negative prompt, else ``l_0``."""

    scale: float = 3.0
    has_negative: bool = False

    def __post_init__(self):
        _check_scale(self.scale)

    @property
    def branches(self) -> tuple[Branch, ...]:
        neg = Branch.VIDEO_NEGATIVE if self.has_negative else Branch.NULL
        return (neg, Branch.VIDEO_PROMPT)

    def combine(self, logits_rbkv: jax.Array) -> jax.Array:
        neg_bkv, pos_bkv = logits_rbkv[0], logits_rbkv[1]
        return neg_bkv + self.scale * (pos_bkv - neg_bkv)


@dataclasses.dataclass(frozen=True)
class SeparateCFG:
    """``l_0 + w_v (l_v - l_0) + w_p (l_vp - l_v) - w_n (l_vn - l_v)`` (see the module doc).

    Attributes:
        video: ``w_v``, the weight of what the video adds to the unconditional model.
        prompt: ``w_p``, the weight of what the prompt adds to the video.
        negative: ``w_n``, how far to push away from what the negative prompt adds to the video.
            0 drops the ``l_vn`` branch from the forward pass.
    """

    video: float = 3.0
    prompt: float = 3.0
    negative: float = 0.0

    @classmethod
    def from_scale(
        cls,
        scale: float,
        has_negative: bool,
        video: float | None = None,
        prompt: float | None = None,
        negative: float | None = None,
    ) -> SeparateCFG:
        """The weights that reduce to ``CommonCFG(scale, has_negative)``, with overrides."""
        _check_scale(scale)
        if has_negative:
            defaults = (1.0, scale, scale - 1.0)
        else:
            defaults = (scale, scale, 0.0)
        given = (video, prompt, negative)
        w_v, w_p, w_n = (d if g is None else float(g) for d, g in zip(defaults, given, strict=True))
        if w_n and not has_negative:
            raise ValueError("a negative-prompt weight needs a negative prompt")
        return cls(video=w_v, prompt=w_p, negative=w_n)

    @property
    def branches(self) -> tuple[Branch, ...]:
        base = (Branch.NULL, Branch.VIDEO, Branch.VIDEO_PROMPT)
        return base + ((Branch.VIDEO_NEGATIVE,) if self.negative else ())

    def combine(self, logits_rbkv: jax.Array) -> jax.Array:
        l_0, l_v, l_vp = logits_rbkv[0], logits_rbkv[1], logits_rbkv[2]
        out_bkv = l_0 + self.video * (l_v - l_0) + self.prompt * (l_vp - l_v)
        if self.negative:
            out_bkv = out_bkv - self.negative * (logits_rbkv[3] - l_v)
        return out_bkv


Guidance = NoGuidance | CommonCFG | SeparateCFG


def make_guidance(
    scale: float,
    has_negative: bool,
    form: str = "separate",
    video: float | None = None,
    prompt: float | None = None,
    negative: float | None = None,
) -> Guidance:
    """The guidance for a request: ``form`` is ``"separate"`` (default) or ``"common"``.

    ``scale == 1`` with no weight given and no negative prompt is plain conditional sampling (one
    branch).

    Raises:
        ValueError: an unknown form, a scale below 1, or weights given with the common form.
    """
    if form not in ("separate", "common"):
        raise ValueError(f"guidance form must be 'separate' or 'common', got {form!r}")
    weights_given = any(w is not None for w in (video, prompt, negative))
    if scale == 1.0 and not has_negative and not weights_given:
        return NoGuidance()
    if form == "common":
        if weights_given:
            raise ValueError("video/prompt/negative guidance weights need form='separate'")
        return CommonCFG(scale=scale, has_negative=has_negative)
    return SeparateCFG.from_scale(scale, has_negative, video, prompt, negative)


def stack_branches(per_branch: dict[Branch, jax.Array], branches: tuple[Branch, ...]) -> jax.Array:
    """Concatenates the ``[B, ...]`` inputs of ``branches`` into one ``[R * B, ...]`` batch."""
    return jnp.concatenate([per_branch[b] for b in branches], axis=0)


def split_branches(x_rb: jax.Array, num_branches: int) -> jax.Array:
    """``[R * B, ...]`` -> ``[R, B, ...]`` (inverse of ``stack_branches``'s layout)."""
    return x_rb.reshape(num_branches, x_rb.shape[0] // num_branches, *x_rb.shape[1:])
