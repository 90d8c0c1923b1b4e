"""The .env levels as JSON, so a page colours a figure exactly as the monitor grades it (value strictly above
a level reaches it)."""

from __future__ import annotations

from typing import Any

from config.thresholds import MetricThresholds


def threshold_levels(thresholds: dict[str, MetricThresholds]) -> list[dict[str, Any]]:
    return [{"metric": key, "label": item.spec.label, "unit": item.spec.unit, "warning": item.default.warning,
             "critical": item.default.critical,
             "overrides": {resource: dict(zip(("warning", "critical"), item.levels_for(resource), strict=True))
                           for resource in item.overridden_resources}}
            for key, item in thresholds.items()]
