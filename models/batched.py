"""Deletes in bounded batches: one short transaction per batch, so no delete locks the store."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Engine, bindparam, text


def delete_where(
    engine: Engine,
    table: str,
    key: Sequence[str],
    where: str,
    params: Mapping[str, Any],
    *,
    batch_rows: int,
) -> int:
    """Delete the rows of ``table`` matching ``where``, ``batch_rows`` per transaction.

    ``key`` is the table's primary key (one or more columns). Returns the rows deleted.
    """
    columns = ", ".join(key)
    target = f"({columns})" if len(key) > 1 else columns
    sql = text(
        f"DELETE FROM {table} WHERE {target} IN "
        f"(SELECT {columns} FROM {table} WHERE {where} LIMIT :batch_rows)"
    ).bindparams(  # datetimes as the tables store them (SQLite keeps them as text)
        *(
            bindparam(k, type_=DateTime(timezone=True))
            for k, v in params.items()
            if isinstance(v, datetime)
        )
    )
    total = 0
    while True:
        with engine.begin() as conn:
            deleted = conn.execute(sql, {**params, "batch_rows": batch_rows}).rowcount
        total += deleted
        if deleted < batch_rows:
            return total


def delete_ids(
    engine: Engine, table: str, ids: Sequence[int], *, batch_rows: int, column: str = "id"
) -> int:
    """Delete the rows of ``table`` whose ``column`` is in ``ids``, in batches; return the count."""
    sql = text(f"DELETE FROM {table} WHERE {column} IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    total = 0
    for start in range(0, len(ids), batch_rows):
        with engine.begin() as conn:
            total += conn.execute(sql, {"ids": list(ids[start : start + batch_rows])}).rowcount
    return total
