"""The dashboard server: a FastAPI application over the platform's database (JSON API, Prometheus endpoint and
the static web page in dashboard/static/)."""
