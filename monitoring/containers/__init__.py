"""Docker and Podman containers: the engine's HTTP API on its unix socket, and the cgroup files figures are read
from (monitoring.collectors.containers puts them together)."""
