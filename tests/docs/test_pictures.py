"""The site's pictures: well-formed, readable on a dark theme, and showing what they claim.

``docs/pictures.py`` draws one budget window from a real run against the sandbox; here it runs
into a temporary directory and the picture it writes is checked against the run's own events:
one send mark per request sent, no more sends in any window than the limit, the second
window's sends after the server's reset. The hand-drawn pictures are checked for shape only.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
STATIC = DOCS / "_static"
SVG = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.timing


def load_pictures() -> ModuleType:
    """``docs/pictures.py``, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("docs_pictures", DOCS / "pictures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def most_within(times: list[float], period: float) -> int:
    """The most times in any half-open window of ``period`` (counted here, not by the module)."""
    return max(sum(1 for t in times if start <= t < start + period) for start in times)


def test_the_budget_window_picture_shows_the_run_it_was_drawn_from(tmp_path: Path) -> None:
    pictures = load_pictures()
    path, run = pictures.write_window(tmp_path)
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    limit, period = run.limit.requests, run.limit.period
    assert (root.get("data-limit"), root.get("data-period")) == (str(limit), f"{period:g}")

    # Every request the client sent is one send mark, its probes marked as such.
    marks = [c for c in root.iter(f"{SVG}circle") if "send" in classes(c)]
    assert len(marks) == len(run.requests) == pictures.CALLS
    probes = [c for c in marks if "probe" in classes(c)]
    assert len(probes) == sum(r.probe for r in run.requests) >= 2
    times = [float(c.get("data-t", "nan")) for c in marks]
    assert times == sorted(times)
    assert times == pytest.approx([r.send for r in run.requests], abs=1e-4)
    # Placed on the time axis as their times say: later sends never to the left.
    xs = [float(c.get("cx", "nan")) for c in marks]
    assert xs == sorted(xs) and xs[0] >= 0 and xs[-1] <= 960

    # Every request was answered (200, no 429), and the budget held: never more than the
    # limit in any window, and the whole limit used in the first one.
    assert run.throttled == 0
    assert [r.status for r in run.requests] == [200] * len(run.requests)
    assert most_within(times, period) == limit
    assert f"at most {limit} sends in any {period:g} s" in "".join(root.itertext())

    # The server's window end is drawn, and no send of the next window comes before it: a
    # slot frees W after its answer, never before the server's reset.
    (reset,) = [line for line in root.iter(f"{SVG}line") if "reset" in classes(line)]
    reset_at = float(reset.get("data-t", "nan"))
    assert period - 0.05 <= reset_at <= period + 0.5
    assert all(t >= reset_at - 1e-3 for t in times[limit:])
    assert all(t < reset_at for t in times[:limit])

    # Each slot is drawn held until its answer + W.
    holds = [r for r in root.iter(f"{SVG}rect") if "hold" in classes(r)]
    answers = sorted(r.answer for r in run.requests if r.answer is not None)
    until = sorted(float(r.get("data-until", "nan")) for r in holds)
    assert until == pytest.approx([a + period for a in answers], abs=1e-4)


def test_the_pictures_shipped_with_the_site_are_well_formed_and_on_white() -> None:
    pictures = sorted(STATIC.glob("*.svg"))
    names = {p.name for p in pictures}
    assert {"budget-window.svg", "request-flow.svg", "checkpoint-cycle.svg"} <= names
    for picture in pictures:
        root = ET.parse(picture).getroot()
        assert root.tag == f"{SVG}svg", picture.name
        assert root.find(f"{SVG}title") is not None, picture.name
        # An explicit white background: readable on furo's dark theme too.
        first = next(iter(root.iter(f"{SVG}rect")))
        assert "background" in classes(first) and first.get("fill") == "#ffffff", picture.name


def test_every_picture_is_shown_on_a_page_and_every_page_picture_exists() -> None:
    shown: set[str] = set()
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"```\{(?:figure|image)\}\s+(\S+)", page.read_text()):
            resolved = (page.parent / target).resolve()
            assert resolved.is_file(), f"{page.relative_to(ROOT)} shows a missing {target}"
            shown.add(resolved.name)
    assert shown >= {p.name for p in STATIC.glob("*.svg")}
