"""notifications rows for the alerts of one sample (delivery to people comes with the alerts issue)."""

from __future__ import annotations

from typing import Any

from scripts.monitoring.alert_text import alert_message, alert_title
from scripts.monitoring.grading import Alert
from scripts.monitoring.sample import Sample

CHANNEL = "system_monitoring"


def notification_values(alerts: list[Alert], sample: Sample, job_execution_id: int | None = None,
                        ) -> list[dict[str, Any]]:
    """One row per alert; storage fills in system_metric_id."""
    return [
        dict(
            title=alert_title(alert, sample.hostname),
            message=alert_message(alert, sample),
            level=alert.level,
            channel=CHANNEL,
            sent_at=sample.timestamp,
            success=True,
            job_execution_id=job_execution_id,
            host=sample.hostname,
            metric=alert.metric,
            resource=alert.resource,
            value=alert.value,
            threshold=alert.threshold,
        )
        for alert in alerts
    ]
