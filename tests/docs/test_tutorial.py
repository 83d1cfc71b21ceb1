"""The tutorial's commands, as written on its page, run in a fresh virtual environment.

The page is read, not copied: each ``$ `` line of its ``console`` blocks runs in order in a
copy of the checkout, and each ``code-block`` captioned with a file name is written to that
file first. ``sandbox serve`` serves until stopped: it is started, must print its address,
and is stopped. A command that fails fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "tutorial.md"
STEP = re.compile(
    r"^```(?P<kind>console|\{code-block\} python)\n(?P<options>(?::[^\n]*\n)*)\n?(?P<body>.*?)^```",
    re.M | re.S,
)
COPIED = ("src", "pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md")


def steps() -> list[tuple[str, str]]:
    """("run", command) and ("file", name + NUL + text) in page order."""
    found: list[tuple[str, str]] = []
    for match in STEP.finditer(PAGE.read_text()):
        if match["kind"] == "console":
            for line in match["body"].splitlines():
                if line.startswith("$ "):
                    found.append(("run", line[2:]))
        else:
            caption = re.search(r":caption:\s*(\S+)", match["options"])
            assert caption, "a code block in the tutorial must name its file"
            found.append(("file", caption[1] + "\0" + match["body"]))
    return found


def checkout(into: Path) -> None:
    """The parts of the repository a user's checkout has that installing needs."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, into / name)


def environment() -> dict[str, str]:
    """The user's shell: no SHIPSTATION_ variables, no virtual environment of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPSTATION_", "VIRTUAL_ENV"))}
    env.pop("PYTHONPATH", None)
    return env


@pytest.mark.cpu_bound
def test_tutorial_commands_run_as_written(tmp_path: Path) -> None:
    planned = steps()
    commands = [text for kind, text in planned if kind == "run"]
    assert commands[0].startswith("python3 -m venv"), "the tutorial starts from a fresh venv"
    assert any("backfill orders --sandbox" in c for c in commands)
    checkout(tmp_path)
    env = environment()
    if shutil.which("python3") is None:  # the page says python3; use this interpreter's
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    outputs: dict[str, str] = {}
    for kind, text in planned:
        if kind == "file":
            name, body = text.split("\0", 1)
            (tmp_path / name).write_text(body)
            continue
        if "sandbox serve" in text:
            serve_until_ready(text, tmp_path, env)
            continue
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", text],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert ran.returncode == 0, f"$ {text}\n{ran.stdout}\n{ran.stderr}"
        outputs[text] = ran.stdout
    # What the page says the commands show.
    assert (tmp_path / "orders.jsonl").read_text().count("\n") == 2000
    assert any(out.split()[0] == "2000" for cmd, out in outputs.items() if cmd.startswith("wc"))
    resumed = next(out for cmd, out in outputs.items() if cmd.endswith("--resume"))
    assert "already complete" in resumed
    program = next(out for cmd, out in outputs.items() if "first_sync.py" in cmd)
    assert "imported order TUTORIAL-1 with id" in program
    assert "read back: TUTORIAL-1 awaiting_shipment" in program
    assert "orders streamed: 100" in program
    assert "- 429 answers: 0" in program


def serve_until_ready(command: str, cwd: Path, env: dict[str, str]) -> None:
    """Start a command that serves until stopped, wait for its address, then stop it."""
    words = command.split()
    port = words.index("--port")
    words[port + 1] = "0"  # any free port: the page's 8080 may be taken on this machine
    server = subprocess.Popen(
        ["bash", "-c", "exec " + " ".join(words)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "http://127.0.0.1:" in line, line
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(20)
