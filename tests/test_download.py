"""The raw layer against a real HTTP server on 127.0.0.1 (pytest-httpserver)."""

import hashlib
import io
import zipfile

import pytest
import requests
from werkzeug import Response

from reelreason.download import RawDataError, RawFetcher, extract_member, stream_download
from reelreason.sources import Archive, Dataset, RawFile


def fetcher(tmp_path, **kw):
    kw.setdefault("backoff", 0.01)
    return RawFetcher(tmp_path / "cache", **kw)


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_download_is_cached_and_verified_on_reuse(httpserver, tmp_path):
    httpserver.expect_request("/movies.dat").respond_with_data(b"1::A (1995)::Drama\n")
    rf = RawFile("movietweetings/movies.dat", url=httpserver.url_for("/movies.dat"))
    first = fetcher(tmp_path).fetch("movietweetings", rf)
    assert first.origin == "download" and first.checksum_status == "recorded"
    assert first.sha256 == hashlib.sha256(b"1::A (1995)::Drama\n").hexdigest()
    second = fetcher(tmp_path).fetch("movietweetings", rf)
    assert second.origin == "cache" and second.sha256 == first.sha256
    assert len(httpserver.log) == 1  # fetched once


def test_corrupted_cache_entry_is_fetched_again(httpserver, tmp_path):
    httpserver.expect_request("/u.dat").respond_with_data(b"1::2\n")
    rf = RawFile("movietweetings/users.dat", url=httpserver.url_for("/u.dat"))
    rec = fetcher(tmp_path).fetch("movietweetings", rf)
    with open(rec.local_path, "ab") as f:
        f.write(b"garbage")
    f2 = fetcher(tmp_path)
    again = f2.fetch("movietweetings", rf)
    assert again.origin == "download" and open(again.local_path, "rb").read() == b"1::2\n"
    assert any("corrupted" in w for w in f2.warnings)


def test_checksum_mismatch_is_an_error_and_leaves_nothing(httpserver, tmp_path):
    httpserver.expect_request("/data.json").respond_with_data(b"[]")
    rf = RawFile("ccpe/data.json", url=httpserver.url_for("/data.json"), sha256="0" * 64)
    with pytest.raises(RawDataError, match=r"Checksum mismatch for http://.*/data.json: sha256"):
        fetcher(tmp_path).fetch("ccpe", rf)
    assert list((tmp_path / "cache").rglob("*")) == [tmp_path / "cache" / "ccpe"]


def test_recorded_checksum_catches_a_changed_upstream(httpserver, tmp_path):
    httpserver.expect_request("/d.json").respond_with_data(b"[1]")
    rf = RawFile("ccpe/data.json", url=httpserver.url_for("/d.json"))
    rec = fetcher(tmp_path).fetch("ccpe", rf)
    (tmp_path / "cache" / "ccpe" / "data.json").unlink()  # force a re-download
    httpserver.clear()
    httpserver.expect_request("/d.json").respond_with_data(b"[2]")
    with pytest.raises(RawDataError, match="Checksum mismatch"):
        fetcher(tmp_path).fetch("ccpe", rf)
    assert rec.checksum_status == "recorded"


def test_retries_5xx_and_429_then_succeeds(httpserver, tmp_path):
    httpserver.expect_ordered_request("/r").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/r").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "0"})
    )
    httpserver.expect_ordered_request("/r").respond_with_data(b"ok\n")
    n, sha = stream_download(
        requests.Session(), httpserver.url_for("/r"), tmp_path / "r", attempts=4, backoff=0.01
    )
    assert (tmp_path / "r").read_bytes() == b"ok\n" and n == 3
    assert len(httpserver.log) == 3


def test_404_fails_at_once_with_the_url(httpserver, tmp_path):
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    with pytest.raises(RawDataError, match=r"/gone failed with HTTP 404"):
        stream_download(
            requests.Session(), httpserver.url_for("/gone"), tmp_path / "g", backoff=0.01
        )
    assert len(httpserver.log) == 1


def test_zip_archive_md5_verified_and_members_extracted(httpserver, tmp_path):
    blob = make_zip({"ml-1m/movies.dat": b"1::Toy Story (1995)::Animation\n"})
    httpserver.expect_request("/ml-1m.zip").respond_with_data(blob)
    archive = Archive(
        "ml-1m.zip", httpserver.url_for("/ml-1m.zip"), md5=hashlib.md5(blob).hexdigest()
    )
    ds = Dataset(
        "movielens",
        "ML",
        "test",
        (RawFile("movielens/ml-1m/movies.dat", archive=archive, member="ml-1m/movies.dat"),),
    )
    (rec,) = fetcher(tmp_path).fetch_dataset(ds)
    assert rec.checksum_status == "verified"
    assert open(rec.local_path, "rb").read() == b"1::Toy Story (1995)::Animation\n"


def test_zip_md5_mismatch_is_an_error(httpserver, tmp_path):
    httpserver.expect_request("/ml-1m.zip").respond_with_data(make_zip({"a": b"x"}))
    archive = Archive(
        "ml-1m.zip", httpserver.url_for("/ml-1m.zip"), md5="c4d9eecfca2ab87c1945afe126590906"
    )
    rf = RawFile("movielens/ml-1m/movies.dat", archive=archive, member="ml-1m/movies.dat")
    with pytest.raises(RawDataError, match="MD5 .* but pinned c4d9eecfca2ab87c1945afe126590906"):
        fetcher(tmp_path).fetch("movielens", rf)


def test_truncated_zip_names_the_archive(httpserver, tmp_path):
    blob = make_zip({"train_data.jsonl": b'{"a": 1}\n' * 1000})
    httpserver.expect_request("/redial.zip").respond_with_data(blob[: len(blob) // 2])
    archive = Archive("redial_dataset.zip", httpserver.url_for("/redial.zip"))
    rf = RawFile("redial/train_data.jsonl", archive=archive, member="train_data.jsonl")
    with pytest.raises(
        RawDataError, match=r"redial_dataset.zip is not a readable zip archive .*truncated"
    ):
        fetcher(tmp_path).fetch("redial", rf)


def test_zip_member_with_path_traversal_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(make_zip({"../../etc/evil": b"x"}))
    with pytest.raises(RawDataError, match="unsafe path"):
        extract_member(archive, "../../etc/evil", tmp_path / "out" / "evil")


def test_user_file_mismatching_its_pin_is_only_a_warning(tmp_path):
    raw = tmp_path / "raw"
    (raw / "ccpe").mkdir(parents=True)
    (raw / "ccpe" / "data.json").write_bytes(b"[]")
    f = fetcher(tmp_path, raw_dir=raw, offline=True)
    rec = f.fetch("ccpe", RawFile("ccpe/data.json", url="http://x/data.json", sha256="0" * 64))
    assert rec.origin == "user" and rec.checksum_status == "mismatch_user"
    assert "differs from the pinned" in f.warnings[0]


def test_offline_missing_file_says_where_to_put_it(tmp_path):
    f = fetcher(tmp_path, raw_dir=tmp_path, offline=True)
    rf = RawFile("ccpe/data.json", url="https://storage.example/data.json")
    with pytest.raises(RawDataError) as err:
        f.fetch("ccpe", rf)
    msg = str(err.value)
    assert "Missing raw file ccpe/data.json" in msg
    assert "https://storage.example/data.json" in msg
    assert f"put it at {tmp_path}/ccpe/data.json" in msg


def test_unreachable_server_is_a_clear_error_after_retries(tmp_path):
    rf = RawFile("ccpe/data.json", url="http://127.0.0.1:9/data.json")  # discard port: refused
    with pytest.raises(
        RawDataError, match=r"could not be downloaded from http://127.0.0.1:9/data.json"
    ):
        fetcher(tmp_path, attempts=2).fetch("ccpe", rf)


def test_optional_file_absent_is_recorded_not_fatal(tmp_path):
    f = fetcher(tmp_path, raw_dir=tmp_path, offline=True)
    rec = f.fetch(
        "redial", RawFile("redial/movies_with_mentions.csv", url="http://x/m.csv", required=False)
    )
    assert rec.origin == "absent" and rec.checksum_status == "absent"


def test_a_file_without_a_download_is_asked_for_by_path(tmp_path):
    rf = RawFile("letterboxd/diary.csv", url=None)
    with pytest.raises(
        RawDataError, match=r"it has no public download.*put it at .*letterboxd/diary.csv"
    ):
        fetcher(tmp_path, raw_dir=tmp_path / "raw").fetch("letterboxd", rf)
