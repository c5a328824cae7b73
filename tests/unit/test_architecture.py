"""The arrows point inward: domain imports nothing of ours, events never imports api."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"domain", "events", "api"}
ALLOWED = {"domain": {"domain"}, "events": {"domain", "events"}, "api": OURS}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(package: str) -> None:
    offenders: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in OURS and top not in ALLOWED[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_domain_imports_only_the_standard_library() -> None:
    offenders: list[str] = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top not in sys.stdlib_module_names and top != "domain" and top != "__future__":
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_benchmarks_import_nothing_from_the_tests() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "bench").rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] == "tests"
    ]
    assert offenders == []


def test_the_career_service_knows_the_store_only_by_its_port() -> None:
    assert "events.sql_store" not in imported_modules(ROOT / "events" / "service.py")


def test_only_the_store_reads_the_idempotency_records() -> None:
    readers = {
        str(path.relative_to(ROOT))
        for package in ("api", "events")
        for path in (ROOT / package).rglob("*.py")
        if "idempotency_keys" in path.read_text() or "idempotency_table" in path.read_text()
    }
    store = {"events/schema.py", "events/sqlite_io.py", "events/pg_io.py", "events/sql_store.py"}
    tools = {"events/idempotency.py", "events/transfer.py"}  # audit; export and import
    migrations = {r for r in readers if r.startswith("events/migrations/")}
    assert readers - migrations <= store | tools
