"""Frechet distance between two sets of embeddings (the FAD recipe, on SyncBench embeddings).

Legend: N, M set sizes, D embedding width.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg


def frechet_distance(a_nd: np.ndarray, b_md: np.ndarray) -> float:
    """``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` of two embedding sets.

    Args:
        a_nd: [N, D] embeddings, N >= 2.
        b_md: [M, D] embeddings, M >= 2.

    Returns:
        The distance (>= 0; ~0 for two copies of one set).

    Raises:
        ValueError: fewer than two rows in a set, or different widths.
    """
    a = np.asarray(a_nd, np.float64)
    b = np.asarray(b_md, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected [N, D] and [M, D] embeddings, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Frechet distance needs >= 2 embeddings per set, got {len(a)}, {len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        # fewer samples than dimensions make the covariances singular; the root is still usable
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(covmean)):  # a singular product: regularise, as the FID code does
        eps = 1e-6 * np.eye(len(cov_a))
        covmean = scipy.linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    covmean = np.real(covmean)
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * covmean))
    return max(value, 0.0)
