"""A user's taste vector: the α-mix of a rating part and a text part (pure NumPy)."""

from __future__ import annotations

import numpy as np


def normalize(v: np.ndarray) -> np.ndarray:
    """L2-normalise rows (a zero row stays zero)."""
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


def mix(rating: np.ndarray | None, text: np.ndarray | None, alpha: float) -> np.ndarray:
    """normalise(α·r̂ + (1−α)·t̂) when both parts exist, else the part that exists."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    if rating is None and text is None:
        raise ValueError("a user vector needs a rating part or a text part")
    if rating is None:
        return normalize(text)
    if text is None:
        return normalize(rating)
    return normalize(alpha * normalize(rating) + (1.0 - alpha) * normalize(text))
