"""A taste-aligned embedding space learned from the build's own likes (NumPy + torch).

Each film's tuned vector is normalise(x·W + b): x is its frozen text vector from a base space,
W a learned adapter shared by every film, b a free per-film vector for films liked in
training. A film nobody liked in training (cold) keeps normalise(x·W): its text alone places
it. Training imitates how the vectors are used: a user's vector is the normalised mean of the
films they liked, and the loss is a full softmax over every film (films already in the
history masked) for the film they liked next, so the space learns what people like after
what, and how popular each film is, without a separate popularity term. The per-film vectors
are dropped at random (`id_dropout`) so that x·W alone already ranks well: that is what cold
films get. Users' own words map through a second adapter (T), fitted (the film vectors held
still) to point each dialogue user's words at the films they liked in training:
normalise(t·T) is a user's text part in the tuned space, so the α-mix of the two parts stays
meaningful.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from reelreason.taste import normalize

MIN_STEPS = 100
TRAIN_THREADS = 2


@dataclass(frozen=True)
class TuningConfig:
    """How the tuned space is trained; every field enters the cache key."""

    dim: int = 64
    epochs: float = 20.0  # passes over the users (one target per user per pass)
    max_steps: int = 2000  # the bound on training time, whatever the data's size
    batch: int = 256
    temperature: float = 0.05
    # Per-film vectors are left out of 70% of steps: measured on real files (scripts/
    # compare_tuned_variants.py), 0.7 ranks better than 0.3 for rating and dialogue users
    # alike (the per-film vectors alone overfit what the texts generalise).
    id_dropout: float = 0.7
    learning_rate: float = 1e-2
    last_share: float = 0.5  # share of targets that are a user's latest training like
    # A history weighs recent likes more in training (halving every 5 likes back): measured
    # HR@10 0.193 against 0.180 for a plain mean on real MovieTweetings users. Published user
    # vectors stay plain means, which score the same on this space.
    half_life: float = 5.0
    seed: int = 0


@dataclass
class TunedSpace:
    """The trained space: film vectors (normalised), the two adapters and what training did."""

    film_vectors: np.ndarray  # (films, dim)
    film_adapter: np.ndarray  # (base dim, dim): a film's text vector -> tuned space
    text_adapter: np.ndarray  # (base dim, dim): a user's words -> tuned space
    warm: np.ndarray  # bool per film: liked at least once in training
    report: dict = field(default_factory=dict)

    def map_texts(self, vectors: np.ndarray) -> np.ndarray:
        """Users' text vectors of the base space, in the tuned space (normalised)."""
        return through_adapter(self.text_adapter, vectors)

    def map_films(self, vectors: np.ndarray) -> np.ndarray:
        """Films' text vectors (new or cold films), in the tuned space (normalised)."""
        return through_adapter(self.film_adapter, vectors)


def through_adapter(adapter: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Base-space vectors (rows) in the tuned space: normalise(x·A). The one mapping, for
    the trained space and for a published `tuned_adapters` part alike."""
    return normalize(np.asarray(vectors, np.float32) @ adapter)


def training_key(
    base: np.ndarray,
    sequences: Sequence[np.ndarray],
    texts: Sequence[tuple[np.ndarray, np.ndarray]],
    config: TuningConfig,
) -> str:
    """Content hash of everything training reads: an unchanged rebuild finds its space."""
    h = hashlib.sha256(repr(sorted(asdict(config).items())).encode())
    h.update(np.ascontiguousarray(base, np.float32).tobytes())
    for s in sequences:
        h.update(np.asarray(s, np.int64).tobytes() + b"|")
    for t, liked in texts:
        h.update(np.ascontiguousarray(t, np.float32).tobytes())
        h.update(np.asarray(liked, np.int64).tobytes() + b"|")
    return h.hexdigest()


def recency_weights(length: int, half_life: float) -> np.ndarray:
    """Weight of each of a user's `length` likes (oldest first): 1 for a plain mean, else
    halving every `half_life` likes back from the latest."""
    if half_life <= 0:
        return np.ones(length, np.float32)
    return (0.5 ** ((length - 1 - np.arange(length)) / half_life)).astype(np.float32)


def _batch(sequences, users, rng, last_share, half_life):
    """For each sampled user a cut point: the likes before it are the history, the like at
    it is the target. `last_share` of the targets are the user's latest training like (what
    evaluation asks for: the next film after everything known)."""
    flat, owner, targets, weights = [], [], [], []
    for b, u in enumerate(users):
        s = sequences[u]
        t = len(s) - 1 if rng.random() < last_share else int(rng.integers(1, len(s)))
        flat.append(s[:t])
        owner.append(np.full(t, b))
        targets.append(s[t])
        weights.append(recency_weights(t, half_life))
    return (
        np.concatenate(flat),
        np.concatenate(owner),
        np.asarray(targets),
        np.concatenate(weights),
    )


def train_tuned_space(
    base: np.ndarray,
    sequences: Sequence[np.ndarray],
    texts: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    config: TuningConfig = TuningConfig(),
    *,
    progress: Callable[[int, int, float], None] | None = None,
) -> TunedSpace:
    """base: (films, d) normalised text vectors; sequences: per user, the film rows they liked
    in time order (training likes only); texts: (user's text vector, film rows they liked)
    for dialogue users. Seeded: the same inputs give the same space on the same machine."""
    import torch  # imported here: the rest of the platform never pays for it

    F = torch.nn.functional
    # The same inputs give bit-identical vectors in any process (a step worker, the CLI, a
    # test): a fixed thread count, and deterministic kernels (with two threads the CPU
    # scatter-adds otherwise sum in the order the threads finish: ~1e-6 apart, run to run).
    # warn_only: on CUDA an op without a deterministic kernel warns instead of failing.
    threads = torch.get_num_threads()
    deterministic = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.set_num_threads(TRAIN_THREADS)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        return _train(torch, F, base, sequences, texts, config, progress)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic[0], warn_only=deterministic[1])


def _train(torch, F, base, sequences, texts, config, progress) -> TunedSpace:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    n, d = base.shape
    x = torch.tensor(np.asarray(base, np.float32), device=device)
    warm = np.zeros(n, bool)
    for s in sequences:
        warm[s] = True
    for _, liked in texts:
        warm[liked] = True
    warm_t = torch.tensor(warm, device=device)
    likes = int(sum(len(s) for s in sequences))
    # a history needs one like and a next one needs another
    sequences = [np.asarray(s, np.int64) for s in sequences if len(s) >= 2]
    texts = [(t, np.asarray(liked, np.int64)) for t, liked in texts if len(liked)]
    w = torch.nn.Parameter(torch.randn(d, config.dim, device=device) / d**0.5)
    t_w = torch.nn.Parameter(w.detach().clone())
    ids = torch.nn.Parameter(torch.zeros(n, config.dim, device=device))
    opt = torch.optim.Adam([w, t_w, ids], lr=config.learning_rate)
    text_x = (
        torch.tensor(np.stack([t for t, _ in texts]).astype(np.float32), device=device)
        if texts
        else None
    )
    users = len(sequences) + len(texts)
    # At least MIN_STEPS (a small build still learns something), at most max_steps.
    wanted = max(np.ceil(config.epochs * users / config.batch), MIN_STEPS)
    steps = int(min(config.max_steps, wanted))
    if not sequences:
        steps = 0
    losses, started = [], time.perf_counter()
    for step in range(steps):
        keep = warm_t & (torch.rand(n, device=device) >= config.id_dropout)
        films = F.normalize(x @ w + ids * keep[:, None], dim=1)
        picked = rng.integers(0, len(sequences), config.batch)
        flat, owner, targets, weights = (
            torch.tensor(a, device=device)
            for a in _batch(sequences, picked, rng, config.last_share, config.half_life)
        )
        history = torch.zeros(config.batch, config.dim, device=device).index_add_(
            0, owner, films[flat] * weights[:, None]
        )
        logits = F.normalize(history, dim=1) @ films.T / config.temperature
        # films already in the history are never the answer (evaluation excludes them too)
        logits = logits.index_put((owner, flat), torch.tensor(-1e9, device=device))
        loss = F.cross_entropy(logits, targets)
        if text_x is not None:
            pick = rng.integers(0, len(texts), min(config.batch, len(texts)))
            target = torch.tensor(
                [texts[i][1][rng.integers(0, len(texts[i][1]))] for i in pick], device=device
            )
            query = F.normalize(text_x[torch.tensor(pick, device=device)] @ t_w, dim=1)
            # The words are fitted to the film space, never the films to the words: the
            # text loss reaches T only (it cost rating users HR@10 when it moved the films).
            loss = loss + F.cross_entropy(query @ films.detach().T / config.temperature, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if progress and (step % 100 == 0 or step == steps - 1):
            progress(step + 1, steps, losses[-1])
    with torch.no_grad():
        film_vectors = F.normalize(x @ w + ids * warm_t[:, None], dim=1).cpu().numpy()
    return TunedSpace(
        film_vectors=film_vectors,
        film_adapter=w.detach().cpu().numpy(),
        text_adapter=t_w.detach().cpu().numpy(),
        warm=warm,
        report={
            "steps": steps,
            "seconds": round(time.perf_counter() - started, 2),
            "device": device,
            "first_loss": round(losses[0], 4) if losses else None,
            "last_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
            "users": len(sequences),
            "text_users": len(texts),
            "likes": likes,
            "warm_films": int(warm.sum()),
            "cold_films": int(n - warm.sum()),
        },
    )
