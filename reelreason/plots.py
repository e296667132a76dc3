"""PNG figures for the Dagster UI: metrics next to baselines, and a 2D taste map."""

from __future__ import annotations

import base64
import io

import numpy as np


def _pyplot():
    """matplotlib on first use (it costs ~0.6 s at import; most step processes never plot)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def metrics_chart(rows: list[dict], metrics=("hr@10", "ndcg@10", "mrr@10", "recall@50")) -> bytes:
    """Grouped bars: each method (model and baselines) per metric, with 95% intervals."""
    methods = list(dict.fromkeys(r["model"] for r in rows))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(methods), 1)
    for j, method in enumerate(methods):
        vals, lows, highs = [], [], []
        for m in metrics:
            r = next((x for x in rows if x["model"] == method and x["metric"] == m), None)
            vals.append(r["value"] if r else 0.0)
            lows.append(r["value"] - r["ci_low"] if r and r["ci_low"] == r["ci_low"] else 0.0)
            highs.append(r["ci_high"] - r["value"] if r and r["ci_high"] == r["ci_high"] else 0.0)
        x = np.arange(len(metrics)) + j * width
        ax.bar(x, vals, width, label=method, yerr=[lows, highs], capsize=3)
    ax.set_xticks(np.arange(len(metrics)) + width * (len(methods) - 1) / 2)
    ax.set_xticklabels(metrics)
    ax.set_ylim(0, 1)
    ax.set_ylabel("score (95% bootstrap interval)")
    ax.legend(fontsize=8)
    ax.set_title("Leave-last-out ranking, all evaluated users")
    return _png(fig)


def alpha_chart(curves: dict[str, list[dict]]) -> bytes:
    """Validation HR@10 and mean reciprocal rank against α, one line per space, the chosen α
    (best MRR) marked."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for name, curve in curves.items():
        if not curve or not curve[0]["n"]:
            continue
        alphas = [p["alpha"] for p in curve]
        for ax, metric in zip(axes, ("hr@10", "mrr"), strict=True):
            label = f"{name} (n={curve[0]['n']})"
            (line,) = ax.plot(alphas, [p[metric] for p in curve], marker="o", label=label)
            best = max(curve, key=lambda p: (p["mrr"], p["alpha"]))
            ax.plot([best["alpha"]], [best[metric]], "*", markersize=14, color=line.get_color())
    for ax, metric in zip(axes, ("HR@10", "mean reciprocal rank"), strict=True):
        ax.set_xlabel("α (weight of the rating part)")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
    fig.suptitle("α on validation users with both parts (★ chosen)")
    return _png(fig)


def taste_map(
    film_vectors: np.ndarray,
    film_genres: list[str],
    user_vectors: np.ndarray,
    user_labels: list[str],
) -> bytes:
    """Films and a few users projected on the films' first two principal components."""
    centre = film_vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(film_vectors - centre, full_matrices=False)
    basis = vt[:2].T
    films2d = (film_vectors - centre) @ basis
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    colours = plt.get_cmap("tab20")
    for k, genre in enumerate(sorted(set(film_genres))):
        idx = [i for i, g in enumerate(film_genres) if g == genre]
        ax.scatter(
            films2d[idx, 0], films2d[idx, 1], s=18, label=genre, alpha=0.85, color=colours(k % 20)
        )
    if len(user_vectors):
        users2d = (user_vectors - centre) @ basis
        ax.scatter(users2d[:, 0], users2d[:, 1], marker="*", s=160, c="black", label="users")
        for (x, y), label in zip(users2d, user_labels, strict=True):
            ax.annotate(label, (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.legend(fontsize=7, ncol=2, loc="best")
    ax.set_title("Taste map: films by first genre, users among them (PCA of film vectors)")
    ax.set_xticks([])
    ax.set_yticks([])
    return _png(fig)
