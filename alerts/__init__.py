"""Alerts: incidents, silences and delivery of notifications."""
