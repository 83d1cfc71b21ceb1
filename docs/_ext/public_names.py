"""Point references at the public name an object is documented under.

Signatures name classes by where they are defined (``shipstation_async._sansio.Lane``),
while the reference documents them where users import them (``shipstation_async.Lane``).
When a reference does not resolve, this looks the object up and, if the same object is
documented under another name, links there. Anything still unresolved stays a warning
(``-W`` makes it an error).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, TypeVar

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext import intersphinx


def resolve(dotted: str) -> Any:
    """The object a dotted path names, or None."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                value = getattr(value, attribute)
        except AttributeError:
            return None
        return value
    return None


_BY_IDENTITY: dict[int, tuple[str, str]] = {}
"""id(object) -> (documented name, object type), for this build only: object ids mean nothing
in another process, so the table is kept here, not in the (pickled) build environment."""


def documented_by_identity(env: BuildEnvironment) -> dict[int, tuple[str, str]]:
    """id(object) -> (documented name, object type) for every Python object on the site."""
    if not _BY_IDENTITY:
        for name, entry in env.get_domain("py").objects.items():  # type: ignore[attr-defined]
            value = resolve(name)
            if value is not None and not isinstance(value, (int, str, float, bool, tuple)):
                _BY_IDENTITY.setdefault(id(value), (name, entry.objtype))
    return _BY_IDENTITY


def forget(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """A new read of the sources: the documented names may have changed."""
    del app, env, docnames
    _BY_IDENTITY.clear()


def candidates(node: pending_xref) -> list[str]:
    """The dotted paths a reference may mean, from the module and class it was written in."""
    target = str(node.get("reftarget", "")).lstrip("~")
    module = node.get("py:module") or ""
    klass = node.get("py:class") or ""
    if target.startswith("shipstation_async."):
        return [target]
    if target.startswith("."):  # a relative name, as written in a package's docstring
        return [module + target]
    found = []
    parts = module.split(".") if module else []
    if klass:
        found.append(f"{module}.{klass}.{target}")
        home = getattr(resolve(f"{module}.{klass.split('.')[0]}"), "__module__", None)
        if isinstance(home, str) and home != module:  # where the class was written
            found.append(f"{home}.{target}")
    for depth in range(len(parts), 0, -1):
        found.append(".".join([*parts[:depth], target]))
    return found


def retarget(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.Element | None:
    """Resolve a Python reference through the object's documented public name."""
    if node.get("refdomain") != "py":
        return None
    for dotted in candidates(node):
        value = resolve(dotted)
        if value is None:
            continue
        if isinstance(value, TypeVar):
            return contnode  # a type variable has no page; its name is shown as written
        domain = env.get_domain("py")
        found = documented_by_identity(env).get(id(value))
        if found is not None:
            return domain.resolve_xref(  # type: ignore[no-any-return]
                env, node["refdoc"], app.builder, node["reftype"], found[0], node, contnode
            )
        outside = getattr(value, "__module__", None)
        if isinstance(outside, str) and not outside.startswith("shipstation_async"):
            # A name imported from elsewhere (``datetime``): ask the inventories by its home.
            name = (
                value.__name__
                if inspect.ismodule(value)
                else (f"{outside}.{getattr(value, '__qualname__', '')}")
            )
            copy = node.deepcopy()
            copy["reftarget"] = name
            return intersphinx.missing_reference(app, env, copy, contnode)
        return None
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the resolver."""
    app.connect("env-before-read-docs", forget)
    app.connect("missing-reference", retarget)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
