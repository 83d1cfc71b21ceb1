"""Run every benchmark and print the figures (``nox -s bench`` or ``python -m benchmarks``).

Options: ``--runs N`` (default 3), ``--quick`` (one run each, fewer requests), ``--only NAME``.
Results are printed as a Markdown table and written to ``benchmarks/results.json``.
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


def summarise(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument(
        "--readme", action="store_true", help="write the table into README.md (full runs only)"
    )
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    results: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor() or ''} "
        f"{platform.python_implementation()} {platform.python_version()}",
    }
    for name, bench in core.BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        samples: list[dict[str, float]] = []
        for run in range(runs):
            sample = asyncio.run(bench(quick=args.quick))
            print(
                f"   run {run + 1}: " + ", ".join(f"{k}={v:.4g}" for k, v in sample.items()),
                flush=True,
            )
            samples.append(sample)
        results[name] = {key: summarise([s[key] for s in samples]) for key in samples[0]}
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print("| benchmark | figure | median | min | max |")
    print("|---|---|---|---|---|")
    for name, figures in results.items():
        if name == "machine":
            continue
        for key, stats in figures.items():
            print(
                f"| {name} | {key} | {stats['median']:.4g} | {stats['min']:.4g} | "
                f"{stats['max']:.4g} |"
            )
    print(f"\nmachine: {results['machine']}; results in {out}")


if __name__ == "__main__":
    main()
