"""Classifier-free guidance with separate weights for the video, the prompt and the negative prompt.

Legend: R guidance branches, B samples, K codebooks, V vocabulary.

The model is run on up to four conditionings of the same samples, stacked along the batch axis in
ONE forward pass (``[R * B]`` rows, branch-major):

    l_0    NULL            no video, no text          (the fully unconditional model)
    l_v    VIDEO           video, no text
    l_vp   VIDEO_PROMPT    video + the prompt
    l_vn   VIDEO_NEGATIVE  video + the negative prompt
    l_n    NEGATIVE        the negative prompt alone (no video)

**Separate weights** (``SeparateCFG``; AudioCraft's two-weight CFG extended by a negative term):

    l = l_0 + w_v (l_v - l_0) + w_p (l_vp - l_v) - w_n (l_vn - l_v)     (or l_n - l_0, below)

Each weight scales one difference: ``w_v`` what the video adds to nothing, ``w_p`` what the prompt
adds to the video, ``w_n`` what the negative prompt adds (pushed away from). The weights are
independent, so the video keeps its weight when a negative prompt is given, which the common form
cannot do.

**Where the negative direction is measured** (``SeparateCFG.negative_reference``): ``"video"``
takes ``l_vn - l_v``, what the negative prompt adds *to this video*. When the picture already
shows the negated sound (rain on screen), the video branch predicts it already and that difference
is near zero: nothing is removed. ``"null"`` takes ``l_n - l_0``, what the negative prompt means on
its own, without the picture (the model sees text without video in training, at the
video-dropout rate), so the sound is pushed down whatever the picture suggests:

    l = l_0 + w_v (l_v - l_0) + w_p (l_vp - l_v) - w_n (l_n - l_0)

**Common form** (``CommonCFG``; MMAudio, HunyuanVideo-Foley): the negative prompt's logits take
the place of the unconditional branch, ``l = l_neg + s (l_pos - l_neg)`` with ``l_pos = l_vp`` and
``l_neg = l_vn`` when a negative prompt is given, else ``l_neg = l_0``. The video is in both
``l_vp`` and ``l_vn``, so everything the video suggests stays in the baseline ``l_neg``, and the
video's own guidance weight drops from ``s`` to 1 as soon as a negative prompt is given.

**Defaults** (``SeparateCFG.from_scale(s, has_negative)``). Without a negative prompt,
``w_v = w_p = s, w_n = 0``: ``l_0 + s (l_v - l_0) + s (l_vp - l_v) = l_0 + s (l_vp - l_0)``, the
common form exactly. With one, the same ``w_v = w_p = s`` (the video keeps its weight, so sync
holds) and ``w_n = 2 (s - 1)`` (at least 1) against the null branch. Measured on 16 SyncScenes
test clips with rain on screen, prompted with their own caption plus the negative prompt "rain"
(``experiments/negative_prompt_forms.py --prompt-names-layer``, default model and sampling,
s = 3): the common form removes none of the rain (classifier P(rain) 0.92 -> 0.92) and costs
onset F1 0.81 -> 0.72; these defaults take P(rain) to 0.14 at onset F1 0.79. The common
form's numbers come back with ``w_v = 1, w_n = s - 1, negative_reference="video"``:

    l_v + s (l_vp - l_v) - (s - 1) (l_vn - l_v)
      = l_vn - (l_vn - l_v) + s (l_vp - l_v) - (s - 1) (l_vn - l_v)
      = l_vn + s (l_vp - l_v) - s (l_vn - l_v)
      = l_vn + s (l_vp - l_vn).

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
    NEGATIVE = 4

    @property
    def video(self) -> bool:
        return self not in (Branch.NULL, Branch.NEGATIVE)

    @property
    def text(self) -> str:
        """Which text the branch sees: ``"none"``, ``"prompt"`` or ``"negative"``."""
        texts = {Branch.VIDEO_PROMPT: "prompt", Branch.VIDEO_NEGATIVE: "negative",
                 Branch.NEGATIVE: "negative"}  # fmt: skip
        return texts.get(self, "none")


NEGATIVE_REFERENCES = ("video", "null")


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
        negative: ``w_n``, how far to push away from what the negative prompt adds.
            0 drops the negative branch from the forward pass.
        negative_reference: ``"video"`` (``l_vn - l_v``: what it adds to this video) or
            ``"null"`` (``l_n - l_0``: what it means without the picture; removes sounds the
            picture shows).
    """

    video: float = 3.0
    prompt: float = 3.0
    negative: float = 0.0
    negative_reference: str = "video"

    def __post_init__(self):
        if self.negative_reference not in NEGATIVE_REFERENCES:
            raise ValueError(
                f"negative_reference must be one of {NEGATIVE_REFERENCES}, "
                f"got {self.negative_reference!r}"
            )

    @classmethod
    def from_scale(
        cls,
        scale: float,
        has_negative: bool,
        video: float | None = None,
        prompt: float | None = None,
        negative: float | None = None,
        negative_reference: str | None = None,
    ) -> SeparateCFG:
        """The default weights for ``scale`` (see the module doc), with overrides.

        Without a negative prompt they equal ``CommonCFG(scale)``; with one, ``w_v = w_p = s``,
        ``w_n = max(2 (s - 1), 1)`` and ``negative_reference="null"`` (None: that default).
        """
        _check_scale(scale)
        if has_negative:
            # at least 1: a negative prompt is never silently ignored, even unguided (s = 1)
            defaults = (scale, scale, max(2.0 * (scale - 1.0), 1.0))
        else:
            defaults = (scale, scale, 0.0)
        negative_reference = negative_reference or ("null" if has_negative else "video")
        given = (video, prompt, negative)
        w_v, w_p, w_n = (d if g is None else float(g) for d, g in zip(defaults, given, strict=True))
        if w_n and not has_negative:
            raise ValueError("a negative-prompt weight needs a negative prompt")
        return cls(video=w_v, prompt=w_p, negative=w_n, negative_reference=negative_reference)

    @property
    def branches(self) -> tuple[Branch, ...]:
        base = (Branch.NULL, Branch.VIDEO, Branch.VIDEO_PROMPT)
        if not self.negative:
            return base
        neg = Branch.VIDEO_NEGATIVE if self.negative_reference == "video" else Branch.NEGATIVE
        return (*base, neg)

    def combine(self, logits_rbkv: jax.Array) -> jax.Array:
        l_0, l_v, l_vp = logits_rbkv[0], logits_rbkv[1], logits_rbkv[2]
        out_bkv = l_0 + self.video * (l_v - l_0) + self.prompt * (l_vp - l_v)
        if self.negative:
            reference = l_v if self.negative_reference == "video" else l_0
            out_bkv = out_bkv - self.negative * (logits_rbkv[3] - reference)
        return out_bkv


Guidance = NoGuidance | CommonCFG | SeparateCFG


def make_guidance(
    scale: float,
    has_negative: bool,
    form: str = "separate",
    video: float | None = None,
    prompt: float | None = None,
    negative: float | None = None,
    negative_reference: str | None = None,
) -> Guidance:
    """The guidance for a request: ``form`` is ``"separate"`` (default) or ``"common"``.

    ``scale == 1`` with no weight given and no negative prompt is plain conditional sampling (one
    branch). ``negative_reference`` is the separate form's (see ``SeparateCFG``; None: its
    default).

    Raises:
        ValueError: an unknown form or negative reference, a scale below 1, or weights (or a
            ``"null"`` negative reference) given with the common form.
    """
    if form not in ("separate", "common"):
        raise ValueError(f"guidance form must be 'separate' or 'common', got {form!r}")
    weights_given = any(w is not None for w in (video, prompt, negative))
    if scale == 1.0 and not has_negative and not weights_given:
        return NoGuidance()
    if form == "common":
        if weights_given or negative_reference not in (None, "video"):
            raise ValueError("guidance weights and negative_reference need form='separate'")
        return CommonCFG(scale=scale, has_negative=has_negative)
    return SeparateCFG.from_scale(
        scale, has_negative, video, prompt, negative, negative_reference=negative_reference
    )


def stack_branches(per_branch: dict[Branch, jax.Array], branches: tuple[Branch, ...]) -> jax.Array:
    """Concatenates the ``[B, ...]`` inputs of ``branches`` into one ``[R * B, ...]`` batch."""
    return jnp.concatenate([per_branch[b] for b in branches], axis=0)


def split_branches(x_rb: jax.Array, num_branches: int) -> jax.Array:
    """``[R * B, ...]`` -> ``[R, B, ...]`` (inverse of ``stack_branches``'s layout)."""
    return x_rb.reshape(num_branches, x_rb.shape[0] // num_branches, *x_rb.shape[1:])
