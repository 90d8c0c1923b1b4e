"""Alerts against the stored state: incidents moved by each sample, silences, the notifications rows of
incident events, and their delivery."""
