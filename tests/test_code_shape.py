"""The source stays easy to hold in one's head: short modules, short functions, public aiohttp only.

Limits from the project's standards: no module over 600 lines and no function over 80 lines,
except the data tables named in ``EXEMPT`` with the reason they are long.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shipstation_async"
MODULE_LINES = 600
FUNCTION_LINES = 80

# "path relative to SRC::qualified name" -> why it may be longer.
EXEMPT: dict[str, str] = {}

# aiohttp's documented public API: names imported from the top-level package only.
AIOHTTP_PUBLIC_MODULES = {"aiohttp", "aiohttp.web"}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.AST]]:
    found: list[tuple[str, ast.AST]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                found.append((name, node))
            found.extend(_functions(node, f"{name}."))
        else:
            found.extend(_functions(node, prefix))
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_is_short(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    key = str(path.relative_to(SRC))
    assert lines <= MODULE_LINES or key in EXEMPT, f"{key}: {lines} lines"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = str(path.relative_to(SRC))
    too_long = []
    for name, node in _functions(tree):
        assert node.end_lineno is not None
        length = node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]
        if length > FUNCTION_LINES and f"{rel}::{name}" not in EXEMPT:
            too_long.append(f"{name}: {length} lines")
    assert not too_long, f"{rel}: {too_long}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_only_public_aiohttp(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported_as: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aiohttp"):
            assert node.module in AIOHTTP_PUBLIC_MODULES, f"from {node.module} import ..."
            imported_as.update(alias.asname or alias.name for alias in node.names)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aiohttp"):
                    assert alias.name in AIOHTTP_PUBLIC_MODULES, f"import {alias.name}"
                    imported_as.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                text = ast.unparse(base)
                root = text.partition(".")[0].partition("[")[0]
                assert root not in imported_as | {"aiohttp"}, f"{node.name} subclasses {text}"
