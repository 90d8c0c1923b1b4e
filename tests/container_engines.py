"""Real Docker and Podman engines for the container tests, shared by the whole session.

`docker_engine` starts `dockerd` with its own data root, exec root, unix socket and pidfile under a temp dir;
`podman_engine` starts `podman system service` over its own storage. No image can be pulled on the test machines:
both load one built here, FROM scratch, holding /bin/busybox from Debian's busybox-static. Without the binaries
(docker.io, podman, busybox-static) the tests skip; with them, an engine that fails to start is an error.

Everything started is torn down at the end of the session: containers, daemons, mounts, the docker0 bridge and
the iptables rules and chains the daemon added (those that were not there before it started), the temp dir. A run
ended by SIGTERM cleans up in its handler; one killed outright is cleaned up by the next session, which finds its
temp dir (its owner's pid no longer alive) and does the same from the files kept there.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import json
import os
import shlex
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

# Unix socket paths are limited to 108 bytes: the temp dirs stay short.
DIR_PREFIX = "/tmp/monitoring-engines-"
# One session at a time may own the engines: dockerd's bridge and iptables chains are the host's.
LOCK_FILE = "/tmp/monitoring-engines.lock"
LOCK_WAIT_SECONDS = 600.0
START_TIMEOUT_SECONDS = 60.0
IMAGE = "monitoring-busybox:1"
BINARIES = {"docker": ("dockerd", "docker", "busybox"), "podman": ("podman", "busybox")}
# Podman on these machines lacks CAP_SYS_RESOURCE: containers start only with explicit limits.
PODMAN_RUN_OPTIONS = ("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768", "--network", "none")
PODMAN_CONF = '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'


class Engine:
    """One running engine: its API socket and its command line, which talks to the same daemon or storage."""

    def __init__(self, name: str, socket_path: str, command: list[str], environ: dict[str, str]) -> None:
        self.name = name
        self.socket_path = socket_path
        self.command = command
        self.environ = environ

    def cli(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.command, *args], env=self.environ, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{self.name} {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()}")
        return result

    def run(self, name: str, *command: str, options: tuple[str, ...] = ()) -> str:
        """Start a container from the busybox image; returns its id."""
        extra = PODMAN_RUN_OPTIONS if self.name == "podman" else ()
        result = self.cli("run", "-d", "--name", name, *extra, *options, IMAGE, "/bin/busybox", *command)
        return result.stdout.strip().splitlines()[-1]

    def inspect(self, name: str) -> dict:
        return json.loads(self.cli("inspect", name).stdout)[0]


def missing_binaries(engine: str) -> list[str]:
    return [binary for binary in BINARIES[engine] if shutil.which(binary) is None]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60, step: float = 0.2) -> None:
    """Poll until `condition()` is true; a test error naming `what` if it never is."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)


class EngineSession:
    """The session's temp dir and everything started in it, torn down by `close()` (idempotent)."""

    def __init__(self) -> None:
        self._lock = _acquire_lock()
        sweep_stale()
        self.root = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.rootfs_tar = self.root / "rootfs.tar"
        _build_rootfs(self.rootfs_tar)
        self._closed = False
        atexit.register(self.close)
        self._previous_sigterm = signal.getsignal(signal.SIGTERM)
        if self._previous_sigterm is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: object) -> None:
        self.close()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def start_docker(self) -> Engine:
        directory = self.root / "docker"
        directory.mkdir()
        _save_network_state(directory / "network-before.txt")
        socket_path = str(directory / "docker.sock")
        log = open(directory / "dockerd.log", "wb")  # noqa: SIM115 - the daemon writes it until the end
        subprocess.Popen(
            [
                "dockerd",
                "--data-root",
                str(directory / "data"),
                "--exec-root",
                str(directory / "exec"),
                "-H",
                f"unix://{socket_path}",
                "--pidfile",
                str(directory / "dockerd.pid"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        environ = {**os.environ, "DOCKER_HOST": f"unix://{socket_path}", "DOCKER_CONFIG": str(directory / "cli")}
        engine = Engine("docker", socket_path, ["docker"], environ)
        _wait_until_answering(engine, directory / "dockerd.log")
        engine.cli("import", str(self.rootfs_tar), IMAGE)
        return engine

    def start_podman(self) -> Engine:
        directory = self.root / "podman"
        directory.mkdir()
        (directory / "containers.conf").write_text(PODMAN_CONF)
        socket_path = str(directory / "podman.sock")
        command = _podman_command(directory)
        environ = {**os.environ, "CONTAINERS_CONF": str(directory / "containers.conf")}
        environ.pop("CONTAINER_HOST", None)
        log = open(directory / "service.log", "wb")  # noqa: SIM115 - the service writes it until the end
        service = subprocess.Popen(
            [*command, "system", "service", "--time=0", f"unix://{socket_path}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environ,
            start_new_session=True,
        )
        log.close()
        (directory / "service.pid").write_text(str(service.pid))
        engine = Engine("podman", socket_path, command, environ)
        _wait_until_answering(engine, directory / "service.log")
        engine.cli("import", str(self.rootfs_tar), IMAGE)
        return engine

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            clean_up(self.root)
        finally:
            if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
            with contextlib.suppress(OSError):
                self._lock.close()


def _acquire_lock() -> object:
    lock = open(LOCK_FILE, "a")  # noqa: SIM115 - held for the session
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise RuntimeError(f"another test session holds {LOCK_FILE} (its engines) for too long") from None
            time.sleep(0.5)


def _build_rootfs(tar_path: Path) -> None:
    """A root filesystem holding only /bin/busybox (static) and /bin/sh, as `docker import` and `podman import`
    take it."""
    with tarfile.open(tar_path, "w") as tar:
        tar.add(os.path.realpath(shutil.which("busybox") or "/bin/busybox"), arcname="bin/busybox")
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        tar.addfile(link)


def _wait_until_answering(engine: Engine, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if os.path.exists(engine.socket_path) and engine.cli("version", check=False, timeout=10).returncode == 0:
            return
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise RuntimeError(
                f"{engine.name} did not answer on {engine.socket_path} within {START_TIMEOUT_SECONDS:g} s:\n{tail}"
            )
        time.sleep(0.2)


# --- tearing down -------------------------------------------------------------------------------------------


def sweep_stale() -> None:
    """Clean up the temp dirs of earlier sessions that were killed before they could (owner no longer alive)."""
    for directory in glob.glob(DIR_PREFIX + "*"):
        owner = Path(directory, "owner.pid")
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            pid = 0
        if pid and _alive(pid):
            continue
        clean_up(Path(directory))


def clean_up(root: Path) -> None:
    """Remove every container, process, mount and network change of the session in `root`, then `root`."""
    docker, podman = root / "docker", root / "podman"
    if docker.is_dir():
        _stop_docker(docker)
    if podman.is_dir():
        _stop_podman(podman)
    _kill_processes_using(root)
    _unmount_below(root)
    if docker.is_dir():
        _restore_network(docker / "network-before.txt")
    shutil.rmtree(root, ignore_errors=True)


def _stop_docker(directory: Path) -> None:
    environ = {**os.environ, "DOCKER_HOST": f"unix://{directory / 'docker.sock'}", "DOCKER_CONFIG": str(directory)}
    pid = _pid_in(directory / "dockerd.pid")
    if pid and _alive(pid):
        ids = _quiet([*_DOCKER, "ps", "-aq"], environ).split()
        if ids:
            _quiet([*_DOCKER, "rm", "-f", *ids], environ, timeout=120)
        _terminate(pid)
    for container in glob.glob(str(directory / "data" / "containers" / "*")):
        _kill_cgroup_of(os.path.basename(container))


_DOCKER = ["docker"]


def _podman_command(directory: Path) -> list[str]:
    """podman over the session's own storage under `directory`."""
    return [
        "podman",
        "--root",
        str(directory / "root"),
        "--runroot",
        str(directory / "runroot"),
        "--tmpdir",
        str(directory / "tmp"),
    ]


def _stop_podman(directory: Path) -> None:
    environ = {**os.environ, "CONTAINERS_CONF": str(directory / "containers.conf")}
    command = _podman_command(directory)
    _quiet([*command, "rm", "-f", "-a", "-t", "0"], environ, timeout=120)
    pid = _pid_in(directory / "service.pid")
    if pid and _alive(pid):
        _terminate(pid)
    for container in glob.glob(str(directory / "root" / "overlay-containers" / "*")):
        _kill_cgroup_of(os.path.basename(container))
    _quiet([*command, "system", "reset", "-f"], environ, timeout=120)


def _quiet(command: list[str], environ: dict[str, str], timeout: float = 60) -> str:
    try:
        return subprocess.run(command, env=environ, capture_output=True, text=True, timeout=timeout).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _pid_in(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    state = (
        Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] if os.path.exists(f"/proc/{pid}") else "Z"
    )
    return state != "Z"


def _terminate(pid: int, grace_seconds: float = 20) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _kill_cgroup_of(container_id: str) -> None:
    """Kill what is left in a container's cgroup (its daemon gone, nobody else would)."""
    for procs in (
        glob.glob(f"/sys/fs/cgroup/pids/*{container_id}*/cgroup.procs")
        + glob.glob(f"/sys/fs/cgroup/pids/*/*{container_id}*/cgroup.procs")
        + glob.glob(f"/sys/fs/cgroup/*/*{container_id}*/cgroup.procs")
    ):
        with contextlib.suppress(OSError, ValueError):
            for pid in Path(procs).read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def _kill_processes_using(root: Path) -> None:
    """Kill the processes whose command line names `root` (containerd, shims, conmon) by their pids."""
    marker = str(root).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry), signal.SIGKILL)


def _unmount_below(root: Path) -> None:
    prefix = str(root) + "/"
    with open("/proc/self/mountinfo", encoding="utf-8") as file:
        points = [line.split()[4] for line in file if line.split()[4].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _save_network_state(path: Path) -> None:
    links = sorted(os.listdir("/sys/class/net"))
    rules = {table: _iptables_rules(table) for table in ("filter", "nat")}
    path.write_text(json.dumps({"links": links, "rules": rules}))


def _iptables_rules(table: str) -> list[str]:
    try:
        result = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True, timeout=30)
    except OSError:
        return []
    return result.stdout.splitlines()


def _restore_network(before_file: Path) -> None:
    """Remove the bridge and the iptables rules and chains that appeared after `before_file` was written."""
    try:
        before = json.loads(before_file.read_text())
    except (OSError, ValueError):
        return
    for link in sorted(set(os.listdir("/sys/class/net")) - set(before["links"])):
        if link == "docker0" or link.startswith("veth"):
            subprocess.run(["ip", "link", "delete", link], capture_output=True, check=False)
    for table in ("filter", "nat"):
        known = set(before["rules"].get(table, []))
        for policy in known:
            if policy.startswith("-P "):  # dockerd sets FORWARD's to DROP
                subprocess.run(["iptables", "-t", table, *policy.split()], capture_output=True, check=False)
        added = [rule for rule in _iptables_rules(table) if rule not in known]
        for rule in added:
            if rule.startswith("-A "):
                subprocess.run(
                    ["iptables", "-t", table, "-D", *shlex.split(rule[3:])], capture_output=True, check=False
                )
        chains = [rule.split()[1] for rule in added if rule.startswith("-N ")]
        for chain in chains:
            subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True, check=False)
        for chain in chains:
            subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True, check=False)


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine_session() -> Iterator[EngineSession]:
    if missing_binaries("docker") and missing_binaries("podman"):
        pytest.skip(
            f"no container engine installed (missing {', '.join(missing_binaries('docker'))}; "
            "Debian: apt-get install docker.io podman busybox-static)"
        )
    session = EngineSession()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def docker_engine(engine_session: EngineSession) -> Engine:
    missing = missing_binaries("docker")
    if missing:
        pytest.skip(f"Docker is not installed (missing {', '.join(missing)}; Debian: docker.io busybox-static)")
    return engine_session.start_docker()


@pytest.fixture(scope="session")
def podman_engine(engine_session: EngineSession) -> Engine:
    missing = missing_binaries("podman")
    if missing:
        pytest.skip(f"Podman is not installed (missing {', '.join(missing)}; Debian: podman busybox-static)")
    return engine_session.start_podman()


# --- the containers the tests read ----------------------------------------------------------------------------

HELD_MIB = 48  # what the memory container writes to its /dev/shm (shmem: charged to it, not reclaimable cache)
LIMIT_MIB = 64


class Scene(NamedTuple):
    engine: Engine
    ids: dict[str, str]  # container name -> id


def _start_scene(engine: Engine) -> Scene:
    """The containers every test reads, started once per engine; returns when each is in the state it is for."""
    ids = {
        "idle": engine.run("idle", "sleep", "100000"),
        "busy": engine.run("busy", "sh", "-c", "while :; do :; done"),
        "memory": engine.run(
            "memory",
            "sh",
            "-c",
            f"dd if=/dev/zero of=/dev/shm/fill bs=1M count={HELD_MIB} 2>/dev/null; echo held; sleep 100000",
            options=("--memory", f"{LIMIT_MIB}m"),
        ),
        "oom": engine.run(
            "oom",
            "sh",
            "-c",
            "x=$(head -c 100000000 /dev/zero | tr '\\0' a); sleep 100000",
            options=("--memory", "32m", "--memory-swap", "32m"),
        ),
        # A second of life before each exit: Podman restarts at once, and a container that exits as it starts keeps
        # its restart handling busy enough to skew the other containers' figures.
        "loop": engine.run("loop", "sh", "-c", "sleep 1; exit 3", options=("--restart", "always")),
        "unhealthy": engine.run(
            "unhealthy",
            "sleep",
            "100000",
            options=("--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1"),
        ),
        "failed": engine.run("failed", "sh", "-c", "exit 5"),
    }
    engine.cli("pause", "busy")  # it burns a CPU only while its test measures it
    wait_for(lambda: "held" in engine.cli("logs", "memory").stdout, "the memory container to fill its /dev/shm")
    wait_for(lambda: engine.inspect("oom")["State"]["Status"] == "exited", "the oom container to be killed")
    if engine.name == "docker":  # the daemon sets the flag on containerd's OOM event, which may come after the exit
        wait_for(lambda: engine.inspect("oom")["State"]["OOMKilled"], "Docker to flag the kill for memory")
    wait_for(lambda: engine.inspect("failed")["State"]["Status"] == "exited", "the failed container to exit")
    wait_for(lambda: engine.inspect("loop")["RestartCount"] >= 2, "the loop container to restart twice")
    if engine.name == "podman":  # no systemd here to run Podman's health check timer: run it as the timer would
        engine.cli("healthcheck", "run", "unhealthy", check=False)
    wait_for(lambda: _health(engine.inspect("unhealthy")) == "unhealthy", "the health check to fail")
    return Scene(engine, ids)


def _health(inspected: dict) -> str | None:
    state = inspected["State"]
    health = state.get("Health") or state.get("Healthcheck") or {}
    return health.get("Status")


@pytest.fixture(scope="session")
def docker_scene(docker_engine: Engine) -> Scene:
    return _start_scene(docker_engine)


@pytest.fixture(scope="session")
def podman_scene(podman_engine: Engine) -> Scene:
    return _start_scene(podman_engine)


@pytest.fixture(params=["docker", "podman"])
def scene(request: pytest.FixtureRequest) -> Scene:
    """The test once with each engine's scene."""
    return request.getfixturevalue(f"{request.param}_scene")
