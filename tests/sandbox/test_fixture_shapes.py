"""The project's examples have the shapes of ShipStation's published ones (when present).

The sandbox tests read the project's own examples (``tests/fixtures/examples``). This extra
check compares each with the published example of the same name: the folder
``SHIPSTATION_REFERENCE_EXAMPLES`` names, else ``<repo>/../shared/reference/examples``
(present in CI); without it the check is skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from .helpers import EXAMPLES_ROOT, example

_REPO = Path(__file__).resolve().parents[2]


def _reference_root() -> Path:
    named = os.environ.get("SHIPSTATION_REFERENCE_EXAMPLES")
    if named:
        return Path(named)
    return _REPO.parent / "shared" / "reference" / "examples"


REFERENCE = _reference_root()
OWN = sorted(
    str(p.relative_to(EXAMPLES_ROOT))
    for p in EXAMPLES_ROOT.rglob("*")
    if p.suffix in (".json", ".txt")
)


def _published(name: str) -> Any:
    text = (REFERENCE / name).read_text()
    if name.endswith(".txt"):
        text = text[min(i for i in (text.find("{"), text.find("[")) if i >= 0) :]
    return json.loads(text)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _differences(own: Any, doc: Any, where: str = "") -> list[str]:
    """Where ``own`` departs from ``doc``'s shape (keys, nesting, value kinds; null fits any)."""
    if own is None or doc is None:
        return []
    if isinstance(doc, dict) and isinstance(own, dict):
        if set(own) != set(doc):
            return [f"{where or '.'}: keys {sorted(set(own) ^ set(doc))}"]
        return [d for k in doc for d in _differences(own[k], doc[k], f"{where}.{k}")]
    if isinstance(doc, list) and isinstance(own, list):
        if own and doc:
            return _differences(own[0], doc[0], f"{where}[0]")
        return []
    if _kind(own) != _kind(doc):
        return [f"{where or '.'}: {_kind(own)} where the docs have {_kind(doc)}"]
    return []


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="the published examples are not present")
@pytest.mark.parametrize("name", OWN)
def test_own_example_has_the_published_shape(name: str) -> None:
    assert (REFERENCE / name).exists(), f"no published example named {name}"
    assert _differences(example(name), _published(name)) == []


def test_own_examples_exist_and_parse() -> None:
    assert len(OWN) >= 30
    for name in OWN:
        assert example(name) is not None
