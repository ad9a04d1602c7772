"""Benchmark the chart statistics (``qi.charts.analyse``) and the SVG renderer (``qi.chart_svg.render_svg``).

    .venv/bin/python -m bench.charts_bench [--repeat 9] [--profile] [--json FILE]

No database and no Django: both are plain functions over lists. The data are generated here (seed 42):
daily points with a shift in the middle, as a QI measure that improved, so every rule has work to do:

- ``run`` and ``xmr``: values around 50 (standard deviation 5), 58 after the change;
- ``p``: a numerator out of a denominator from 40 to 60, 55% then 65%;
- ``c``: counts around 6, then around 4.

(a) is also run on ``steady`` data (no change: mostly common-cause variation), where few rules fire.

Figures, each the median of ``--repeat`` runs (and the range): (a) ``analyse`` of 10,000 points for each kind,
target under 50 ms; (b) ``render_svg`` of 1,000 points for an XmR and a P chart with a target, two phases
and 12 annotations, target under 200 ms; (c) the same SVG of 10,000 points, for information (above 1,000
points only highlighted points get a marker). Also, for information, what reading ``ChartAnalysis.points``
(one ``ChartPoint`` per point) costs at 10,000 points. ``--profile`` prints the cProfile top entries of any
``analyse`` over its target (``--profile all``: of every kind). Speed figures come from here, never from
tests. Figures: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qi.chart_svg import render_svg  # noqa: E402
from qi.charts import KINDS, Observation, analyse  # noqa: E402

ANALYSE_POINTS = 10_000
SVG_POINTS = 1_000
ANALYSE_TARGET_MS = 50.0
SVG_TARGET_MS = 200.0
START = dt.date(1999, 1, 4)
SETTINGS = {  # better, target (on the plotted scale)
    "run": ("up", None),
    "xmr": ("up", 55.0),
    "p": ("up", 0.6),
    "c": ("down", 5.0),
}


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of a C chart."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def observations(kind: str, count: int, *, changed: bool = True, seed: int = 42) -> list[Observation]:
    """``count`` daily points of ``kind``, with a change half-way unless ``changed`` is False."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        day, after = START + dt.timedelta(days=i), changed and i >= count // 2
        if kind in ("run", "xmr"):
            rows.append(Observation(day, value=round(rng.gauss(58 if after else 50, 5), 2)))
        elif kind == "p":
            denominator = rng.randint(40, 60)
            rate = 0.65 if after else 0.55
            numerator = sum(1 for _ in range(denominator) if rng.random() < rate)
            rows.append(Observation(day, numerator=numerator, denominator=denominator))
        else:
            rows.append(Observation(day, value=_poisson(rng, 4 if after else 6)))
    return rows


def annotations(count: int, points: int) -> list[tuple[dt.date, str]]:
    step = max(points // (count + 1), 1)
    return [
        (START + dt.timedelta(days=step * (n + 1)), f"PDSA {n + 1}: change idea number {n + 1}") for n in range(count)
    ]


def timed(function: Callable[[], object], repeat: int) -> tuple[list[tuple[float, float]], object]:
    """Wall and CPU milliseconds of each of ``repeat`` calls (after a warm-up call), the garbage collector off.

    CPU time (this process only) is the steadier figure when other processes share the machine.
    """
    result = function()
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            result = function()
            times.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
        finally:
            gc.enable()
    return times, result


def summary(times: list[tuple[float, float]]) -> dict:
    wall = [w for w, _ in times]
    return {
        "median_ms": statistics.median(wall),
        "min_ms": min(wall),
        "max_ms": max(wall),
        "cpu_median_ms": statistics.median(c for _, c in times),
    }


def line(figure: dict) -> str:
    return (
        f"{figure['median_ms']:8.1f} ms  ({figure['min_ms']:.1f} to {figure['max_ms']:.1f}; "
        f"CPU {figure['cpu_median_ms']:.1f})"
    )


def profile(function: Callable[[], object], rows: int = 12) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(rows)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip()).replace(str(ROOT) + "/", "")


def chart(kind: str, count: int, changed: bool = True):
    better, target = SETTINGS[kind]
    rows = observations(kind, count, changed=changed)
    return lambda: analyse(rows, kind, better=better, target=target)


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark qi.charts.analyse and qi.chart_svg.render_svg.")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per figure (median reported)")
    parser.add_argument("--profile", nargs="?", const="over", choices=("over", "all"), help="cProfile analyse()")
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()

    figures: dict = {
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "system": f"{platform.system()} {platform.release()}",
        },
        "repeat": args.repeat,
        "analyse": {},
        "svg": {},
    }
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Median of {args.repeat} runs (min to max; median CPU time of this process), after a warm-up run\n")

    print(f"(a) analyse(), {ANALYSE_POINTS:,} points (target under {ANALYSE_TARGET_MS:.0f} ms)")
    profiles = {}
    for changed in (True, False):
        data = "changed" if changed else "steady"
        for kind in KINDS:
            run = chart(kind, ANALYSE_POINTS, changed)
            times, analysis = timed(run, args.repeat)
            figure = summary(times) | {"signals": len(analysis.signals), "target_ms": ANALYSE_TARGET_MS}
            figures["analyse"][f"{kind}_{data}"] = figure
            over = figure["median_ms"] > ANALYSE_TARGET_MS
            print(
                f"  {kind:<4} {data:<7} {line(figure)}  {figure['signals']:>4} signals  "
                f"{'OVER TARGET' if over else 'ok'}"
            )
            if changed and (args.profile == "all" or (args.profile and over)):
                profiles[kind] = profile(run)

    print(f"\n(b, c) render_svg(): target, 2 phases, 12 annotations (target under {SVG_TARGET_MS:.0f} ms at 1,000)")
    for count in (SVG_POINTS, ANALYSE_POINTS):
        for kind in ("xmr", "p"):
            better, target = SETTINGS[kind]
            rows = observations(kind, count)
            analysis = analyse(rows, kind, better=better, target=target, phase_starts=[rows[count // 2].date])
            notes = annotations(12, count)
            times, svg = timed(lambda a=analysis, n=notes: render_svg(a, title="Benchmark", annotations=n), args.repeat)
            figure = summary(times) | {
                "bytes": len(svg),
                "highlighted_points": sum(1 for p in analysis.points if p.rules),
            }
            figures["svg"][f"{kind}_{count}"] = figure
            verdict = ("ok" if figure["median_ms"] <= SVG_TARGET_MS else "OVER TARGET") if count == SVG_POINTS else ""
            print(
                f"  {kind:<4} {count:>6,} points {line(figure)}  {len(svg) / 1024:4.0f} kB  "
                f"{figure['highlighted_points']:>4} highlighted  {verdict}"
            )

    analysis = chart("p", ANALYSE_POINTS)()
    times, _ = timed(lambda: analysis.points, args.repeat)
    figures["points_property_ms"] = summary(times)
    print(
        f"\nFor information: ChartAnalysis.points at {ANALYSE_POINTS:,} points (P chart): "
        f"{figures['points_property_ms']['median_ms']:.1f} ms"
    )

    for kind, text in profiles.items():
        print(f"\ncProfile of analyse(), {kind}, {ANALYSE_POINTS:,} points:\n{text}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
