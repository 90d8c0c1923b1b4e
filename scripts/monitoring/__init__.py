"""The seed's monitor command, system_monitor.py; the job itself is pipeline/ over the monitoring/ core."""
