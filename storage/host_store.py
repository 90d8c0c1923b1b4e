"""The fleet's hosts and the hashes of their ingest keys (`main.py hosts`; the hub's ingest is to find a host by
the hash of the key it is sent). No key is ever stored, only its sha256."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from storage import tables
from storage.database import inserted_id
from storage.types import utc_now

_LISTED = (
    tables.hosts.c.id,
    tables.hosts.c.name,
    (tables.hosts.c.key_hash.is_not(None)).label("has_key"),
    tables.hosts.c.key_created_at,
    tables.hosts.c.fingerprint,
    tables.hosts.c.created_at,
)


def list_hosts(connection: Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(select(*_LISTED).order_by(tables.hosts.c.name)).mappings()]


def insert_host(connection: Connection, name: str, key_hash: str) -> int:
    now = utc_now()
    return inserted_id(
        connection.execute(
            insert(tables.hosts).values(name=name, key_hash=key_hash, key_created_at=now, created_at=now)
        )
    )


def replace_key(connection: Connection, name: str, key_hash: str | None) -> bool:
    """A new key hash (None: revoked) for the host; its machine fingerprint is bound again on the new key's first
    use. False when there is no such host."""
    result = connection.execute(
        update(tables.hosts)
        .where(tables.hosts.c.name == name)
        .values(key_hash=key_hash, key_created_at=utc_now() if key_hash else None, fingerprint=None)
    )
    return result.rowcount == 1
