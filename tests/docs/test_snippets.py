"""Every code block in the README and on the site runs as written, against a sandbox.

A ``python`` block is a whole program: it runs in a subprocess with the credentials and
``SHIPSTATION_BASE_URL`` of a sandbox in the environment, and must exit 0. A ``bash`` block
runs the same way, with this environment's ``shipstation-async`` first on ``PATH``. Blocks
marked ``console`` or ``text`` are not run here: they show output, or commands that other
tests run (the tutorial's, in a fresh virtual environment) or that serve until stopped; code
that a page shows from a file (``literalinclude``) is run by that file's own test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipstation_async import RateLimit
from shipstation_async.sandbox import ThreadedSandbox

ROOT = Path(__file__).resolve().parents[2]
RUNNABLE = ("python", "bash")
FENCE = re.compile(
    r"^(?P<fence>```+|~~~+)(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)\s*$", re.M | re.S
)


def pages() -> list[Path]:
    """The README and every Markdown page of the site."""
    found = [ROOT / "README.md"]
    found += sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)
    return found


def blocks() -> Iterator[tuple[str, str, str]]:
    """(id, language, code) of every runnable block."""
    for page in pages():
        text = page.read_text()
        for match in FENCE.finditer(text):
            language = match["info"].strip().split(" ")[0]
            if language in RUNNABLE:
                line = text.count("\n", 0, match.start()) + 1
                name = f"{page.relative_to(ROOT)}:{line}"
                yield name, language, match["body"]


BLOCKS = list(blocks())


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ThreadedSandbox]:
    """One sandbox for the module's blocks, its window scaled down (40 per 2 s)."""
    with ThreadedSandbox(rate_limit=RateLimit(40, 2.0)) as sb:
        yield sb


def environment(sandbox: ThreadedSandbox) -> dict[str, str]:
    """What a user sets to point code at the sandbox, with this environment's tools first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPSTATION_")}
    env.update(
        SHIPSTATION_API_KEY=sandbox.api_key,
        SHIPSTATION_API_SECRET=sandbox.api_secret,
        SHIPSTATION_BASE_URL=sandbox.url,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def test_there_are_blocks_to_run() -> None:
    assert len(BLOCKS) >= 5, [name for name, _, _ in BLOCKS]


@pytest.mark.parametrize(("name", "language", "code"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_runs(
    name: str, language: str, code: str, sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    command = (
        [sys.executable, "-c", code]
        if language == "python"
        else ["bash", "-euo", "pipefail", "-c", code]
    )
    ran = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env=environment(sandbox),
    )
    assert ran.returncode == 0, f"{name} failed:\n{ran.stdout}\n{ran.stderr}"
