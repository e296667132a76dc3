"""Models of the warehouse's own bookkeeping rows."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series


class QuarantineRows(pa.DataFrameModel):
    """Rows a parser could not accept: where they were and why (before source/run are added)."""

    file: Series[str]
    line: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    raw: Series[str]
    reason: Series[str] = pa.Field(str_length={"min_value": 1})
    rule: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True


class RawFiles(pa.DataFrameModel):
    dataset: Series[str]
    path: Series[str]
    origin: Series[str] = pa.Field(isin=["user", "cache", "download", "absent"])
    url: Series[str]
    bytes: Series[pd.Int64Dtype] = pa.Field(ge=0)
    sha256: Series[str] = pa.Field(str_matches=r"^([0-9a-f]{64})?$")
    pinned_sha256: Series[str] = pa.Field(nullable=True)
    checksum_status: Series[str] = pa.Field(
        isin=["verified", "recorded", "unpinned", "mismatch_user", "absent"]
    )
    fetched_at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "us", "tz": "UTC"})

    class Config:
        strict = True


class BuildTables(pa.DataFrameModel):
    """One row per published table of a build (the builds row itself is written beside it)."""

    table_name: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z][a-z0-9_]*$")
    snapshot_id: Series[pd.Int64Dtype] = pa.Field(ge=0)
    row_count: Series[pd.Int64Dtype] = pa.Field(ge=0)
    written_by_run: Series[str]

    class Config:
        strict = True
