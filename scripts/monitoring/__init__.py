"""The system monitor job: collect -> save -> grade -> notify -> report."""
