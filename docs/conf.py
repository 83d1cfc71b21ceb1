"""Sphinx configuration for the shipstation-async documentation site.

The build needs no network: cross-references to Python, aiohttp, attrs and cattrs resolve
through small inventories kept in ``docs/_inventories`` (``make_inventories.py`` writes them).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "src"))

from shipstation_async import __version__  # noqa: E402

project = "shipstation-async"
author = "shipstation-async contributors"
copyright = "2026, shipstation-async contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "cli_help",
    "public_names",
    "public_api",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_inventories", "_ext", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"shipstation-async {release}"
html_static_path = ["_static"]
html_theme_options = {"navigation_with_keys": True}

# Warnings are errors (-W) and every cross-reference must resolve.
nitpicky = True

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_class_signature = "separated"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = False

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(HERE / "_inventories" / "python.inv")),
    "aiohttp": ("https://docs.aiohttp.org/en/stable", str(HERE / "_inventories" / "aiohttp.inv")),
    "attrs": ("https://www.attrs.org/en/stable", str(HERE / "_inventories" / "attrs.inv")),
    "cattrs": ("https://catt.rs/en/stable", str(HERE / "_inventories" / "cattrs.inv")),
}
intersphinx_timeout = 1

doctest_global_setup = ""
