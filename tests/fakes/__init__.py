"""Local stand-ins for outside services (TMDB, OpenAI-compatible embeddings): real HTTP
servers on 127.0.0.1 for tests, benchmarks and recording the sample's answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handle: Callable[[BaseHTTPRequestHandler], None]) -> ThreadingHTTPServer:
    """Start a threaded HTTP/1.1 server on a free port that passes GET and POST to `handle`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate small writes: without TCP_NODELAY, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every keep-alive request.
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 - http.server API
            handle(self)

        def do_POST(self):  # noqa: N802 - http.server API
            handle(self)

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class LocalService:
    """Lifecycle shared by the fake services: `with Fake() as s:` serves `s._handle` on a
    free 127.0.0.1 port; `base_url` is that address plus the API's path prefix."""

    path_prefix = ""
    _server: ThreadingHTTPServer | None = None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._server = serve(self._handle)
        return self

    def __exit__(self, *exc) -> None:
        stop(self._server)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path_prefix}"


def send_json(h: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None):
    """Answer with a JSON body; a client that already hung up (timeout) gets nothing."""
    data = json.dumps(body).encode()
    try:
        h.send_response(status)
        h.send_header("Content-Type", "application/json;charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
