"""The monitoring core: what a sample is, how it is collected, its rates, the metric catalogue, grading and the
alert vocabulary (levels, measurements, alerts, incidents).

Pure domain code: it imports only the standard library, psutil and NVML, never the rest of the platform, so the
monitor job, a future agent on another host and the hub that ingests its samples share it as it is. Settings
reach it as plain values (config/ turns .env into them); storage/ turns its samples into rows.
"""
