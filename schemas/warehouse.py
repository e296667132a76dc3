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

    class Config:
        strict = True
