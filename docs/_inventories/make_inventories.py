"""Write the small intersphinx inventories the documentation links through.

The build has no network, so instead of each project's full ``objects.inv`` the repository
keeps these: the outside names our signatures and pages use, each pointing at the page of the
project's own documentation that describes it. Run ``python docs/_inventories/make_inventories.py``
after adding a name; a build that meets a name missing here fails (nitpicky, ``-W``).
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project -> (version, {documented name: (role, page#anchor)}); "$" in the anchor stands for
# the name, as in Sphinx's own inventories.
INVENTORIES: dict[str, tuple[str, str, dict[str, tuple[str, str]]]] = {
    "python": (
        "Python",
        "3",
        {
            "collections.abc.AsyncIterator": ("class", "library/collections.abc.html#$"),
            "collections.abc.Awaitable": ("class", "library/collections.abc.html#$"),
            "collections.abc.Callable": ("class", "library/collections.abc.html#$"),
            "collections.abc.Iterable": ("class", "library/collections.abc.html#$"),
            "collections.abc.Mapping": ("class", "library/collections.abc.html#$"),
            "collections.abc.MutableMapping": ("class", "library/collections.abc.html#$"),
            "collections.abc.Sequence": ("class", "library/collections.abc.html#$"),
            "datetime.date": ("class", "library/datetime.html#$"),
            "datetime.datetime": ("class", "library/datetime.html#$"),
            "datetime.timedelta": ("class", "library/datetime.html#$"),
            "decimal.Decimal": ("class", "library/decimal.html#$"),
            "enum.Enum": ("class", "library/enum.html#$"),
            "pathlib.Path": ("class", "library/pathlib.html#$"),
            "asyncio": ("module", "library/asyncio.html#module-$"),
            "asyncio.AbstractEventLoop": ("class", "library/asyncio-eventloop.html#$"),
            "asyncio.events.AbstractEventLoop": (
                "class",
                "library/asyncio-eventloop.html#asyncio.AbstractEventLoop",
            ),
            "asyncio.CancelledError": ("exception", "library/asyncio-exceptions.html#$"),
            "asyncio.gather": ("function", "library/asyncio-task.html#$"),
            "asyncio.run": ("function", "library/asyncio-runner.html#$"),
            "logging": ("module", "library/logging.html#module-$"),
            "sqlite3": ("module", "library/sqlite3.html#module-$"),
            "threading": ("module", "library/threading.html#module-$"),
            "zoneinfo": ("module", "library/zoneinfo.html#module-$"),
        },
    ),
    "aiohttp": (
        "aiohttp",
        "3",
        {
            "aiohttp.ClientSession": ("class", "client_reference.html#$"),
            "aiohttp.client.ClientSession": (
                "class",
                "client_reference.html#aiohttp.ClientSession",
            ),
            "aiohttp.web.Application": ("class", "web_reference.html#$"),
            "aiohttp.web.Request": ("class", "web_reference.html#$"),
            "aiohttp.web.StreamResponse": ("class", "web_reference.html#$"),
        },
    ),
    "attrs": (
        "attrs",
        "25",
        {
            "attrs.evolve": ("function", "api.html#$"),
            "attrs.frozen": ("function", "api.html#$"),
        },
    ),
    "cattrs": (
        "cattrs",
        "25",
        {
            "cattrs.Converter": ("class", "cattrs.html#$"),
            "cattrs.converters.Converter": ("class", "cattrs.html#cattrs.Converter"),
        },
    ),
}


def inventory(project: str, version: str, names: dict[str, tuple[str, str]]) -> bytes:
    """One ``objects.inv`` in Sphinx's version 2 format."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(f"{name} py:{role} 1 {uri} -\n" for name, (role, uri) in sorted(names.items()))
    return header.encode() + zlib.compress(lines.encode())


def main() -> None:
    """Write every inventory beside this script."""
    for key, (project, version, names) in INVENTORIES.items():
        (HERE / f"{key}.inv").write_bytes(inventory(project, version, names))


if __name__ == "__main__":
    main()
