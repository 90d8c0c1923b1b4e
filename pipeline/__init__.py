"""A sample's way through the platform: collect -> save -> grade -> incidents -> notify, and the monitor job's
command that prints the outcome (report, --json, --nagios)."""
