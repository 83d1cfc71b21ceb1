"""The release check: sdist and wheel built and twine-checked, the wheel working in a fresh venv.

One build and install per module (tests/release_check.py does the steps; ``nox -s release``
runs the same). It fetches hatchling and the wheel's dependencies from the package index, and
takes 10 to 20 s of a core, hence ``cpu_bound``: never beside the timing tests' neighbours.
The changelog's entry and the README's versioning policy are checked here too.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .release_check import (
    Installed,
    check_contents,
    check_installed,
    cli_defines_version_flag,
    release_check,
    source_version,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    yield release_check(tmp_path_factory.mktemp("release"))


@pytest.mark.cpu_bound
def test_release_builds_checks_and_installs(installed: Installed) -> None:
    # release_check raised on any failed step; what it left is the proof it ran them.
    assert installed.sdist.name == f"shipstation_async-{source_version()}.tar.gz"
    assert installed.wheel.name == f"shipstation_async-{source_version()}-py3-none-any.whl"
    assert installed.command.is_file()
    print(f"release check: {installed.seconds:.1f} s")


@pytest.mark.cpu_bound
def test_installed_command_reports_version_when_the_cli_defines_it(installed: Installed) -> None:
    help_text = subprocess.run(
        [installed.command, "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert ("--version" in help_text) == cli_defines_version_flag()
    if cli_defines_version_flag():
        shown = subprocess.run(
            [installed.command, "--version"], capture_output=True, text=True, check=True
        ).stdout
        assert source_version() in shown


@pytest.mark.cpu_bound
def test_contents_check_refuses_an_sdist_without_its_license(
    installed: Installed, tmp_path: Path
) -> None:
    # The check itself can fail: the same sdist less LICENSE is refused.
    stripped = tmp_path / installed.sdist.name
    with tarfile.open(installed.sdist) as source, tarfile.open(stripped, "w:gz") as target:
        for member in source.getmembers():
            if member.name.endswith("/LICENSE"):
                continue
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    with pytest.raises(AssertionError, match="LICENSE"):
        check_contents(stripped, installed.wheel)


@pytest.mark.cpu_bound
def test_installed_check_refuses_a_venv_that_imports_another_copy(
    installed: Installed, tmp_path: Path
) -> None:
    # A venv whose import resolves elsewhere (here: the source tree put first on sys.path by a
    # .pth file, as an editable install or a stray PYTHONPATH would) is refused.
    site = next((installed.venv / "lib").glob("python*/site-packages"))
    shadow = site / "aaa_shadow.pth"
    src = Path(__file__).resolve().parents[1] / "src"
    shadow.write_text(f"import sys; sys.path.insert(0, {str(src)!r})\n", "utf-8")
    try:
        with pytest.raises(AssertionError, match="imported from"):
            check_installed(installed)
    finally:
        shadow.unlink()


def test_changelog_has_an_entry_for_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    version = source_version()
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.M)
    entry = text.split(f"## [{version}]", 1)[1].split("\n## ", 1)[0]
    assert "### Added" in entry
    assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.M)


def test_readme_states_the_versioning_policy() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("\n## Versioning\n", 1)[1].split("\n## ", 1)[0]
    for claim in ("Semantic Versioning", "exit codes", "DeprecationWarning", "six months"):
        assert claim in section, claim
    # The modules it names as public with an __all__ have one, and every name it lists exists.
    with_all = ("models", "streams", "backfill", "webhooks", "sandbox", "budget", "settlement")
    for name in (*with_all, "errors", "events", "resources", "scheduler"):
        assert f"`{name}`" in section
        assert hasattr(importlib.import_module(f"shipstation_async.{name}"), "__all__"), name
    for name in ("client", "limits"):
        assert f"`{name}`" in section
        importlib.import_module(f"shipstation_async.{name}")
