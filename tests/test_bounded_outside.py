"""Every answer from outside is bounded: a total deadline per request, a cap on decoded
bytes, redirects only where they were sent, and errors that name the endpoint and the
setting. Hostile servers here are real HTTP servers on 127.0.0.1 that write raw bytes:
they trickle, lie about lengths, inflate gzip a thousandfold and redirect elsewhere."""

from __future__ import annotations

import gzip
import io
import json
import time
import zipfile

import pytest
import requests

from reelreason.download import RawDataError, RawFetcher, extract_member, stream_download
from reelreason.http_limits import redirect_allowed
from reelreason.sources import RawFile
from tests.fakes import serve, stop


def _write(h, head: str, parts=(), pause: float = 0.0) -> None:
    """Answer with a raw status line and headers, then the body in `parts`, pausing between."""
    if h.command == "POST":
        h.rfile.read(int(h.headers.get("Content-Length") or 0))
    try:
        h.wfile.write(head.replace("\n", "\r\n").encode() + b"\r\n")
        for part in parts:
            h.wfile.write(part)
            h.wfile.flush()
            if pause:
                time.sleep(pause)
    except (BrokenPipeError, ConnectionResetError, OSError):
        pass  # the client gave up: that is the point


@pytest.fixture
def server():
    """`server(handle)` starts one; all are stopped at the end."""
    started = []

    def start(handle):
        s = serve(handle)
        s.handle_error = lambda request, address: None  # clients hang up here on purpose
        started.append(s)
        return f"http://127.0.0.1:{s.server_address[1]}"

    yield start
    for s in started:
        stop(s)


def trickle(h, total: int = 200, pause: float = 0.2):
    _write(
        h,
        f"HTTP/1.1 200 OK\nContent-Length: {total}\nContent-Type: application/json\n",
        [b" "] * total,
        pause,
    )


# --- downloads -------------------------------------------------------------------------------


def test_a_mirror_that_gzips_legitimately_still_works(server, tmp_path):
    data = b"1::Toy Story (1995)::Animation|Children's|Comedy\n" * 2000
    wire = gzip.compress(data)
    base = server(
        lambda h: _write(
            h, f"HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: {len(wire)}\n", [wire]
        )
    )
    n, sha = stream_download(requests.Session(), f"{base}/movies.dat", tmp_path / "m", attempts=1)
    assert (tmp_path / "m").read_bytes() == data and n == len(data)


def test_a_gzip_bomb_is_refused_at_the_cap_and_leaves_nothing(server, tmp_path):
    bomb = gzip.compress(b"\0" * (64 << 20))  # ~64 KB on the wire, 64 MB decoded
    base = server(
        lambda h: _write(
            h, f"HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: {len(bomb)}\n", [bomb]
        )
    )
    rf = RawFile("ccpe/data.json", url=f"{base}/data.json")
    fetcher = RawFetcher(tmp_path / "cache", attempts=1, max_bytes=1 << 20)
    with pytest.raises(RawDataError, match=r"over\s+the cap, REELREASON_DOWNLOAD_MAX_MB"):
        fetcher.fetch("ccpe", rf)
    # nothing in the cache and no checksum recorded as the reference for later downloads
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_a_declared_size_over_the_cap_is_refused_before_reading(server, tmp_path):
    base = server(lambda h: _write(h, f"HTTP/1.1 200 OK\nContent-Length: {2 << 30}\n", [b"x"]))
    with pytest.raises(RawDataError, match=r"declares 2,147,483,648 bytes"):
        stream_download(
            requests.Session(), f"{base}/big", tmp_path / "b", attempts=1, max_bytes=1 << 20
        )
    assert not (tmp_path / "b").exists()


def test_a_trickling_download_is_cut_at_its_deadline(server, tmp_path):
    base = server(trickle)
    started = time.monotonic()
    with pytest.raises(RawDataError, match=r"within 1 s .*REELREASON_DOWNLOAD_DEADLINE_S"):
        stream_download(
            requests.Session(), f"{base}/slow", tmp_path / "s", attempts=1, deadline=1.0
        )
    assert time.monotonic() - started < 10  # the whole body would take 40 s


def _redirect_to(location: str):
    return lambda h: _write(h, f"HTTP/1.1 302 Found\nLocation: {location}\nContent-Length: 0\n")


def test_redirects_stay_on_the_host_and_under_the_folder(server, tmp_path):
    elsewhere = server(lambda h: _write(h, "HTTP/1.1 200 OK\nContent-Length: 6\n", [b"secret"]))
    good = b"1::2\n"

    def mirror(h):
        if h.path == "/mirror/a/inside.dat":
            _write(h, f"HTTP/1.1 200 OK\nContent-Length: {len(good)}\n", [good])
        elif h.path == "/mirror/a/moved.dat":
            _redirect_to("/mirror/a/inside.dat")(h)
        elif h.path == "/mirror/a/up.dat":
            _redirect_to("/private/keys.dat")(h)
        else:
            _redirect_to(f"{elsewhere}/steal")(h)

    base = server(mirror)
    get = requests.Session()
    n, _ = stream_download(get, f"{base}/mirror/a/moved.dat", tmp_path / "ok", attempts=1)
    assert (tmp_path / "ok").read_bytes() == good
    for path, outside in (("up.dat", "/private/keys.dat"), ("away.dat", f"{elsewhere}/steal")):
        with pytest.raises(RawDataError, match=rf"redirected to .*{outside}, outside the allowed"):
            stream_download(get, f"{base}/mirror/a/{path}", tmp_path / path, attempts=1)
        assert not (tmp_path / path).exists()


def test_redirect_rules():
    allowed = ("https://github.com/o/r/raw/data/f.zip", "https://raw.githubusercontent.com/o/r/")
    assert redirect_allowed("https://github.com/o/r/raw/data/g.zip", allowed)
    assert redirect_allowed("https://raw.githubusercontent.com/o/r/data/f.zip", allowed)
    assert not redirect_allowed("http://github.com/o/r/raw/data/f.zip", allowed)  # downgrade
    assert not redirect_allowed("https://github.com/o/other/f.zip", allowed)
    assert not redirect_allowed("https://github.com.evil.net/o/r/raw/data/f.zip", allowed)
    assert not redirect_allowed("https://github.com:444/o/r/raw/data/f.zip", allowed)
    assert not redirect_allowed("https://raw.githubusercontent.com/o/r2/f", allowed)


def test_a_zip_member_over_the_cap_is_refused_and_leaves_nothing(tmp_path):
    archive = tmp_path / "a.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.dat", b"a" * (3 << 20))
    archive.write_bytes(buf.getvalue())
    dest = tmp_path / "out" / "big.dat"
    with pytest.raises(RawDataError, match="REELREASON_DOWNLOAD_MAX_MB"):
        extract_member(archive, "big.dat", dest, max_bytes=1 << 20)
    assert not dest.exists() and list(dest.parent.glob("*")) == []
    extract_member(archive, "big.dat", dest, max_bytes=4 << 20)  # under the cap: fine
    assert dest.stat().st_size == 3 << 20


# --- TMDB --------------------------------------------------------------------------------------


def _tmdb(base, **kw):
    from reelreason.tmdb import TmdbClient

    kw.setdefault("max_attempts", 1)
    return TmdbClient(base_url=base, api_key="k-secret-123", timeout=1.0, backoff=0.01, **kw)


def test_a_trickling_tmdb_answer_is_cut_at_its_deadline_naming_the_endpoint(server):
    from reelreason.tmdb import TmdbError, movie_details

    base = server(trickle)
    started = time.monotonic()
    with pytest.raises(TmdbError, match=r"TMDB /movie/862\?.*REELREASON_TMDB_DEADLINE_S") as err:
        _tmdb(base, deadline=1.0, max_attempts=2).get(movie_details(862))
    assert time.monotonic() - started < 10  # two attempts of 1 s, not 2 x 40 s
    assert "k-secret-123" not in str(err.value)


def test_a_huge_tmdb_answer_is_refused_without_being_read(server):
    from reelreason.tmdb import TmdbError, movie_details

    sent = []

    def huge(h):  # declares 2 GiB, would stream it if read
        sent.append(1)
        _write(h, f"HTTP/1.1 200 OK\nContent-Length: {2 << 30}\n", [b"{" * 65536] * 200)

    base = server(huge)
    with pytest.raises(TmdbError, match=r"declares 2,147,483,648 bytes.*MAX_RESPONSE_MB"):
        _tmdb(base, max_attempts=3).get(movie_details(862))
    assert len(sent) == 1  # refused once, never retried

    chunked = server(  # no length declared: cut at the cap while reading
        lambda h: _write(
            h,
            "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n",
            [b"10000\r\n" + b" " * 65536 + b"\r\n"] * 64 + [b"0\r\n\r\n"],
        )
    )
    with pytest.raises(TmdbError, match=r"passed 1,048,576 decoded bytes"):
        _tmdb(chunked, max_bytes=1 << 20).get(movie_details(862))


def test_a_tmdb_redirect_is_not_followed(server):
    from reelreason.tmdb import TmdbError, movie_details

    hits = []
    elsewhere = server(lambda h: (hits.append(h.path), _write(h, "HTTP/1.1 200 OK\n")))
    base = server(_redirect_to(f"{elsewhere}/collect"))
    with pytest.raises(TmdbError, match="redirect to .*/collect.*not followed"):
        _tmdb(base).get(movie_details(862))
    assert hits == []  # the key never went there


def test_a_gzipped_tmdb_answer_is_read(server):
    from reelreason.tmdb import movie_details

    body = gzip.compress(json.dumps({"id": 862, "title": "Toy Story"}).encode())
    base = server(
        lambda h: _write(
            h, f"HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: {len(body)}\n", [body]
        )
    )
    assert _tmdb(base).get(movie_details(862)).body["title"] == "Toy Story"


# --- OpenAI-compatible endpoints (through the openai SDK) ----------------------------------------


def _embeddings_answer(n: int, dim: int = 4) -> bytes:
    data = [
        {"object": "embedding", "index": i, "embedding": [1.0] + [0.0] * (dim - 1)}
        for i in range(n)
    ]
    return json.dumps(
        {
            "object": "list",
            "model": "m",
            "data": data,
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
    ).encode()


def _backend(base, **kw):
    from reelreason.embeddings import OpenAIBackend

    return OpenAIBackend(
        api_key="sk-test-secret",
        base_url=f"{base}/v1",
        model="m",
        dimensions=4,
        max_retries=1,
        timeout=1.0,
        **kw,
    )


def test_a_trickling_embeddings_answer_is_cut_at_its_deadline(server):
    base = server(trickle)
    started = time.monotonic()
    with pytest.raises(
        Exception,
        match=r"embeddings m POST .*/v1/embeddings: no complete "
        r"answer within 1 s .*REELREASON_OPENAI_DEADLINE_S",
    ):
        _backend(base, deadline=1.0).embed(["a text"])
    assert time.monotonic() - started < 10


def test_an_oversized_embeddings_answer_is_refused(server):
    body = _embeddings_answer(2)
    calls = []

    def gzipped_bomb(h):
        calls.append(1)
        bomb = gzip.compress(body + b" " * (32 << 20))
        _write(
            h,
            f"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Encoding: gzip\n"
            f"Content-Length: {len(bomb)}\n",
            [bomb],
        )

    base = server(gzipped_bomb)
    with pytest.raises(Exception, match=r"passed 1,048,576 decoded bytes.*OPENAI_MAX_RESPONSE_MB"):
        _backend(base, max_response_bytes=1 << 20).embed(["a", "b"])
    assert len(calls) == 1  # a refusal is not retried


def test_a_gzipped_embeddings_answer_is_read(server):
    body = gzip.compress(_embeddings_answer(2))
    base = server(
        lambda h: _write(
            h,
            f"HTTP/1.1 200 OK\nContent-Type: application/json\n"
            f"Content-Encoding: gzip\nContent-Length: {len(body)}\n",
            [body],
        )
    )
    vectors = _backend(base).embed(["a", "b"])
    assert vectors.shape == (2, 4) and vectors[0, 0] == pytest.approx(1.0)


def test_a_trickling_chat_answer_is_cut_at_its_deadline(server):
    from reelreason.keyphrases import ChatClient

    base = server(trickle)
    client = ChatClient(
        model="c", api_key="k", base_url=f"{base}/v1", timeout=1.0, max_retries=0, deadline=1.0
    )
    with pytest.raises(Exception, match=r"chat model c POST .*/v1/chat/completions: no complete"):
        client.complete([{"role": "user", "content": "hi"}])
