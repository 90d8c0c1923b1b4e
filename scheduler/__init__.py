"""The scheduler: cron evaluation now; the due-slot loop, claims and the runner follow (issue 3)."""
