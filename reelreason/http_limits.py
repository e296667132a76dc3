"""Bounds on every answer from outside: a total deadline per request, a size cap, and
redirects that stay where they were sent.

Per-read timeouts (requests', httpx's) let a server that sends one byte every few seconds
hold a request open for ever, and nothing stopped an answer declaring 2 GiB, or a gzip body
that inflates a thousandfold, from being read into memory or onto disk. Here an answer is
read one socket read at a time: between reads the request's total deadline and the bytes
*decoded* so far are checked, and compressed bodies are inflated by our own bounded decoder
(never by the HTTP library, which would inflate before we could count). Errors name the
endpoint and the setting that bounds it.

The deadline is checked once the headers are in and between body reads, so a body can
overshoot it by at most one per-read timeout. Headers themselves are bounded only by the
per-read timeout of each socket read: the HTTP libraries do not expose the socket earlier.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

# What we can inflate with a bound; anything else is refused rather than trusted.
ACCEPT_ENCODING = "gzip, deflate"
READ_PIECE = 64 << 10  # one socket read at most; a trickle returns far less
# OpenAI-compatible endpoints (embeddings, chat). The largest legitimate answer is 2,048
# vectors of 3,072 floats written as JSON text, ~130 MB; a batch may take minutes.
OPENAI_DEADLINE_S = 300.0
OPENAI_MAX_RESPONSE_MB = 256


class AnswerRefused(RuntimeError):
    """An outside answer broke a bound (deadline, size, redirect, encoding)."""


class DeadlineExceeded(AnswerRefused):
    pass


class AnswerTooLarge(AnswerRefused):
    pass


class RedirectRefused(AnswerRefused):
    pass


@dataclass(frozen=True)
class Limits:
    """`deadline_s`: seconds a request may take, checked from its start once the headers are
    in and between body reads; `max_bytes`: the
    largest decoded body accepted. `deadline_setting`/`size_setting` name the knobs in
    errors so an operator knows what to raise."""

    deadline_s: float
    max_bytes: int
    deadline_setting: str = ""
    size_setting: str = ""

    def check_deadline(self, where: str, started: float) -> None:
        elapsed = time.monotonic() - started
        if elapsed > self.deadline_s:
            raise DeadlineExceeded(
                f"{where}: no complete answer within {self.deadline_s:g} s (total deadline per "
                f"request{_knob(self.deadline_setting)}); the server is too slow or trickling"
            )

    def check_declared(self, where: str, content_length: str | None) -> None:
        """Refuse before reading when the declared length is already over the cap."""
        if content_length is None:
            return
        try:
            declared = int(content_length)
        except ValueError:
            return  # a malformed header proves nothing; the body is still counted
        if declared > self.max_bytes:
            raise AnswerTooLarge(
                f"{where}: the answer declares {declared:,} bytes, over the cap of "
                f"{self.max_bytes:,}{_knob(self.size_setting)}; nothing was read"
            )

    def too_large(self, where: str, got: int) -> AnswerTooLarge:
        return AnswerTooLarge(
            f"{where}: the answer passed {self.max_bytes:,} decoded bytes (read {got:,}), over "
            f"the cap{_knob(self.size_setting)}; reading stopped there"
        )


def _knob(setting: str) -> str:
    return f", {setting}" if setting else ""


class BoundedDecoder:
    """Inflates gzip/deflate (or passes identity) without ever producing more than the cap:
    zlib's `max_length` bounds each step, so a bomb stops at the cap, not after."""

    def __init__(self, content_encoding: str | None, where: str, limits: Limits):
        encoding = (content_encoding or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise AnswerRefused(
                f"{where}: the answer uses Content-Encoding {encoding!r}; only "
                f"{ACCEPT_ENCODING} are accepted (we asked for those)"
            )
        # wbits 47: a zlib or a gzip header, detected (HTTP's deflate is zlib-wrapped).
        self._inflate = None if encoding == "identity" else zlib.decompressobj(47)
        self.where, self.limits = where, limits
        self.decoded = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inflate is None:
            self._count(len(data))
            yield data
            return
        try:
            while data:
                room = self.limits.max_bytes - self.decoded + 1
                out = self._inflate.decompress(data, room)
                self._count(len(out))
                if out:
                    yield out
                data = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise AnswerRefused(f"{self.where}: the compressed answer is corrupt ({exc})") from None

    def finish(self) -> Iterator[bytes]:
        if self._inflate is not None:
            out = self._inflate.flush()
            self._count(len(out))
            if out:
                yield out

    def _count(self, n: int) -> None:
        self.decoded += n
        if self.decoded > self.limits.max_bytes:
            raise self.limits.too_large(self.where, self.decoded)


def iter_requests_body(resp, where: str, limits: Limits, started: float) -> Iterator[bytes]:
    """The decoded body of a `requests` response opened with `stream=True`, within `limits`.
    `resp.raw.tell()` then counts the bytes received, which is what Content-Length counts."""
    limits.check_declared(where, resp.headers.get("Content-Length"))
    decoder = BoundedDecoder(resp.headers.get("Content-Encoding"), where, limits)
    while True:
        limits.check_deadline(where, started)
        piece = resp.raw.read1(READ_PIECE, decode_content=False)
        if not piece:
            break
        yield from decoder.feed(piece)
    yield from decoder.finish()


def read_requests_body(resp, where: str, limits: Limits, started: float) -> bytes:
    return b"".join(iter_requests_body(resp, where, limits, started))


# --- redirects -------------------------------------------------------------------------------


def redirect_allowed(target: str, allowed_prefixes: tuple[str, ...]) -> bool:
    """True when `target` lies under one of `allowed_prefixes` (scheme, host and port equal,
    path under the prefix's path at a '/' boundary): never a scheme downgrade or another host."""
    t = urlsplit(target)
    for prefix in allowed_prefixes:
        p = urlsplit(prefix)
        if (t.scheme, t.hostname, t.port) != (p.scheme, p.hostname, p.port):
            continue
        base = p.path if p.path.endswith("/") else p.path.rsplit("/", 1)[0] + "/"
        if t.path.startswith(base) or t.path == p.path:
            return True
    return False


# --- httpx2 (the openai SDK's HTTP client) ------------------------------------------------------

_openai_errors: dict[str, type] = {}


def _openai_error(kind: type[AnswerRefused]) -> type:
    """Our refusal as an `openai.OpenAIError` too: the SDK re-raises those as they are,
    where it would retry anything else and then hide the reason behind "Connection error"."""
    if kind.__name__ not in _openai_errors:
        import openai

        _openai_errors[kind.__name__] = type(kind.__name__, (kind, openai.OpenAIError), {})
    return _openai_errors[kind.__name__]


def _reraise_for_openai(exc: AnswerRefused):
    raise _openai_error(type(exc))(str(exc)) from None


def bounded_openai_http_client(deadline: float, max_bytes: int, timeout: float, what: str):
    """An `httpx2.Client` for the openai SDK whose answers are read within `deadline` seconds
    and `max_bytes` decoded bytes (REELREASON_OPENAI_DEADLINE_S / _MAX_RESPONSE_MB), never
    following redirects (the SDK's default client follows them, key included)."""
    import httpx2

    limits = Limits(
        deadline, max_bytes, "REELREASON_OPENAI_DEADLINE_S", "REELREASON_OPENAI_MAX_RESPONSE_MB"
    )

    class _LimitedStream(httpx2.SyncByteStream):
        def __init__(self, inner, decoder: BoundedDecoder, where: str, started: float):
            self.inner, self.decoder, self.where, self.started = inner, decoder, where, started

        def __iter__(self):
            try:
                for piece in self.inner:
                    limits.check_deadline(self.where, self.started)
                    yield from self.decoder.feed(piece)
                yield from self.decoder.finish()
            except AnswerRefused as exc:
                _reraise_for_openai(exc)

        def close(self) -> None:
            self.inner.close()

    class _LimitedTransport(httpx2.HTTPTransport):
        def handle_request(self, request):
            started = time.monotonic()
            where = f"{what} {request.method} {request.url.copy_with(query=None)}"
            request.headers["Accept-Encoding"] = ACCEPT_ENCODING
            response = super().handle_request(request)
            try:
                limits.check_deadline(where, started)
                limits.check_declared(where, response.headers.get("Content-Length"))
                decoder = BoundedDecoder(response.headers.get("Content-Encoding"), where, limits)
            except AnswerRefused as exc:
                response.close()
                _reraise_for_openai(exc)
            headers = [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length")
            ]  # we hand over the inflated body: httpx must not inflate it again
            return httpx2.Response(
                response.status_code,
                headers=headers,
                stream=_LimitedStream(response.stream, decoder, where, started),
                extensions=response.extensions,
                request=request,
            )

    return httpx2.Client(transport=_LimitedTransport(), timeout=timeout, follow_redirects=False)
