"""Run every benchmark and print the figures (``nox -s bench`` or ``python -m benchmarks``).

Options: ``--runs N`` (default 3), ``--quick`` (one run each, fewer requests; its figures are
printed only), ``--only NAME`` (repeatable), ``--readme`` (write the table into README.md).
Results are printed as a Markdown table and written to ``benchmarks/results.json`` (merged with
earlier results for ``--only``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
from pathlib import Path
from typing import Any

from . import core

MARKER = "<!-- bench-table -->"
RESULTS = Path(__file__).with_name("results.json")


def summarise(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def render(results: dict[str, Any]) -> str:
    lines = [
        f"Machine: {results['machine']}; {results.get('runs', '?')} runs each, median, min, max.",
        "",
        "| benchmark | figure | median | min | max |",
        "|---|---|---|---|---|",
    ]
    for name in core.BENCHMARKS:
        for key, stats in results.get(name, {}).items():
            lines.append(
                f"| {name} | {key} | {stats['median']:.4g} | {stats['min']:.4g} | "
                f"{stats['max']:.4g} |"
            )
    return "\n".join(lines)


def write_readme(table: str) -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text()
    start = text.index(MARKER) + len(MARKER)
    end = text.index("\n## ", start)
    readme.write_text(text[:start] + "\n" + table + "\n" + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = (
        f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}"
    )
    results["runs"] = runs
    for name, bench in core.BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        samples: list[dict[str, float]] = []
        for run in range(runs):
            sample = asyncio.run(bench(quick=args.quick))
            figures = ", ".join(f"{k}={v:.4g}" for k, v in sample.items())
            print(f"   run {run + 1}: {figures}", flush=True)
            samples.append(sample)
        results[name] = {key: summarise([s[key] for s in samples]) for key in samples[0]}
    if not args.quick:  # a quick run's figures are not the record
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    table = render(results)
    print()
    print(table)
    if args.readme and not args.quick:
        write_readme(table)


if __name__ == "__main__":
    main()
