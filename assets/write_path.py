"""The one write path of a step: reuse or compute, then validate, quarantine, write, describe.

    @dg.asset(...)
    @lake_step(source="movies")
    def movie_texts(step: Step) -> Parsed:
        with step.session() as con:
            ...
        return Parsed({"movie_texts": table})

The function receives the `Step` (its context, declared-input reads, metadata, incomplete and
expiry marks) and the resources it names; it returns the tables it computed (a `Parsed`, or a
list of them). Everything else is here, once: the reuse decision (assets/incremental.py), the
row-level validation and quarantine and the DuckLake write (Warehouse.write_table via
assets/publishing.write_parsed), the materialization metadata (row count, column schema,
preview, quarantine, the step's own numbers) and the DataVersion (the table's content hash).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

import dagster as dg

from assets.incremental import Step
from assets.publishing import write_parsed
from pipelines.resources import WarehouseResource


def lake_step(
    *,
    source: str,
    raw_paths: Iterable[str] | None = None,
    resource_keys: Iterable[str] | None = None,
    inputs: Callable[..., dict] | None = None,
):
    """Turn `compute(step, **resources) -> Parsed | list[Parsed]` into an asset body.
    `raw_paths` narrows raw datasets to the files read; `resource_keys` the resources whose
    configuration is an input (default: all the asset requires); `inputs(**resources)` adds
    inputs that are not tables or configuration (a seed file's hash)."""

    def decorate(compute: Callable) -> Callable:
        params = list(inspect.signature(compute).parameters.values())
        if not params or params[0].name != "step":
            raise TypeError(f"{compute.__name__}: a lake_step's first parameter is `step`")
        wants_warehouse = any(p.name == "warehouse" for p in params[1:])
        resources = [p for p in params[1:] if p.name != "warehouse"]

        def body(context: dg.AssetExecutionContext, warehouse: WarehouseResource, **kwargs):
            step = Step(
                context,
                warehouse,
                raw_paths=raw_paths,
                resource_keys=resource_keys,
                extra=inputs(**kwargs) if inputs else None,
                code_module=compute.__module__,
            )
            if step.reusable():
                yield from step.reused()
                return
            if wants_warehouse:
                kwargs["warehouse"] = warehouse
            out = compute(step, **kwargs)
            for parsed in out if isinstance(out, list) else [out]:
                yield from write_parsed(context, warehouse, parsed, source=source, step=step)
            for name, sql in step.views:
                warehouse.lake.create_view(name, sql, run_id=context.run.run_id)

        # Dagster reads the resources an asset needs from its signature: show it this one.
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        body.__signature__ = inspect.Signature(
            [
                inspect.Parameter("context", kind, annotation=dg.AssetExecutionContext),
                inspect.Parameter("warehouse", kind, annotation=WarehouseResource),
                *resources,
            ]
        )
        body.__name__ = body.__qualname__ = compute.__name__
        body.__module__, body.__doc__ = compute.__module__, compute.__doc__
        return body

    return decorate
