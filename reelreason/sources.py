"""Where every upstream file comes from, and how it is pinned.

Each dataset lists the files staging needs, by their path in the raw layout that
`REELREASON_RAW_DIR` follows. A file comes either straight from a URL or out of a
downloaded archive. Pins: MovieLens publishes an MD5 for its zip; GitHub-hosted files are
pinned by commit (their bytes cannot change under a commit); files with no published
checksum get their sha256 recorded on first download and verified against that record
afterwards (`raw_files.checksum_status = 'recorded'`), so a silent upstream change is caught.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# MovieTweetings' `latest/` is renumbered at every release, so we read it at a fixed commit.
MOVIETWEETINGS_DEFAULT_REF = "8b36ddf083a2ea81273a416750c990359ae0168c"
INSPIRED_REF = "99ee04ae170eccd0a4cd0f8d38136ce4b9c88708"
GOEMOTIONS_RAW_BASE = "https://storage.googleapis.com/gresearch/goemotions/data/full_dataset"
# The largest upstream file is ReDial's train_data.jsonl (~50 MB; ML-1M's ratings.dat is
# 24.6 MB, MovieTweetings' ratings.dat ~35 MB). A download or zip member is refused past
# this many decoded bytes: 8x the largest, room for growth, far from a bomb's gigabytes.
DEFAULT_DOWNLOAD_MAX_MB = 400
DEFAULT_DOWNLOAD_DEADLINE_S = 1800.0  # per attempt; the largest file at ~30 kB/s
GOEMOTIONS_SPLITS_BASE = (
    "https://raw.githubusercontent.com/google-research/google-research/master/goemotions/data"
)


@dataclass(frozen=True)
class Archive:
    """A downloaded archive that several raw files are extracted from."""

    name: str  # file name in the download cache
    url: str
    md5: str | None = None
    sha256: str | None = None
    # Where a redirect may lead (URL prefixes); none: only under the URL's own folder.
    redirects_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawFile:
    path: str  # relative path in the raw layout, e.g. "movielens/ml-1m/ratings.dat"
    url: str | None = None  # direct download; None when it comes from `archive`
    archive: Archive | None = None
    member: str | None = None  # path inside the archive
    sha256: str | None = None
    required: bool = True
    redirects_to: tuple[str, ...] = ()  # as for Archive

    @property
    def origin_url(self) -> str:
        if self.archive is not None:
            return f"{self.archive.url}#{self.member}"
        return self.url or ""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    licence: str
    files: tuple[RawFile, ...] = field(default_factory=tuple)
    # Groups of optional files of which at least one must be complete (GoEmotions ships
    # as filtered splits or as raw per-rater CSVs; either will do).
    one_of: tuple[tuple[str, ...], ...] = ()


ML1M_ZIP = Archive(
    name="ml-1m.zip",
    url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
    md5="c4d9eecfca2ab87c1945afe126590906",
)
# A current small MovieLens release: its links.csv maps MovieLens ids (stable across
# releases, so also ML-1M's) to IMDb and TMDB ids. Re-published now and then: no fixed MD5.
ML_LATEST_SMALL_ZIP = Archive(
    name="ml-latest-small.zip",
    url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
)
REDIAL_ZIP = Archive(
    name="redial_dataset.zip",
    url="https://github.com/ReDialData/website/raw/data/redial_dataset.zip",
    # GitHub answers /raw/ with a redirect to its raw-content host, same repository.
    redirects_to=(
        "https://github.com/ReDialData/website/",
        "https://raw.githubusercontent.com/ReDialData/website/",
    ),
)


def mirrored(dataset: Dataset, mirror: str) -> Dataset:
    """The same dataset served from a mirror of the raw layout (`{mirror}/{path}`): for
    companies that keep an internal copy, and for testing the download path end to end.
    Extracted files have no upstream pin, so their sha256 is recorded on first download."""
    base = mirror.rstrip("/")
    files = tuple(
        RawFile(rf.path, url=f"{base}/{rf.path}", required=rf.required, redirects_to=(f"{base}/",))
        for rf in dataset.files
    )
    return Dataset(dataset.name, dataset.title, dataset.licence, files, dataset.one_of)


def datasets(
    movietweetings_ref: str | None = None, mirror: str | None = None
) -> dict[str, Dataset]:
    mt_ref = movietweetings_ref or MOVIETWEETINGS_DEFAULT_REF
    mt_base = f"https://raw.githubusercontent.com/sidooms/MovieTweetings/{mt_ref}/latest"
    insp = f"https://raw.githubusercontent.com/sweetpeach/Inspired/{INSPIRED_REF}/data"
    ds = [
        Dataset(
            "movielens",
            "MovieLens 1M",
            "GroupLens research licence (no redistribution)",
            tuple(
                RawFile(f"movielens/ml-1m/{n}.dat", archive=ML1M_ZIP, member=f"ml-1m/{n}.dat")
                for n in ("movies", "ratings", "users")
            )
            + (
                RawFile(
                    "movielens/ml-latest-small/links.csv",
                    archive=ML_LATEST_SMALL_ZIP,
                    member="ml-latest-small/links.csv",
                    required=False,
                ),
            ),
        ),
        Dataset(
            "movietweetings",
            "MovieTweetings",
            "MIT",
            tuple(
                RawFile(f"movietweetings/{n}.dat", url=f"{mt_base}/{n}.dat")
                for n in ("movies", "ratings", "users")
            ),
        ),
        Dataset(
            "inspired",
            "INSPIRED",
            "no licence file upstream: cite, do not redistribute",
            tuple(
                RawFile(f"inspired/{n}.tsv", url=f"{insp}/dialog_data/{n}.tsv")
                for n in ("train", "dev", "test")
            )
            + (RawFile("inspired/movie_database.tsv", url=f"{insp}/movie_database.tsv"),),
        ),
        Dataset(
            "redial",
            "ReDial",
            "CC BY 4.0",
            (
                RawFile("redial/train_data.jsonl", archive=REDIAL_ZIP, member="train_data.jsonl"),
                RawFile("redial/test_data.jsonl", archive=REDIAL_ZIP, member="test_data.jsonl"),
                RawFile(
                    "redial/movies_with_mentions.csv",
                    archive=REDIAL_ZIP,
                    member="movies_with_mentions.csv",
                    required=False,
                ),
            ),
        ),
        Dataset(
            "ccpe",
            "CCPE-M",
            "CC BY 4.0",
            (
                RawFile(
                    "ccpe/data.json",
                    url="https://storage.googleapis.com/dialog-data-corpus/CCPE-M-2019/data.json",
                ),
            ),
        ),
        Dataset(
            "goemotions",
            "GoEmotions",
            "Apache-2.0",
            tuple(
                RawFile(
                    f"goemotions/{n}.tsv", url=f"{GOEMOTIONS_SPLITS_BASE}/{n}.tsv", required=False
                )
                for n in ("train", "dev", "test")
            )
            + (
                RawFile(
                    "goemotions/emotions.txt",
                    url=f"{GOEMOTIONS_SPLITS_BASE}/emotions.txt",
                    required=False,
                ),
            )
            + tuple(
                RawFile(f"goemotions/{n}", url=f"{GOEMOTIONS_SPLITS_BASE}/{n}")
                for n in ("ekman_mapping.json", "sentiment_dict.json")
            )
            + tuple(
                RawFile(
                    f"goemotions/goemotions_{i}.csv",
                    url=f"{GOEMOTIONS_RAW_BASE}/goemotions_{i}.csv",
                    required=False,
                )
                for i in (1, 2, 3)
            ),
            one_of=(
                tuple(
                    f"goemotions/{n}" for n in ("train.tsv", "dev.tsv", "test.tsv", "emotions.txt")
                ),
                tuple(f"goemotions/goemotions_{i}.csv" for i in (1, 2, 3)),
            ),
        ),
    ]
    if mirror:
        ds = [mirrored(d, mirror) for d in ds]
    return {d.name: d for d in ds}
