"""The fleet agent: collects with the monitoring core's collectors and pushes samples to a hub. It imports the
core and the settings only, never the storage layer or the web stack, so an agent host stays small."""
