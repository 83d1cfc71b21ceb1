"""The ``public-api`` directive: document every name in a module's ``__all__``.

The reference pages list nothing by hand, so a name added to ``__all__`` appears on the
next build, and a test reads the built inventory to prove each one did. Names a page leaves
to another page go in ``:exclude:``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def directive_for(value: Any) -> str:
    """The autodoc directive that documents ``value``."""
    if inspect.isclass(value):
        return "autoexception" if issubclass(value, BaseException) else "autoclass"
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return "autofunction"
    return "autodata"


class PublicApi(SphinxDirective):
    """Document each name of ``__all__`` of the module given as the argument."""

    required_arguments = 1
    option_spec = {"exclude": directives.unchanged, "first": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        """The nodes that replace the directive."""
        name = self.arguments[0]
        module = importlib.import_module(name)
        excluded = set((self.options.get("exclude") or "").split())
        first = (self.options.get("first") or "").split()
        lines = [f".. module:: {name}", ""]
        for public in [*first, *(n for n in module.__all__ if n not in first)]:
            if public in excluded:
                continue
            value = getattr(module, public)
            kind = directive_for(value)
            lines.append(f".. {kind}:: {name}.{public}")
            if kind in ("autoclass", "autoexception"):
                lines += ["   :members:", "   :undoc-members:", "   :show-inheritance:"]
            lines.append("")
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source=name), container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("public-api", PublicApi)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
