"""The ingest route's group commit on PostgreSQL, in-process: pushes queued together are written as one group
holding each host once (a repeat waits for the next group and stores nothing twice), and a push the database
refuses fails alone while the rest of its group is stored."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert

from fleet.host_keys import key_hash, new_key
from fleet.ingest import Pending, Push
from fleet.ingest_writer import IngestWriter
from monitoring.sample import Sample
from monitoring.wire import decode_sample
from storage import tables
from storage.schema import init_database
from tests.db_servers import SERVERS, fetch
from tests.fleet_pushes import OUTBOX_ID, collected_sample, sample_at

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]


def test_a_group_holds_each_host_once_and_a_refused_write_fails_alone(
    settings_for: Callable[..., object],
) -> None:
    collected = collected_sample()
    with SERVERS["postgresql"].fresh_database() as url:
        engine = init_database(url)
        settings = settings_for(DATABASE_URL=url)
        keys = {name: new_key() for name in ("web1", "web2", "web3")}
        now = datetime.now(timezone.utc)
        with engine.begin() as connection:
            connection.execute(
                insert(tables.hosts),
                [{"name": name, "key_hash": key_hash(key), "created_at": now} for name, key in keys.items()],
            )

        def pending(name: str, seq: int, sample: Sample = collected) -> Pending:
            """A push of one sample, as the route hands it on (a fresh copy: ingest names it after its host)."""
            taken = decode_sample(sample_at(sample, now, 20.0))
            push = Push("agent", [(seq, taken)], fingerprint=name, outbox_id=OUTBOX_ID, sent_at=now.timestamp())
            return Pending(settings, keys[name], push, now)  # type: ignore[arg-type]

        writer = IngestWriter()
        first = writer.enqueue(pending("web1", 1))
        again = writer.enqueue(pending("web1", 1))  # the same push, repeated at once
        other = writer.enqueue(pending("web2", 1))
        group = writer.next_group()
        assert [item[1] for item in group] == [first, other], "web1's repeat waits for the next group"
        writer.write(group)
        writer.write(writer.next_group())
        assert (first.result().stored, again.result().stored, again.result().duplicates) == (1, 0, 1)
        assert other.result().stored == 1

        too_long = copy.deepcopy(collected)
        assert too_long.processes is not None and too_long.processes.top_cpu
        too_long.processes.top_cpu[0] = too_long.processes.top_cpu[0]._replace(name="x" * 300)  # VARCHAR(255)
        refused = writer.enqueue(pending("web1", 2, too_long))
        fine = writer.enqueue(pending("web3", 1))
        writer.write(writer.next_group())
        with pytest.raises(Exception, match="value too long"):
            refused.result()
        assert fine.result().stored == 1
        stored = fetch(url, "SELECT hostname, COUNT(*) FROM system_metrics GROUP BY hostname ORDER BY hostname")
        assert [tuple(row) for row in stored] == [("web1", 1), ("web2", 1), ("web3", 1)]
        assert fetch(url, "SELECT last_seq FROM host_outboxes ORDER BY host_id")[0][0] == 1, "web1's mark stays"
