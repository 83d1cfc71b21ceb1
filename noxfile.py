"""Developer sessions: ``nox -s tests lint typecheck docs release bench stress``."""

from __future__ import annotations

import subprocess
import sys

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"


@nox.session(python=["3.11", "3.12", "3.13"])
def tests(session: nox.Session) -> None:
    """The test suite on each supported Python found on this machine (others are skipped)."""
    session.install("-e", ".[test,docs]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test,docs]")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the sandbox: figures for the README (several minutes)."""
    session.install("-e", ".[test,speedups,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def stress(session: nox.Session) -> None:
    """The whole suite three times in a row beside a CPU-bound process it starts and stops.

    The timing tests run real windows against sandboxes in threads of the test process: with
    the CPU short, a sandbox counts requests late and the client wakes late. Safety (429s,
    the most admitted in any window) must still hold exactly, and speed within its room. Each
    run uses the suite's three workers (pyproject's addopts), so the hog comes on top of them.
    """
    session.install("-e", ".[test,docs]")
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    session.log(f"a CPU-bound process runs beside the suite (pid {hog.pid})")
    try:
        for run in range(1, 4):
            session.log(f"run {run} of 3")
            session.run("pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
    finally:
        hog.terminate()
        hog.wait(10)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors, and run its doctests."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "-n", "-q", "-b", "html", "docs", "docs/_build/html")
    session.run("sphinx-build", "-W", "-n", "-q", "-b", "doctest", "docs", "docs/_build/doctest")


@nox.session
def release(session: nox.Session) -> None:
    """Build the sdist and wheel, twine-check them, and try the wheel in a fresh venv."""
    session.install("build>=1.2", "twine>=7.0")
    session.run("python", "-m", "tests.release_check")
