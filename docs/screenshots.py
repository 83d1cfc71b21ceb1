"""Screenshots of the built site in headless Chromium, for reviewers of a change to the docs.

Run after building the site (``sphinx-build -b html docs docs/_build/html``)::

    python docs/screenshots.py [path/to/chromium]

It writes ``docs/_static/screenshots/home.png`` and ``reference.png``. Chromium comes from
Debian's ``chromium`` package; the flags keep it off the network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = HERE / "_build" / "html"
OUT = HERE / "_static" / "screenshots"
PAGES = {"home": "index.html", "reference": "reference/client.html"}
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,900",
]


def main() -> None:
    """Take one screenshot per page in PAGES."""
    browser = sys.argv[1] if len(sys.argv) > 1 else shutil.which("chromium")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install chromium, or pass its path")
    OUT.mkdir(parents=True, exist_ok=True)
    for name, page in PAGES.items():
        target = SITE / page
        if not target.exists():
            raise SystemExit(f"{target} is missing: build the site first")
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run(
                [
                    browser,
                    *FLAGS,
                    f"--user-data-dir={profile}",
                    f"--screenshot={OUT / (name + '.png')}",
                    target.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
