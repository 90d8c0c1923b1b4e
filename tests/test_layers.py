"""The packages' layers (README.md, Architecture): which package may import which. Every import counts, those
inside functions and under TYPE_CHECKING too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

ALLOWED = {
    "monitoring": set(),
    "config": {"monitoring"},
    "agent": {"config", "monitoring"},  # never storage or the web stack: an agent host stays small
    "storage": {"config", "monitoring"},
    "alerts": {"storage", "config", "monitoring"},
    "pipeline": {"alerts", "storage", "config", "monitoring"},
    "scheduler": {"pipeline", "storage", "config"},
    "fleet": {"pipeline", "alerts", "storage", "config", "monitoring"},  # the hub side: ingest records as a run does
    "dashboard": {"fleet", "pipeline", "scheduler", "alerts", "storage", "config", "monitoring"},
}
OURS = {*ALLOWED, "scripts", "main", "tests", "benchmarks"}


def imported_packages(path: Path) -> set[str]:
    """The top-level names a module imports, wherever in it the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.partition(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported & OURS - ALLOWED[package] - {package})
        for path in sorted((ROOT / package).rglob("*.py"))
        if (imported := imported_packages(path)) & OURS - ALLOWED[package] - {package}
    }
    assert wrong == {}


def test_nothing_imports_the_entry_points() -> None:
    """scripts/ and main.py are where the platform starts: no package depends on them."""
    importers = [
        str(path.relative_to(ROOT))
        for package in ALLOWED
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) & {"scripts", "main"}
    ]
    assert importers == []
