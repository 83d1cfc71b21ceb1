"""The documentation site builds clean, documents every public name, and its doctests pass.

The README's test command builds the site too (``-W -n``); here the build is checked from
the inside: the objects inventory it writes must hold every name of every public ``__all__``.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sphinx.util.inventory import InventoryFile

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

PUBLIC_MODULES = [
    "shipstation_async",
    "shipstation_async.backfill",
    "shipstation_async.budget",
    "shipstation_async.errors",
    "shipstation_async.events",
    "shipstation_async.models",
    "shipstation_async.resources",
    "shipstation_async.sandbox",
    "shipstation_async.scheduler",
    "shipstation_async.settlement",
    "shipstation_async.streams",
    "shipstation_async.webhooks",
]
"""Every public module or package with an ``__all__``: each has a page in the reference."""

pytestmark = pytest.mark.cpu_bound


def sphinx(builder: str, out: Path) -> subprocess.CompletedProcess[str]:
    """Build the site with ``builder``, warnings as errors and every reference checked."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", builder, str(DOCS), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


BUILT_HTML = "SHIPSTATION_DOCS_HTML"
"""Set by the README's test command to the site it built just before (``-W -n``): read that
build rather than build the same site again. Unset, the tests build their own."""
BUILT_DOCTEST = "SHIPSTATION_DOCS_DOCTEST"
"""The same for the doctest builder's output folder."""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built HTML site (the build itself must pass with warnings as errors)."""
    given = os.environ.get(BUILT_HTML)
    if given:
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("site")
    built = sphinx("html", out)
    assert built.returncode == 0, built.stdout + built.stderr
    return out


def documented(site: Path) -> dict[str, Any]:
    """Every Python object the site documents, by full name."""
    inventory = InventoryFile.loads((site / "objects.inv").read_bytes(), uri="")
    return {
        name: role
        for role, items in inventory.data.items()
        if role.startswith("py:")
        for name in items
    }


def test_every_public_name_is_in_the_reference(site: Path) -> None:
    names = documented(site)
    by_identity: dict[int, str] = {}
    for name in names:
        module, _, attribute = name.rpartition(".")
        if not module.startswith("shipstation_async"):
            continue
        try:
            value = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
        by_identity.setdefault(id(value), name)
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for public in module.__all__:
            value = getattr(module, public)
            # A re-export counts where the same object is documented under its own module.
            if f"{module_name}.{public}" not in names and id(value) not in by_identity:
                missing.append(f"{module_name}.{public}")
    assert not missing, f"public names missing from the reference: {missing}"


def test_every_public_package_has_a_listed_module() -> None:
    # A public package added later must be listed above, or its names go unchecked.
    root = ROOT / "src" / "shipstation_async"
    packages = {
        f"shipstation_async.{path.parent.name}"
        for path in root.glob("*/__init__.py")
        if not path.parent.name.startswith("_")
    }
    assert packages <= set(PUBLIC_MODULES), packages - set(PUBLIC_MODULES)


def test_the_reference_renders_the_command_line_help(site: Path) -> None:
    page = (site / "reference" / "cli.html").read_text()
    for command in ("shipstation-async backfill", "shipstation-async sandbox serve"):
        assert command in page
    assert "--sandbox-orders" in page and "--rate-limit" in page


def test_doctests_pass(tmp_path: Path) -> None:
    out = Path(os.environ.get(BUILT_DOCTEST) or tmp_path).resolve()
    if not os.environ.get(BUILT_DOCTEST):
        ran = sphinx("doctest", out)
        assert ran.returncode == 0, ran.stdout + ran.stderr
    report = (out / "output.txt").read_text()
    tests = re.search(r"^\s*(\d+) tests?$", report, re.M)
    assert tests is not None and int(tests[1]) >= 3, report  # the pages do hold doctests
    assert re.search(r"^\s*0 failures in tests$", report, re.M), report
