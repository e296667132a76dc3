import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from pipelines.settings import SAMPLE_RAW_DIR, Settings
from reelreason.warehouse import Warehouse
from tests import scratch

# Exact row counts of the bundled sample (sample/README.md lists them per file).
SAMPLE_COUNTS = {
    "ml1m_movies": 41,
    "ml1m_ratings": 1226,
    "ml1m_users": 60,
    "ml_links": 35,
    "movietweetings_movies": 35,
    "movietweetings_ratings": 181,
    "movietweetings_users": 24,
    "inspired_utterances": 125,
    "inspired_dialogs": 12,
    "inspired_movies": 40,
    "redial_conversations": 12,
    "redial_messages": 111,
    "redial_mentions": 43,
    "redial_movies": 33,
    "ccpe_utterances": 96,
    "ccpe_segments": 100,
    "goemotions_texts": 60,
    "goemotions_ratings": 365,
    "goemotions_emotions": 28,
}


@pytest.fixture
def raw_copy(tmp_path) -> Path:
    """A writable copy of the bundled sample, for tests that damage it."""
    dest = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW_DIR, dest)
    return dest


def pytest_configure(config):
    scratch.start()  # the throwaway Dagster instances' storage in RAM (tests/scratch.py)


def pytest_unconfigure(config):
    scratch.stop()


@pytest.fixture
def instance():
    with scratch.instance_dir() as folder, dg.instance_for_test(temp_dir=folder) as inst:
        yield inst


class Builder:
    def __init__(self, tmp_path: Path, instance):
        self.warehouse_root = tmp_path / "warehouse"
        self.instance = instance

    def settings(self, raw_dir: Path | None = SAMPLE_RAW_DIR, **overrides) -> Settings:
        # No raw folder means the full profile: download (from a test server's mirror).
        online = raw_dir is None
        values = {
            "profile": "full" if online else "sample",
            "warehouse": self.warehouse_root,
            "raw_dir": raw_dir,
            "offline": not online,
            **overrides,
        }
        return Settings(**values)

    def run(
        self, selection: str | None = None, tags: dict | None = None, **settings_kwargs
    ) -> dg.ExecuteInProcessResult:
        defs = build_definitions(self.settings(**settings_kwargs))
        job = defs.resolve_implicit_global_asset_job_def()
        sel = dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()
        keys = sel.required_multi_asset_neighbors().resolve(defs.resolve_asset_graph())
        return job.execute_in_process(
            instance=self.instance, asset_selection=list(keys), raise_on_error=False, tags=tags
        )

    @property
    def lake(self) -> Warehouse:
        return Warehouse(self.warehouse_root)

    def query(self, sql: str, build: str | None = None):
        con = self.lake.connect_build(build)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


@pytest.fixture
def builder(tmp_path, instance) -> Builder:
    return Builder(tmp_path, instance)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """One default sample build shared by the tests that only read it (saves minutes)."""
    with scratch.instance_dir() as folder, dg.instance_for_test(temp_dir=folder) as inst:
        shared = Builder(tmp_path_factory.mktemp("sample_build"), inst)
        result = shared.run()
        yield shared, result


def step_errors(result: dg.ExecuteInProcessResult) -> str:
    """The root error messages of failed steps, joined (what a user would read)."""
    out = []
    for event in result.all_events:
        if event.is_step_failure:
            err = event.event_specific_data.error
            while err.cause is not None:
                err = err.cause
            out.append(f"{event.step_key}: {err.message}")
    return "\n".join(out)
