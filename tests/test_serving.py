"""The serving bundle: written per build and space, loaded in one call, answered from by the
CLI, readable as plain Parquet."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelreason.serving import (
    METADATA_KEY,
    Space,
    exact_top,
    load_bundle,
    recommend,
    similar,
    write_bundle,
)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def bundle_folder(tmp_path):
    rng = np.random.default_rng(7)
    films = _unit(rng.standard_normal((300, 32)))
    users = _unit(rng.standard_normal((12, 32)))
    film_table = pa.table(
        {
            "movie_id": [f"tmdb:{i}" for i in range(300)],
            "tmdb_id": pa.array(range(300), pa.int64()),
            "title": [f"Film {i}" for i in range(300)],
            "vector": pa.array(films.tolist(), pa.list_(pa.float32())),
        }
    )
    vec = pa.list_(pa.float32())
    user_table = pa.table(
        {
            "user_id": [f"movielens:{i}" for i in range(12)],
            "vector": pa.array(users.tolist(), vec),
            "rating_vector": pa.array([None] * 6 + users[6:].tolist(), vec),
            "text_vector": pa.array(users[:6].tolist() + [None] * 6, vec),
            "seen": pa.array([[0, 1, 2]] * 12, pa.list_(pa.int32())),
        }
    )
    folder = tmp_path / "bundle"
    manifest = write_bundle(
        folder,
        films=film_table,
        users=user_table,
        space=Space("st", "test-model", 32),
        build={"build_id": "b-1", "snapshot_id": 7},
    )
    return folder, manifest, films, users


def test_a_bundle_loads_in_one_call_and_matches_exact_search(bundle_folder):
    folder, manifest, films, users = bundle_folder
    ids, matrix, index, metadata = load_bundle(folder)
    assert ids == [f"tmdb:{i}" for i in range(300)] and index.size == 300
    np.testing.assert_allclose(matrix, films, rtol=1e-6)
    assert metadata["build_id"] == "b-1" and metadata["dim"] == 32
    assert manifest["index"]["recall@10"] >= 0.98
    # A film's neighbours: itself left out, best first, the same films exact search finds.
    found = similar(load_bundle(folder), "tmdb:5", k=10)
    assert 5 not in [r for r, _ in found]
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)
    exact = [r for r in exact_top(films, films[5:6], 11)[0] if r != 5][:10]
    assert (
        len(set(r for r, _ in found) & set(exact.tolist() if hasattr(exact, "tolist") else exact))
        >= 9
    )
    # A user's picks, with and without what they have seen.
    with_seen = recommend(load_bundle(folder), "movielens:3", k=300)
    without = recommend(load_bundle(folder), "movielens:3", k=300, exclude_seen=True)
    assert {0, 1, 2} <= {r for r, _ in with_seen} and not {0, 1, 2} & {r for r, _ in without}
    with pytest.raises(KeyError, match="no taste vector"):
        recommend(load_bundle(folder), "movielens:999")


def test_the_files_are_plain_parquet_a_service_reads_without_our_code(bundle_folder):
    folder, manifest, films, _ = bundle_folder
    table = pq.read_table(folder / "films.parquet")
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 32)  # fixed size
    assert table.column("row").to_pylist() == list(range(300))  # row = index key
    facts = json.loads(table.schema.metadata[METADATA_KEY])
    assert facts["model"] == "test-model" and facts["normalized"] is True
    users = pq.read_table(folder / "users.parquet")
    assert users.column("rating_vector").null_count == 6  # a missing part stays missing
    for name, info in manifest["files"].items():
        assert (folder / name).stat().st_size == info["bytes"]
    # A damaged bundle says so instead of answering from the wrong vectors.
    pq.write_table(table.slice(0, 10), folder / "films.parquet")
    with pytest.raises(ValueError, match="damaged"):
        load_bundle(folder)


def test_the_sample_build_serves_similar_and_recommend(sample_build, capsys, monkeypatch):
    from pipelines.cli import main

    shared, _ = sample_build
    exports = shared.lake.exports_path
    current = (exports / "CURRENT").read_text().strip()
    ids, matrix, index, metadata = load_bundle(exports / current / "serving" / "st")
    assert metadata["build_id"] == current and metadata["index"]["recall@10"] >= 0.98
    # the space names the model's revision: vectors of other weights never pass for these
    assert metadata["space_id"].startswith("st:sentence-transformers/all-MiniLM-L6-v2@")
    assert len(ids) == index.size == matrix.shape[0] > 50
    monkeypatch.setenv("REELREASON_WAREHOUSE", str(shared.lake.root))
    for k in [k for k in os.environ if k.startswith("REELREASON_") and k != "REELREASON_WAREHOUSE"]:
        monkeypatch.delenv(k)
    assert main(["similar", "tmdb:603", "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "rank,movie_id,title,year,score" and len(lines) == 4
    assert "tmdb:603" not in "".join(lines[1:])
    assert main(["recommend", "movielens:1", "--exclude-seen"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 11
    assert main(["similar", "tmdb:0"]) == 2
    assert "not a film of this bundle" in capsys.readouterr().err
