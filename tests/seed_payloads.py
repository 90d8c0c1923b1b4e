"""The seeds' example payloads exactly as their documents show them (coredotcloud's README, HiCloud's README),
`# comments` and `...` placeholders included, and how to make the JSON their clients would send of them."""

from __future__ import annotations

import json
import re
from typing import Any

# coredotcloud, "정기 데이터": an early example, not in the format the agent sends (no leading figures).
COREDOTCLOUD_SHORT_DATA = """{
    "apikey": "DKWs8wl",
    "category": "data",
    "data": [
        6,  # CPU 개수
        2,  # GPU 개수
        10.0, 15.0, 12.0, 18.0, 22.0, 17.0,  # CPU 사용률
        40.5, 8192, 2048,  # GPU 0 사용률 및 VRAM
        55.2, 4096, 1024,  # GPU 1 사용률 및 VRAM
        500.0, 100.0  # 네트워크 속도
    ]
}"""

COREDOTCLOUD_INFO = """{
    "apikey": "DKWs8wl",
    "category": "info",
    "data": {
        "hostname": "server-01",
        "os": "Linux",
        "os_version": "5.15.0-56-generic",
        "architecture": "x86_64",
        "cpu": {
            "model": "Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz",
            "physical_cores": 8,
            "logical_cores": 16,
            "frequency_mhz": 2300.0,
            "cpu_percent": 5.3
        },
        "memory": {
            "total_gb": 64.0,
            "available_gb": 50.5,
            "used_gb": 13.5,
            "usage_percent": 21.1
        },
        "disk": [...],
        "network": {...},
        "gpu": [
            {
                "name": "NVIDIA Tesla V100",
                "load_percent": 12.5,
                "memory_total_mb": 16384,
                "memory_used_mb": 4096,
                "memory_free_mb": 12288,
                "temperature": 65.0
            }
        ]
    }
}"""

COREDOTCLOUD_FOUR_CPUS = """{
    "apikey": "DKWs8wl",
    "data": [
        14.8,  # 전체 CPU 사용률 (%)
        128.0, # 총 메모리 (GB)
        57.78, # 사용 중인 메모리 (GB)
        46.0,  # 메모리 사용률 (%)
        3721.87, # 총 디스크 크기 (GB)
        10.39,   # 사용 중인 디스크 (GB)
        1.5,     # 디스크 사용률 (%)
        277.0,   # 네트워크 수신 속도 (KB/s)
        8.0,     # 네트워크 송신 속도 (KB/s)
        4,       # CPU 개수
        0,       # GPU 개수
        13.2,    # CPU 0 사용률 (%)
        14.0,    # CPU 1 사용률 (%)
        15.5,    # CPU 2 사용률 (%)
        16.8     # CPU 3 사용률 (%)
    ]
}"""

COREDOTCLOUD_SIX_CPUS_TWO_GPUS = """{
    "apikey": "DKWs8wl",
    "data": [
        12.5,  # 전체 CPU 사용률 (%)
        64.0,  # 총 메모리 (GB)
        45.0,  # 사용 중인 메모리 (GB)
        70.0,  # 메모리 사용률 (%)
        1000.0, # 총 디스크 크기 (GB)
        500.0,  # 사용 중인 디스크 (GB)
        50.0,   # 디스크 사용률 (%)
        500.0,  # 네트워크 수신 속도 (KB/s)
        100.0,  # 네트워크 송신 속도 (KB/s)
        6,      # CPU 개수
        2,      # GPU 개수
        10.0,   # CPU 0 사용률 (%)
        15.0,   # CPU 1 사용률 (%)
        12.0,   # CPU 2 사용률 (%)
        18.0,   # CPU 3 사용률 (%)
        22.0,   # CPU 4 사용률 (%)
        17.0,   # CPU 5 사용률 (%)
        40.5,   # GPU 0 사용률 (%)
        8192,   # GPU 0 총 VRAM (MB)
        2048,   # GPU 0 사용 중 VRAM (MB)
        55.2,   # GPU 1 사용률 (%)
        4096,   # GPU 1 총 VRAM (MB)
        1024    # GPU 1 사용 중 VRAM (MB)
    ]
}"""

HICLOUD_MONITOR_INFO = """{
    "engine_type": "docker",
    "agent_id": "agent_hicloud",
    "ser_cpu_count": 4,
    "ser_cpu_percent": 45.2,
    "ser_memory_total": 8192,
    "ser_memory_used": 4096,
    "ser_memory_percent": 50.0,
    "ser_get_datetime": "2024-09-04 15:30:00",
    "container_stats": [
        {
            "engine_type": "docker",
            "agent_id": "agent_hicloud",
            "node_name": "hicloud-agent",
            "container_name": "nginx-container",
            "status": "running",
            "con_cpu_percent": 0.5,
            "con_memory_usage": 50.2,
            "con_memory_percent": 0.6,
            "con_get_datetime": "2024-09-04 15:30:00"
        }
    ]
}"""

HICLOUD_ANSWER = {"data": "", "pageInfo": {}, "resultCode": "0", "resultMessage": "Success", "success": True}


def as_sent(example: str, **changes: Any) -> dict[str, Any]:
    """The document's example as its client builds it: without the `# comments` the document adds, `[...]` and
    `{...}` (parts the document leaves out) empty, and top-level fields replaced by `changes` (the key)."""
    text = re.sub(r"#[^\n]*", "", example).replace("[...]", "[]").replace("{...}", "{}")
    return {**json.loads(text), **changes}


def body(example: str, **changes: Any) -> bytes:
    return json.dumps(as_sent(example, **changes)).encode()
