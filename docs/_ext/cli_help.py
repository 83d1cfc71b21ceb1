"""The ``cli-help`` directive: every command's ``--help``, rendered from the real parser.

The page therefore cannot drift from the command line: a changed option shows on the next
build.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Each (command words, parser) pair, the top level first, depth first."""
    yield words, parser
    for action in parser._actions:  # the parser's public attributes list no subcommands
        choices = action.choices if isinstance(action.choices, dict) else {}
        for name, sub in choices.items():
            if isinstance(sub, argparse.ArgumentParser):
                yield from commands(sub, (*words, name))


class CliHelp(SphinxDirective):
    """Render ``shipstation-async [command ...] --help`` for every command."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """The nodes that replace the directive."""
        from shipstation_async.cli import build_parser

        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal: fix the width
        try:
            parser = build_parser()
            parser.prog = "shipstation-async"
            result: list[nodes.Node] = []
            for words, sub in commands(parser):
                title = " ".join(("shipstation-async", *words))
                section = nodes.section(ids=[nodes.make_id("cli " + title)])
                section += nodes.title(text=title)
                text = sub.format_help().replace(parser.prog.split()[0], "shipstation-async", 1)
                section += nodes.literal_block(text, text, language="text")
                result.append(section)
            return result
        finally:
            if previous is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = previous


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("cli-help", CliHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
