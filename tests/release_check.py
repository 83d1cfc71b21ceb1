"""The release check: the sdist and wheel built and checked, the wheel tried in a fresh venv.

Standard library only (nox runs it in a venv holding only build and twine).

Used by ``tests/test_release.py`` and by ``nox -s release`` (``python -m tests.release_check``).
Needs ``build`` and ``twine`` beside the running interpreter (the ``test`` extra has both) and a
reachable package index: ``python -m build`` fetches hatchling into its isolated environment,
and the wheel's dependencies are installed from its own metadata, as a user's pip would.

The fresh venv is made without pip, and the running interpreter's pip installs into it
(``pip --python``, without byte-compiling what it installs): the venv holds nothing but the
wheel and what its metadata requires. Measured on the 2-core machine: a venv with its own pip
then ``pip install`` took 8.0 s, this 5.4 s (4.9 to 6.5 s without byte-compiling, beside other
work). Installing the dependencies from a wheel directory made beforehand (``pip wheel``, then
``--no-index``) took as long in all (3.9 s to make it, 1.8 s to install from it) and would no
longer check that the wheel's ``Requires-Dist`` is complete, so they come from the index.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = ROOT / "src" / "shipstation_async" / "_version.py"
CLI_SOURCE = ROOT / "src" / "shipstation_async" / "cli.py"
SDIST_FILES = ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml")
"""Files the sdist must hold at its top level, besides the package."""


@dataclass(frozen=True)
class Installed:
    """What the release check built and installed, for tests to look at."""

    sdist: Path
    wheel: Path
    venv: Path
    seconds: float

    @property
    def python(self) -> Path:
        """The fresh venv's interpreter."""
        return self.venv / "bin" / "python"

    @property
    def command(self) -> Path:
        """The installed ``shipstation-async`` console script."""
        return self.venv / "bin" / "shipstation-async"


def source_version() -> str:
    """The version the source tree declares (``_version.py``)."""
    namespace: dict[str, object] = {}
    exec(VERSION_FILE.read_text("utf-8"), namespace)
    return str(namespace["__version__"])


def cli_defines_version_flag() -> bool:
    """Whether the source tree's command line defines ``--version``."""
    return re.search(r"""["']--version["']""", CLI_SOURCE.read_text("utf-8")) is not None


def clean_env() -> dict[str, str]:
    """This environment without what would let the venv import the source tree instead."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command, raising with its output when it fails."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(str(a) for a in args)} exited {result.returncode}\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def build(outdir: Path) -> tuple[Path, Path]:
    """The sdist, and the wheel built from it (``python -m build``'s default), in ``outdir``."""
    run(sys.executable, "-m", "build", "--outdir", outdir, ROOT, cwd=outdir)
    (sdist,) = outdir.glob("*.tar.gz")
    (wheel,) = outdir.glob("*.whl")
    return sdist, wheel


def check_contents(sdist: Path, wheel: Path) -> None:
    """The files a release must carry, and ``twine check --strict`` on both."""
    version = source_version()
    top = f"shipstation_async-{version}"
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    missing = [f"{top}/{name}" for name in SDIST_FILES if f"{top}/{name}" not in names]
    missing += [] if f"{top}/src/shipstation_async/py.typed" in names else ["py.typed"]
    assert not missing, f"missing from the sdist: {missing}"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"{top}.dist-info/METADATA").decode("utf-8")
    for name in ("shipstation_async/py.typed", f"{top}.dist-info/licenses/LICENSE"):
        assert name in names, f"missing from the wheel: {name}"
    for line in (
        f"Version: {version}",
        "License-Expression: MIT",
        "License-File: LICENSE",
        "Project-URL: Changelog, ",
    ):
        assert line in metadata, f"the wheel's METADATA lacks {line!r}"
    run(sys.executable, "-m", "twine", "check", "--strict", sdist, wheel)


def install(wheel: Path, target: Path) -> None:
    """A fresh venv at ``target`` with the wheel and its dependencies (see the module)."""
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile", wheel)


def check_installed(installed: Installed) -> None:
    """The installed wheel imports from the venv, carries py.typed and runs its command."""
    probe = (
        "import importlib.resources, shipstation_async as p; "
        "print(p.__version__); print(p.__file__); "
        "print(importlib.resources.files(p).joinpath('py.typed').is_file())"
    )
    out = run(installed.python, "-I", "-c", probe, cwd=installed.venv).stdout.split("\n")
    assert out[0] == source_version(), out
    assert Path(out[1]).is_relative_to(installed.venv), f"imported from {out[1]}"
    assert out[2] == "True", "py.typed is not in the installed package"
    help_text = run(installed.command, "--help", cwd=installed.venv).stdout
    assert "backfill" in help_text and "sandbox" in help_text, help_text
    # The installed command matches the source tree's: --version listed iff cli.py defines it.
    assert ("--version" in help_text) == cli_defines_version_flag(), help_text
    if cli_defines_version_flag():
        shown = run(installed.command, "--version", cwd=installed.venv).stdout
        assert source_version() in shown, shown


def release_check(workdir: Path) -> Installed:
    """Every step, in ``workdir``; raises AssertionError naming the first that fails."""
    started = time.perf_counter()
    dist = workdir / "dist"
    dist.mkdir()
    sdist, wheel = build(dist)
    check_contents(sdist, wheel)
    install(wheel, workdir / "venv")
    installed = Installed(sdist, wheel, workdir / "venv", time.perf_counter() - started)
    check_installed(installed)
    return replace(installed, seconds=time.perf_counter() - started)


def main() -> None:
    """``python -m tests.release_check``: the whole check in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="ss-release-") as tmp:
        installed = release_check(Path(tmp))
    print(
        f"release check passed: {installed.sdist.name} and {installed.wheel.name} "
        f"built, checked and installed in {installed.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
