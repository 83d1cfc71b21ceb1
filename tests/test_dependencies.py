"""The package declares exactly the runtime dependencies its source imports, and no more."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "shipstation_async"

# Imported only behind an extra or by the test runner that loads the plugin.
OPTIONAL_IMPORTS = {"msgspec": "speedups", "rich": "cli", "redis": "redis", "pytest": None}
# Distributions that are needed without being imported by name.
DATA_ONLY = {"tzdata"}  # zoneinfo's data where the system has none


def _distribution(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match, requirement
    return match.group(0).lower().replace("_", "-")


def _imported_third_party() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "shipstation_async":
                    found.add(top)
    return found


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    assert isinstance(project, dict)
    return project


def test_runtime_dependencies_are_what_src_imports() -> None:
    declared = {_distribution(r) for r in _project()["dependencies"]}  # type: ignore[attr-defined]
    imported = _imported_third_party() - set(OPTIONAL_IMPORTS)
    assert declared - DATA_ONLY == imported


def test_optional_imports_come_with_their_extra() -> None:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    imported = _imported_third_party()
    for module, extra in OPTIONAL_IMPORTS.items():
        if extra is None or module not in imported:
            continue
        assert module in {_distribution(r) for r in extras[extra]}, (module, extra)
