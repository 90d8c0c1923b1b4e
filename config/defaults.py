"""Defaults of settings that code also needs without a Settings object (a Scheduler, a RetryPolicy or an engine
built directly, as tests and benchmarks do): declared once here, read by config.settings and by that code."""

from __future__ import annotations

DATABASE_BUSY_TIMEOUT_SECONDS = 30.0  # how long SQLite waits for another writer's lock
SCHEDULER_STOP_WAIT_SECONDS = 30.0  # how long running jobs get to finish when the scheduler stops
SCHEDULER_RETRY_BASE_SECONDS = 10.0  # the wait before a failed run's first retry, doubled for each next one
SCHEDULER_RETRY_MAX_SECONDS = 600.0  # ... up to this
