"""A real HTTP server on 127.0.0.1 that speaks OpenAI's `POST /v1/chat/completions`.

By default it answers like a well-behaved model asked for keyphrases: 12 phrases of 2-4
words built from the film text in the request (genres, keywords, plot words), so the answer
is grounded and deterministic. Scripted replies for the next requests test the client:
"invalid_json", "too_few", "too_long", "duplicates", "fenced" (valid JSON in ``` fences),
an HTTP status (429 with Retry-After, 500, ...), "reset" (connection dropped) or "slow".
Every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.fakes import LocalService, send_json

_STOP = {"the", "a", "an", "of", "and", "to", "in", "his", "her", "their", "with", "for", "on"}


def grounded_phrases(film_text: str, n: int = 12) -> list[str]:
    """Phrases from the film's own text: genres, keywords, then plot word pairs."""

    def field_values(label: str) -> list[str]:
        m = re.search(rf"{label}: ([^.]*)\.", film_text)
        return [v.strip().lower() for v in m.group(1).split(",")] if m else []

    phrases = [f"{g} mood" for g in field_values("Genres")]
    phrases += [f"{k} theme" for k in field_values("Keywords") if 1 <= len(k.split()) <= 3]
    plot = re.search(r"Plot: (.*?)(?: Keywords:|$)", film_text)
    words = [w for w in re.findall(r"[a-z]+", (plot.group(1) if plot else "").lower())]
    words = [w for w in words if w not in _STOP and len(w) > 2]
    phrases += [f"{a} {b}" for a, b in zip(words[::2], words[1::2], strict=False)]
    title = re.search(r"Title: (.*?)(?: \(\d{4}\))?\.", film_text)
    title_words = (title.group(1).lower().split() if title else [])[:2] or ["this"]
    filler = ["memorable characters", "strong atmosphere", "evening watch", "emotional core"]
    filler += [f"{' '.join(title_words)} vibe {i}" for i in range(n)]
    out: list[str] = []
    for p in phrases + filler:
        p = " ".join(p.split()[:4])
        if 2 <= len(p.split()) <= 4 and len(p) <= 48 and p not in out:
            out.append(p)
        if len(out) == n:
            break
    return out


@dataclass
class ChatRequest:
    model: str
    messages: list[dict]
    temperature: float | None


@dataclass
class FakeChat(LocalService):
    path_prefix = "/v1"

    api_key: str = "sk-test-fake-chat-key"
    script: list = field(default_factory=list)  # replies for the next requests, in order
    fail_every: int = 0  # >0: every n-th request fails (cycling 429, 500, reset, slow)
    slow_seconds: float = 1.5
    requests: list[ChatRequest] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    def _answer(self, h, content: str, model: str) -> None:
        send_json(
            h,
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            },
        )

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("Content-Length", 0))) or b"{}")
        if h.path.rstrip("/") != "/v1/chat/completions":
            return send_json(h, 404, {"error": {"message": "not found"}})
        if h.headers.get("Authorization") != f"Bearer {self.api_key}":
            return send_json(h, 401, {"error": {"message": "Incorrect API key provided"}})
        with self._lock:
            self.attempts += 1
            step = self.script.pop(0) if self.script else None
            if step is None and self.fail_every and self.attempts % self.fail_every == 0:
                step = (429, 500, "reset", "slow")[(self.attempts // self.fail_every) % 4]
        if step == 429:
            return send_json(
                h, 429, {"error": {"message": "Rate limit reached"}}, {"retry-after-ms": "30"}
            )
        if isinstance(step, int):
            return send_json(h, step, {"error": {"message": "The server had an error"}})
        if step == "reset":
            h.close_connection = True
            h.connection.close()  # no answer at all: the client sees a dropped connection
            return None
        if step == "slow":
            time.sleep(self.slow_seconds)
        with self._lock:
            self.requests.append(
                ChatRequest(body.get("model"), body.get("messages"), body.get("temperature"))
            )
        film_text = next(
            (m["content"] for m in body.get("messages", []) if m["role"] == "user"), ""
        )
        phrases = grounded_phrases(film_text)
        content = {
            "invalid_json": '{"keyphrases": ["dark mood", ',
            "too_few": json.dumps({"keyphrases": phrases[:3]}),
            "too_long": json.dumps(
                {"keyphrases": [*phrases[:11], "a phrase that is much too long to use"]}
            ),
            "duplicates": json.dumps({"keyphrases": [*phrases[:11], phrases[0].upper()]}),
            "fenced": "```json\n" + json.dumps({"keyphrases": phrases}) + "\n```",
        }.get(step, json.dumps({"keyphrases": phrases}))
        self._answer(h, content, body.get("model", "fake"))
