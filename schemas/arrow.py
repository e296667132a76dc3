"""Arrow schemas derived from the pandera models: the model is the one place a column's name,
type and description are written.

Most types follow from the pandas dtype (`Int16` -> int16, `str` -> string, ...); a
list<string> column is one named in the model's `_list_columns`; any other `object` column
says its Arrow type in its field's metadata (`metadata=arrow("list<float32>")`), because
pandas cannot tell a vector from a list of strings.
"""

from __future__ import annotations

import pyarrow as pa

_BY_DTYPE = {
    "Int8": pa.int8(),
    "Int16": pa.int16(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
    "str": pa.string(),
    "string[pyarrow]": pa.string(),
    "float64": pa.float64(),
    "float32": pa.float32(),
    "bool": pa.bool_(),
    "boolean": pa.bool_(),
    # DuckDB's TIMESTAMP is microseconds; pandas widens every timestamp to nanoseconds.
    "datetime64[ns]": pa.timestamp("us"),
    "datetime64[us, UTC]": pa.timestamp("us", tz="UTC"),
}
_BY_NAME = {
    "list<float32>": pa.list_(pa.float32()),
    "list<int16>": pa.list_(pa.int16()),
    "list<string>": pa.list_(pa.string()),
}


def arrow(type_name: str) -> dict:
    """Field metadata naming an `object` column's Arrow type (one of _BY_NAME)."""
    if type_name not in _BY_NAME:
        raise ValueError(f"unknown Arrow type {type_name!r}; known: {sorted(_BY_NAME)}")
    return {"arrow": type_name}


def arrow_type(model: type, column: str):
    spec = model.to_schema().columns[column]
    named = (spec.metadata or {}).get("arrow")
    if named:
        return _BY_NAME[named]
    if column in getattr(model, "_list_columns", ()):
        return pa.list_(pa.string())
    dtype = str(spec.dtype)
    if dtype not in _BY_DTYPE:
        raise TypeError(
            f"{model.__name__}.{column}: no Arrow type for pandas dtype {dtype!r}; name it in "
            "the field's metadata with schemas.arrow.arrow(...)"
        )
    return _BY_DTYPE[dtype]


def model_arrow_schema(model: type) -> pa.Schema:
    """The declared columns, in the model's order, each with its description as metadata."""
    return pa.schema(
        [
            pa.field(
                name,
                arrow_type(model, name),
                metadata={"description": spec.description} if spec.description else None,
            )
            for name, spec in model.to_schema().columns.items()
        ]
    )


def type_mismatches(declared: pa.Schema, table: pa.Schema) -> list[str]:
    """Declared columns whose type in `table` differs (a missing column is pandera's to
    report; columns beyond the declared ones belong to models that allow them)."""
    return [
        f"{f.name}: declared {f.type}, got {table.field(f.name).type}"
        for f in declared
        if f.name in table.names and table.field(f.name).type != f.type
    ]
