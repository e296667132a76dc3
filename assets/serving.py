"""The serving bundle: each build's film and user vectors as plain files a recommender
service loads in one call (reelreason/serving.py), beside the build's Parquet export."""

from collections import defaultdict

import dagster as dg
import pyarrow as pa

from assets.evaluation import SPACES
from assets.holdout import SEEN_INPUTS, SEEN_SQL
from pipelines.resources import WarehouseResource
from reelreason.serving import RECALL_TARGET, Space, write_bundle

FILMS_SQL = """
SELECT m.movie_id, m.tmdb_id, m.imdb_id, m.title, m.year, m.genres, m.poster_path,
       m.popularity, e.vector
FROM movie_embeddings_{space} e JOIN movies m USING (movie_id)
WHERE e.vector IS NOT NULL ORDER BY m.movie_id
"""
USERS_SQL = """
SELECT user_id, split_part(user_id, ':', 1) AS source, vector, rating_vector, text_vector,
       alpha, n_liked, parts
FROM user_embeddings_{space} WHERE vector IS NOT NULL ORDER BY user_id
"""


def seen_rows(seen: list[tuple[str, str]], users: pa.Table, films: pa.Table) -> pa.Array:
    """Per user (in `users` order): the film rows they rated or mentioned."""
    row_of = {m: i for i, m in enumerate(films.column("movie_id").to_pylist())}
    by_user = defaultdict(set)
    for user, movie in seen:
        if movie in row_of:
            by_user[user].add(row_of[movie])
    return pa.array(
        [sorted(by_user.get(u, ())) for u in users.column("user_id").to_pylist()],
        pa.list_(pa.int32()),
    )


@dg.asset(
    group_name="publish",
    kinds={"parquet"},
    deps=[
        "parquet_export",
        "movies",
        *[f"{kind}_embeddings_{b}" for kind in ("movie", "user") for b in SPACES],
        # what each user already rated or mentioned (SEEN_SQL): `--exclude-seen`
        *SEEN_INPUTS,
    ],
    description="Per embedding space with vectors, a serving bundle in the build's export "
    "(`exports/<build>/serving/<space>/`): films.parquet and users.parquet with "
    "FixedSizeList<float32, dim> vectors and row = index key, a usearch HNSW index over the "
    "film vectors, and manifest.json (model, dim, build, counts, sha256 of each file, the "
    "index's recall@10 against exact search and its query latency, measured here). Load it "
    "with `reelreason.serving.load_bundle`; `reelreason similar|recommend` answer from it.",
)
def serving_bundle(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    lake = warehouse.lake
    build = lake.resolve_build(context.run.run_id)
    metadata: dict = {}
    with lake.connect(read_only=True, snapshot=build["snapshot_id"]) as con:
        seen = con.execute(SEEN_SQL).fetchall()
        for name in SPACES:
            films = con.execute(FILMS_SQL.format(space=name)).to_arrow_table()
            if not films.num_rows:
                metadata[f"{name}_status"] = "no film vectors in this build: no bundle"
                continue
            model, dim = con.execute(
                f"SELECT model, dim FROM movie_embeddings_{name} LIMIT 1"
            ).fetchone()
            (space_id,) = con.execute(
                f"""SELECT any_value(c.space) FROM embedding_cache c
                    JOIN movie_embeddings_{name} e USING (text_sha256)
                    WHERE starts_with(c.space, ?)""",
                [f"{name}:"],
            ).fetchone()
            # A trained space is named by its model, which carries its training's content key.
            space_id = space_id or model
            users = con.execute(USERS_SQL.format(space=name)).to_arrow_table()
            users = users.append_column("seen", seen_rows(seen, users, films))
            folder = lake.exports_path / build["build_id"] / "serving" / name
            manifest = write_bundle(
                folder,
                films=films,
                users=users,
                space=Space(name, model, dim, space_id),
                build=build,
            )
            quality = manifest["index"]
            context.log.info(
                f"{name}: {manifest['films']:,} films, {manifest['users']:,} users; index "
                f"recall@10 {quality['recall@10']:.4f} vs exact, "
                f"{quality['index_ms_per_query']:.3f} ms/query vs "
                f"{quality['exact_ms_per_query']:.3f} ms exact"
            )
            if quality["recall@10"] < RECALL_TARGET:
                context.log.warning(
                    f"{name}: index recall@10 {quality['recall@10']} is below {RECALL_TARGET}"
                )
            metadata.update(
                {
                    f"recall@10/{name}": quality["recall@10"],
                    f"index_ms_per_query/{name}": quality["index_ms_per_query"],
                    f"exact_ms_per_query/{name}": quality["exact_ms_per_query"],
                    f"films/{name}": manifest["films"],
                    f"users/{name}": manifest["users"],
                    f"path/{name}": dg.MetadataValue.path(str(folder)),
                }
            )
    return dg.MaterializeResult(metadata=metadata)
