"""Import ``encodec`` even where ``torchaudio`` cannot load (torch only).

``encodec`` imports ``torchaudio`` at module level, but only uses three things from it:
``transforms.Spectrogram`` (the MS-STFT discriminator, needed for codec training),
``transforms.Resample`` (``encodec.utils.convert_audio``) and ``load``/``save`` (its CLI).
PyPI's torchaudio wheel is built against one torch build (e.g. CUDA); beside a different
torch (e.g. 2.13+cpu) its native library fails to load with ``OSError``, and ``import encodec``
fails with it. :func:`import_encodec` then installs a small torch-only stand-in under
``sys.modules['torchaudio']`` that reproduces those two transforms exactly (same arguments,
same numbers) and makes ``load``/``save`` raise a clear error.

The stand-in is installed only when the real torchaudio fails to import; a working torchaudio
is always preferred.
"""

from __future__ import annotations

import importlib.machinery
import logging
import math
import sys
import types
from typing import Any

logger = logging.getLogger(__name__)

_SHIM_FLAG = "__v2a_jax_shim__"
_INSTALL_HINT = (
    "torchaudio is not usable here (its native library does not match the installed torch), "
    "so v2a_jax installed a minimal torch-only stand-in that has no audio file I/O. Install a "
    "torchaudio build matching your torch (same version line and CPU/CUDA variant), or read and "
    "write audio with soundfile / PyAV."
)


def import_encodec() -> types.ModuleType:
    """Imports and returns the ``encodec`` package, shimming torchaudio if it cannot load.

    Returns:
        The ``encodec`` module.
    """
    if "encodec" in sys.modules:
        return sys.modules["encodec"]
    ensure_torchaudio()
    import encodec

    return encodec


def ensure_torchaudio() -> types.ModuleType:
    """Makes ``import torchaudio`` safe: the real one if it loads, else the stand-in.

    transformers imports torchaudio too whenever the package is installed (its audio utilities,
    pulled in by every model class), so the text encoder needs this as much as encodec does.
    A torchaudio that is not installed at all also gets the stand-in (encodec imports it).

    Returns:
        The torchaudio module now in ``sys.modules``.
    """
    try:
        import torchaudio

        return torchaudio
    except (OSError, ImportError) as err:
        return install_torchaudio_shim(reason=err)


def shim_installed() -> bool:
    """True when ``sys.modules['torchaudio']`` is this module's stand-in."""
    return getattr(sys.modules.get("torchaudio"), _SHIM_FLAG, False)


def install_torchaudio_shim(reason: BaseException | None = None) -> types.ModuleType:
    """Puts the torch-only stand-in at ``sys.modules['torchaudio']`` (idempotent).

    Args:
        reason: the import error of the real torchaudio, logged once.

    Returns:
        The stand-in module.
    """
    if shim_installed():
        return sys.modules["torchaudio"]
    # A failed import leaves half-initialised submodules behind (torchaudio._internal, ...);
    # drop them so nothing later mixes them with the stand-in.
    for name in [n for n in sys.modules if n == "torchaudio" or n.startswith("torchaudio.")]:
        del sys.modules[name]

    transforms = types.ModuleType("torchaudio.transforms")
    transforms.Spectrogram = _make_spectrogram_class()
    transforms.Resample = _make_resample_class()
    functional = types.ModuleType("torchaudio.functional")
    functional.resample = _resample_fn(transforms.Resample)

    module = types.ModuleType("torchaudio", doc=_INSTALL_HINT)
    module.transforms = transforms
    module.functional = functional
    module.load = _unavailable("load")
    module.save = _unavailable("save")
    module.__version__ = "0.0.0+v2a_jax_shim"
    setattr(module, _SHIM_FLAG, True)
    # Package discovery (importlib.util.find_spec, used by transformers) reads __spec__.
    module.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None, is_package=True)
    module.__path__ = []
    for sub in (transforms, functional):
        sub.__spec__ = importlib.machinery.ModuleSpec(sub.__name__, None)
    sys.modules["torchaudio"] = module
    sys.modules["torchaudio.transforms"] = transforms
    sys.modules["torchaudio.functional"] = functional
    logger.warning(
        "torchaudio failed to import (%s); using v2a_jax's torch-only stand-in "
        "(Spectrogram, Resample; no audio file I/O).",
        reason,
    )
    return module


def _unavailable(name: str):
    def fn(*args: Any, **kwargs: Any):
        raise RuntimeError(f"torchaudio.{name} is unavailable: {_INSTALL_HINT}")

    fn.__name__ = name
    return fn


def _resample_fn(resample_cls):
    def resample(
        waveform,
        orig_freq: int,
        new_freq: int,
        lowpass_filter_width: int = 6,
        rolloff: float = 0.99,
        resampling_method: str = "sinc_interp_hann",
        beta=None,
    ):
        """``torchaudio.functional.resample`` (Hann-windowed sinc only)."""
        module = resample_cls(
            orig_freq,
            new_freq,
            resampling_method,
            lowpass_filter_width,
            rolloff,
            beta,
            dtype=waveform.dtype,
        )
        return module.to(waveform.device)(waveform)

    return resample


def _make_spectrogram_class():
    """Builds ``Spectrogram`` lazily so this module imports without torch."""
    import torch

    class Spectrogram(torch.nn.Module):
        """Same arguments and numbers as ``torchaudio.transforms.Spectrogram``.

        ``normalized=True`` (or ``"window"``) divides by the window's L2 norm
        ``sqrt(sum(window**2))``; ``"frame_length"`` uses torch.stft's own ``1/sqrt(n_fft)``.
        ``power=None`` returns the complex STFT ``[..., n_fft // 2 + 1, frames]``.
        """

        def __init__(
            self,
            n_fft: int = 400,
            win_length: int | None = None,
            hop_length: int | None = None,
            pad: int = 0,
            window_fn=torch.hann_window,
            power: float | None = 2.0,
            normalized: bool | str = False,
            wkwargs: dict | None = None,
            center: bool = True,
            pad_mode: str | None = "reflect",
            onesided: bool = True,
            return_complex: bool | None = None,
        ):
            super().__init__()
            self.n_fft = n_fft
            self.win_length = win_length if win_length is not None else n_fft
            self.hop_length = hop_length if hop_length is not None else self.win_length // 2
            window = window_fn(self.win_length, **(wkwargs or {}))
            self.register_buffer("window", window)
            self.pad = pad
            self.power = power
            self.frame_length_norm, self.window_norm = _spec_norms(normalized)
            self.normalized = normalized
            self.center = center
            # msstftd passes pad_mode=None with center=False; torch.stft only reads it when
            # centring, so any placeholder is equivalent.
            self.pad_mode = pad_mode or "reflect"
            self.onesided = onesided

        def forward(self, waveform: torch.Tensor) -> torch.Tensor:
            if self.pad > 0:
                waveform = torch.nn.functional.pad(waveform, (self.pad, self.pad), "constant")
            shape = waveform.shape
            spec = torch.stft(
                waveform.reshape(-1, shape[-1]),
                n_fft=self.n_fft,
                hop_length=self.hop_length,
                win_length=self.win_length,
                window=self.window,
                center=self.center,
                pad_mode=self.pad_mode,
                normalized=self.frame_length_norm,
                onesided=self.onesided,
                return_complex=True,
            )
            spec = spec.reshape(shape[:-1] + spec.shape[-2:])
            if self.window_norm:
                spec = spec / self.window.pow(2.0).sum().sqrt()
            if self.power is None:
                return spec
            if self.power == 1.0:
                return spec.abs()
            return spec.abs().pow(self.power)

    return Spectrogram


def _spec_norms(normalized: bool | str) -> tuple[bool, bool]:
    """(frame_length_norm, window_norm), as torchaudio reads ``normalized``."""
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized!r}")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError(f"normalized must be bool or str, got {type(normalized).__name__}")


def _make_resample_class():
    import torch

    class Resample(torch.nn.Module):
        """Band-limited (Hann-windowed sinc) resampling, as ``torchaudio.transforms.Resample``.

        Polyphase view: after dividing both rates by their gcd, output sample ``j`` is a dot
        product of the input with one of ``new_freq`` filters, and the filter pattern repeats
        every ``orig_freq`` input samples; hence one ``conv1d`` with ``new_freq`` output
        channels and stride ``orig_freq``, interleaved. Output length is
        ``ceil(new_freq * length / orig_freq)``.
        """

        def __init__(
            self,
            orig_freq: int = 16000,
            new_freq: int = 16000,
            resampling_method: str = "sinc_interp_hann",
            lowpass_filter_width: int = 6,
            rolloff: float = 0.99,
            beta: float | None = None,
            *,
            dtype: torch.dtype | None = None,
        ):
            super().__init__()
            if resampling_method not in ("sinc_interp_hann", "sinc_interpolation"):
                raise ValueError(
                    f"the torchaudio stand-in only implements 'sinc_interp_hann', "
                    f"got {resampling_method!r}"
                )
            if int(orig_freq) != orig_freq or int(new_freq) != new_freq:
                raise ValueError("orig_freq and new_freq must be integers")
            if lowpass_filter_width <= 0:
                raise ValueError("lowpass_filter_width must be positive")
            self.orig_freq, self.new_freq = int(orig_freq), int(new_freq)
            gcd = math.gcd(self.orig_freq, self.new_freq)
            self.orig, self.new = self.orig_freq // gcd, self.new_freq // gcd
            if self.orig != self.new:
                kernel, self.width = _sinc_kernel(
                    self.orig, self.new, lowpass_filter_width, rolloff, dtype
                )
                self.register_buffer("kernel", kernel)

        def forward(self, waveform: torch.Tensor) -> torch.Tensor:
            if self.orig == self.new:
                return waveform
            if not waveform.is_floating_point():
                raise TypeError(f"expected a floating-point waveform, got {waveform.dtype}")
            shape = waveform.shape
            x = waveform.reshape(-1, shape[-1])
            length = x.shape[-1]
            x = torch.nn.functional.pad(x, (self.width, self.width + self.orig))
            y = torch.nn.functional.conv1d(x[:, None], self.kernel, stride=self.orig)
            y = y.transpose(1, 2).reshape(x.shape[0], -1)
            y = y[..., : math.ceil(self.new * length / self.orig)]
            return y.reshape(shape[:-1] + y.shape[-1:])

    return Resample


def _sinc_kernel(orig: int, new: int, zeros: int, rolloff: float, dtype):
    """``[new, 1, 2 * width + orig]`` filters; ``zeros`` = lowpass zero crossings each side."""
    import torch

    base = min(orig, new) * rolloff  # cutoff below both Nyquists: anti-aliasing both ways
    width = math.ceil(zeros * orig / base)
    idx_dtype = dtype if dtype is not None else torch.float64
    idx = torch.arange(-width, width + orig, dtype=idx_dtype)[None, None] / orig
    # dtype=None gives torch's default float here, as torchaudio does (bit-for-bit kernels).
    t = torch.arange(0, -new, -1, dtype=dtype)[:, None, None] / new + idx
    t = (t * base).clamp(-zeros, zeros)
    window = torch.cos(t * math.pi / zeros / 2) ** 2
    t = t * math.pi
    kernel = torch.where(t == 0, torch.ones_like(t), t.sin() / t) * window * (base / orig)
    return kernel.to(dtype if dtype is not None else torch.float32), width
