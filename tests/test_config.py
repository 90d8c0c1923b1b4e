"""Settings: defaults, precedence, paths, and every kind of bad value stopping the run cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.fields import ConfigError
from config.paths import PROJECT_ROOT
from config.settings import SETTING_KEYS, load_settings
from config.thresholds import threshold_keys
from monitoring.levels import Levels
from tests.conftest import MAIN, Workspace


def test_defaults_match_the_seed() -> None:
    settings = load_settings({})
    thresholds = settings.thresholds
    assert thresholds["cpu_percent"].default == Levels(80, 95)
    assert thresholds["memory_percent"].default == Levels(85, 95)
    assert thresholds["disk_percent"].default == Levels(90, 95)
    assert settings.log_level == "INFO"
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'data' / 'automation.db'}"
    assert settings.log_file == PROJECT_ROOT / "logs" / "automation.log"


def test_relative_paths_are_taken_from_the_project_root(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # cron starts jobs in $HOME
    settings = load_settings({"DATABASE_URL": "sqlite:///./data/other.db", "LOG_FILE": "logs/x.log"})
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'data' / 'other.db'}"
    assert settings.log_file == PROJECT_ROOT / "logs" / "x.log"


def test_environment_wins_over_the_env_file(workspace: Workspace) -> None:
    workspace.write_env(CPU_THRESHOLD="70", MEMORY_THRESHOLD="60")
    settings = load_settings(workspace.environ(CPU_THRESHOLD="75"))
    assert settings.thresholds["cpu_percent"].default.warning == 75
    assert settings.thresholds["memory_percent"].default.warning == 60
    assert settings.env_file == workspace.env_file


def test_per_resource_overrides_and_off() -> None:
    settings = load_settings(
        {
            "DISK_THRESHOLD_OVERRIDES": "/var/log/=97, /mnt/scratch=off, C:=50",
            "DISK_CRITICAL_THRESHOLD_OVERRIDES": "/var/log=99",
            "GPU_TEMPERATURE_THRESHOLD_OVERRIDES": "0=85,GPU-1234abcd-0000=70",
            "SWAP_THRESHOLD": "off",
        }
    )
    disk = settings.thresholds["disk_percent"]
    assert disk.levels_for("/var/log") == Levels(97, 99)
    assert disk.levels_for("/mnt/scratch") == Levels(None, 95)
    assert disk.levels_for("C:\\") == Levels(50, 95)
    assert disk.levels_for("/") == Levels(90, 95)
    gpu = settings.thresholds["gpu_temperature_celsius"]
    assert gpu.levels_for("GPU-1234abcd-0000", "3") == Levels(70, 90)
    assert gpu.levels_for("GPU-other", "0") == Levels(85, 90)
    assert settings.thresholds["swap_percent"].default == Levels(None, 95)


def test_env_example_documents_every_key() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text()
    documented = {line.split("=", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert set(SETTING_KEYS) | set(threshold_keys()) <= documented
    load_settings({"AUTOMATION_ENV_FILE": str(PROJECT_ROOT / ".env.example")})  # and its values are valid


BAD_VALUES = [
    ("CPU_THRESHOLD", "abc", "a number from 0 to 100"),
    ("CPU_THRESHOLD", "-5", "a number from 0 to 100"),
    ("MEMORY_THRESHOLD", "150", "a number from 0 to 100"),
    ("DISK_THRESHOLD", "nan", "a number from 0 to 100"),
    ("CPU_THRESHOLD", "96", "not above CPU_CRITICAL_THRESHOLD (95)"),
    ("MEMORY_CRITICAL_THRESHOLD", "70", "not below MEMORY_THRESHOLD (85)"),
    ("GPU_TEMPERATURE_THRESHOLD", "200", "a number from 0 to 150"),
    ("LOAD_THRESHOLD", "high", "a number from 0 to 1000"),
    ("LOG_LEVEL", "LOUD", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("DATABASE_URL", "not a url", "a SQLAlchemy URL"),
    ("DATABASE_URL", "oracle://scott@db/orcl", "backend one of sqlite, postgresql, mysql, mariadb"),
    ("DISK_THRESHOLD_OVERRIDES", "var=97", "MOUNT"),
    ("DISK_THRESHOLD_OVERRIDES", "/var=99", "not above the CRITICAL level for /var (95)"),
    ("GPU_MEMORY_THRESHOLD_OVERRIDES", "first=50", "GPU (index or UUID)"),
    ("MONITOR_TOP_PROCESSES", "-1", "a whole number from 0 to 100"),
    ("MONITOR_DISABLED_COLLECTORS", "cpu,toaster", "a comma-separated list of cpu, memory"),
    ("LOG_MAX_BYTES", "10MB", "a whole number"),
    ("DATABASE_BUSY_TIMEOUT_SECONDS", "-1", "a number from 0 to 3600"),
    ("MONITOR_SYSTEM_DISK", "banana", "a mount point such as / or C:"),
    ("SCHEDULER_PREFORK", "sometimes", "true or false (also yes/no, on/off, 1/0)"),
    ("ALERT_FOR", "soon", "a duration such as 90, 90s, 5m, 2h or 1d"),
    ("CPU_ALERT_FOR", "-5m", "a duration such as 90, 90s, 5m, 2h or 1d"),
    ("ALERT_FLAP_WINDOW", "60d", "at most 30d"),
    ("ALERT_FLAP_COUNT", "0", "a whole number from 1 to 1000"),
    ("ALERT_HYSTERESIS", "lots", "a number from 0 to 100"),
    ("ALERT_DISK_PREDICT_HOURS", "0.1", "a number from 0.25 to 720"),
    ("ALERT_DISK_FULL_WITHIN_HOURS", "-1", "a number from 0 to 8760"),
    ("DISK_FULL_THRESHOLD", "120", "a number from 0 to 100, or off"),
    ("DISK_FULL_THRESHOLD_OVERRIDES", "data=off", "MOUNT"),
    ("NETWORK_RECV_THRESHOLD", "100MB", "a number from 0 to 1e+12, or off"),
    ("NETWORK_ERRORS_CRITICAL_THRESHOLD", "-1", "a number from 0 to 1e+09, or off"),
    ("NETWORK_SENT_THRESHOLD_OVERRIDES", "eth0", "INTERFACE (e.g. eth0)=VALUE"),
    ("NETWORK_DROPS_THRESHOLD_OVERRIDES", "eth0=1,eth0=2", "INTERFACE (e.g. eth0)=VALUE"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES, ids=[f"{k}={v}" for k, v, _ in BAD_VALUES])
def test_bad_value_raises_one_clear_error(key: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({key: value})
    message = str(raised.value)
    assert raised.value.key == key
    assert message.startswith(f"{key}={value!r} is invalid; expected ")
    assert expected in message
    assert "\n" not in message


def test_a_password_in_a_bad_url_is_not_shown() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"DATABASE_URL": "postgresql://admin:s3cret@db.example/prod"})  # psycopg2 is not installed
    assert "s3cret" not in str(raised.value)
    assert "admin:***@" in str(raised.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CPU_THRESHOLD", "abc"),
        ("CPU_THRESHOLD", "96"),
        ("LOG_LEVEL", "LOUD"),
        ("DATABASE_URL", "not a url"),
        ("NETWORK_RECV_THRESHOLD_OVERRIDES", "eth0=fast"),
    ],
)
@pytest.mark.parametrize("entry", ["script", "main"])
def test_bad_setting_stops_the_run_with_exit_2_and_writes_nothing(
    workspace: Workspace, key: str, value: str, entry: str
) -> None:
    workspace.write_env(**{key: value})
    result = workspace.run(*(["monitor"] if entry == "main" else []), **({"script": MAIN} if entry == "main" else {}))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {key}=")
    assert value in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not workspace.database.exists() and not workspace.database.parent.exists()
    assert not workspace.log_file.exists()


def test_bad_setting_in_nagios_mode_is_unknown(workspace: Workspace) -> None:
    workspace.write_env(MEMORY_THRESHOLD="150")
    result = workspace.run("--nagios")
    assert result.returncode == 3
    assert result.stdout.startswith("SYSTEM UNKNOWN - configuration error: MEMORY_THRESHOLD='150'")


def test_a_named_env_file_that_does_not_exist_is_a_config_error(workspace: Workspace) -> None:
    result = workspace.run("--env-file", str(workspace.path / "missing.env"))
    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: --env-file=") and "missing.env" in result.stderr


def test_a_blank_value_means_the_default() -> None:
    settings = load_settings({"CPU_THRESHOLD": "", "MONITOR_SYSTEM_DISK": " ", "LOG_LEVEL": ""})
    assert settings.thresholds["cpu_percent"].default == Levels(80, 95) and settings.system_disk == "/"
    with pytest.raises(ConfigError) as raised:  # the key that was set is the one named
        load_settings({"CPU_THRESHOLD": "", "CPU_CRITICAL_THRESHOLD": "50"})
    assert raised.value.key == "CPU_CRITICAL_THRESHOLD"


def test_the_system_disk_is_normalised() -> None:
    assert load_settings({"MONITOR_SYSTEM_DISK": "/var/"}).system_disk == "/var"
    assert load_settings({"MONITOR_SYSTEM_DISK": "c:"}).system_disk == "C:\\"


@pytest.mark.parametrize("where", ["a-directory", "below-a-file"])
def test_a_log_file_that_cannot_be_written_is_a_config_error(workspace: Workspace, where: str) -> None:
    target = workspace.path / "is-a-directory"
    target.mkdir()
    if where == "below-a-file":
        blocker = workspace.path / "blocker"
        blocker.write_text("a file, so nothing can be created below it")
        target = blocker / "automation.log"
    workspace.write_env(LOG_FILE=str(target))
    result = workspace.run()
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"configuration error: LOG_FILE='{target}' is invalid; expected a file that")
    assert not workspace.database.exists()


def test_env_file_option_is_relative_to_the_working_directory(workspace: Workspace) -> None:
    (workspace.path / "site.env").write_text(
        f"DATABASE_URL=sqlite:///{workspace.database}\nLOG_FILE=off\nCPU_THRESHOLD=off\nCPU_CRITICAL_THRESHOLD=off\n"
    )
    result = workspace.run("--nagios", "--env-file", "site.env", cwd=workspace.path, AUTOMATION_ENV_FILE="")
    assert result.returncode in (0, 1, 2), result.stdout
    assert re.search(r" cpu=[\d.]+%;;;0;100 ", result.stdout + " ")  # CPU levels off: the file was read
    assert workspace.database.exists()


def test_alert_durations_and_per_metric_overrides() -> None:
    alerts = load_settings(
        {"ALERT_FOR": "5m", "DISK_ALERT_FOR": "1h", "GPU_TEMPERATURE_ALERT_FOR": "90", "ALERT_REPEAT_MINUTES": "0"}
    ).alerts
    assert alerts.for_seconds["cpu_percent"] == 300 and alerts.for_seconds["disk_percent"] == 3600
    assert alerts.for_seconds["gpu_temperature_celsius"] == 90 and alerts.repeat_seconds == 0
    assert (alerts.hysteresis_points, alerts.flap_count, alerts.flap_window_seconds) == (5, 3, 1800)


NOT_NUMBERS = [
    ("CPU_THRESHOLD", "1_0"),
    ("CPU_THRESHOLD", "inf"),
    ("CPU_THRESHOLD", "Infinity"),
    ("ALERT_HYSTERESIS", "nan"),
    ("API_PORT", "8_000"),
    ("LOG_BACKUP_COUNT", "\u0665"),  # ARABIC-INDIC DIGIT FIVE: int() takes it
    ("LOG_MAX_BYTES", "9" * 5000),  # int() refuses this many digits with its own ValueError
    ("RETENTION_METRICS_DAYS", "3_0"),
    ("ALERT_FOR", "\u0665m"),
]


@pytest.mark.parametrize(("key", "value"), NOT_NUMBERS, ids=[f"{k}={v[:8]}" for k, v in NOT_NUMBERS])
def test_what_python_reads_as_a_number_but_no_one_writes_is_refused(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({key: value})
    assert raised.value.key == key and "\n" not in str(raised.value)


def test_numbers_as_people_write_them_are_read() -> None:
    settings = load_settings({"CPU_THRESHOLD": " 70.5 ", "NETWORK_RECV_THRESHOLD": "1e8", "LOG_BACKUP_COUNT": "+3"})
    assert settings.thresholds["cpu_percent"].default.warning == 70.5
    assert settings.thresholds["network_recv_bytes_per_second"].default.warning == 1e8
    assert settings.log_backup_count == 3


def test_a_byte_order_mark_is_accepted(workspace: Workspace) -> None:
    workspace.env_file.write_bytes(b"\xef\xbb\xbfCPU_THRESHOLD=71\r\nMEMORY_THRESHOLD=72\r\n")
    settings = load_settings(workspace.environ())
    assert settings.thresholds["cpu_percent"].default.warning == 71  # the first key is not lost to the mark
    assert settings.thresholds["memory_percent"].default.warning == 72


BAD_FILES = [
    (b"CPU_THRESHOLD=70\n\n\nAPI_TOKEN='s3cret\n", 4, "cannot parse the line starting 'API_TOKEN'; expected KEY"),
    (b"# settings\nCPU_THRESHOLD 70\n", 2, "cannot parse the line starting 'CPU_THRESHOLD'; expected KEY=VALUE"),
    (b"CPU_THRESHOLD=70\nMEMORY_THRESHOLD\n", 2, "'MEMORY_THRESHOLD' has no '='"),
    (b"CPU_THRESHOLD=70\nLOG_FILE=/var/log/caf\xe9.log\n", 2, "byte 0xe9 is not UTF-8; save the file as UTF-8"),
    ("CPU_THRESHOLD=70\n".encode("utf-16"), 1, "the file is UTF-16; save it as UTF-8"),
]


@pytest.mark.parametrize(
    ("content", "line", "problem"), BAD_FILES, ids=["quote", "no-equals", "bare-key", "latin-1", "utf-16"]
)
def test_an_unreadable_env_line_names_the_file_and_line(
    workspace: Workspace, content: bytes, line: int, problem: str
) -> None:
    workspace.env_file.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_settings(workspace.environ())
    assert str(raised.value).startswith(f"{workspace.env_file}, line {line}: {problem}")
    assert "s3cret" not in str(raised.value)


def test_a_key_set_twice_is_a_warning_naming_both_lines(workspace: Workspace, caplog) -> None:
    caplog.set_level("WARNING", logger="automation.config")
    workspace.env_file.write_text("CPU_THRESHOLD=70\nMEMORY_THRESHOLD=60\nCPU_THRESHOLD=75\n")
    assert load_settings(workspace.environ()).thresholds["cpu_percent"].default.warning == 75
    assert caplog.messages == [f"{workspace.env_file}: CPU_THRESHOLD is set on lines 1 and 3; line 3 wins"]


def test_an_env_file_that_is_not_a_file_is_one_line(workspace: Workspace) -> None:
    """A directory where the file should be (a test that root, which reads any file, can run)."""
    workspace.env_file.unlink()
    workspace.env_file.mkdir()
    with pytest.raises(ConfigError) as raised:
        load_settings(workspace.environ())
    assert str(raised.value) == (
        f"AUTOMATION_ENV_FILE={str(workspace.env_file)!r} is invalid; expected the path of an existing .env file"
    )


def test_an_unreadable_env_file_stops_the_run_with_one_line(workspace: Workspace) -> None:
    workspace.env_file.write_bytes(workspace.env_file.read_bytes() + b"CPU_THRESHOLD=\xff\n")
    result = workspace.run("monitor", script=MAIN)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"configuration error: {workspace.env_file}, line 3: byte 0xff is not UTF-8; save the file as UTF-8"
    ]
    assert result.stdout == "" and not workspace.database.exists()


def test_a_misspelt_key_in_the_env_file_is_a_warning_naming_the_likely_key(workspace: Workspace) -> None:
    workspace.write_env(CPU_TRESHOLD="70", cpu_critical_threshold="90", SOME_OTHER_TOOL="x")
    result = workspace.run("cron", "next", "@daily", "-n", "1", script=MAIN)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{workspace.env_file}: CPU_TRESHOLD is not a known setting; did you mean CPU_THRESHOLD?",
        f"{workspace.env_file}: cpu_critical_threshold is not a known setting; did you mean CPU_CRITICAL_THRESHOLD?",
    ]


def test_only_the_env_file_is_checked_for_misspelt_keys(workspace: Workspace, caplog) -> None:
    caplog.set_level("WARNING", logger="automation.config")
    load_settings(workspace.environ(CPU_TRESHOLD="70"))  # the process environment holds all kinds of names
    load_settings({"AUTOMATION_ENV_FILE": str(PROJECT_ROOT / ".env.example")})  # every documented key is known
    assert caplog.messages == []
    workspace.write_env(MEMORY_TRESHOLD="70")
    load_settings(workspace.environ())
    assert caplog.messages == [
        f"{workspace.env_file}: MEMORY_TRESHOLD is not a known setting; did you mean MEMORY_THRESHOLD?"
    ]
