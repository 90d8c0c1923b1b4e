"""Samples written many at once, for a database filled with history (the benchmarks' year of per-minute
samples): one executemany per call instead of metrics_store.save_sample's statements per sample, about six
times the rows per second on SQLite, so that filling the database does not dominate a benchmark."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from storage import tables


def add_samples(connection: Connection, samples: list[dict[str, Any]]) -> None:
    """system_metrics rows."""
    connection.execute(insert(tables.system_metrics), samples)


def sample_ids(connection: Connection) -> list[int]:
    """Every sample's id, oldest first."""
    return list(connection.scalars(select(tables.system_metrics.c.id).order_by(tables.system_metrics.c.id)))


def add_sample_details(connection: Connection, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Rows of a detail table (system_metric_cpu_cores, ...), each naming its sample in system_metric_id."""
    connection.execute(insert(tables.metadata.tables[table_name]), rows)
