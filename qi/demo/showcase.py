"""Measures that show every kind of chart signal, added to Alice's sepsis project by ``seed_demo``.

The weekly figures are written out rather than drawn at random, so each measure is sure to show its
signal (``tests/test_seed_demo.py`` checks that every rule of ``qi.charts`` appears): a long run and too few
crossings on run charts; a shift, a trend, a point outside the limits and 2 of 3 points close to a limit on
SPC charts; a frozen baseline; and a P chart recalculated after the change (phases), judged against a target.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from qi.models import Measure

SHOWCASE_PROJECT = "Sepsis Six within one hour on the Acute Medical Unit"
WEEKS = 24  # 12 weeks of baseline, then 12 since the change


@dataclass(frozen=True)
class ShowcaseMeasure:
    name: str
    definition: str
    kind: str
    better: str
    unit: str
    chart_kind: str
    values: tuple[float, ...] = ()  # one per week, oldest first
    fractions: tuple[tuple[int, int], ...] = ()  # (numerator, denominator) per week, for a P chart
    target: float | None = None
    baseline_points: int | None = None
    phase_after_baseline: bool = False  # recalculate from the first week after the baseline
    shows: tuple[str, ...] = field(default=())  # the qi.charts rules this measure is built to show


def _weeks(*blocks: tuple) -> tuple:
    """Blocks of weeks (the baseline, the weeks since the change) as one series."""
    return tuple(week for block in blocks for week in block)


SHOWCASE = (
    ShowcaseMeasure(
        "Minutes from sepsis screen to antibiotics (weekly median)",
        "Weekly median minutes from a positive sepsis screen to the first dose of IV antibiotics, all adults.",
        Measure.Kind.PROCESS,
        Measure.Direction.DOWN,
        "minutes",
        Measure.ChartKind.RUN,
        values=(74, 81, 69, 77, 85, 72, 79, 70, 83, 75, 78, 80, 58, 52, 61, 49, 55, 60, 51, 57, 54, 50, 59, 53),
        target=60,
        shows=("long_run", "few_crossings"),
    ),
    ShowcaseMeasure(
        "Nurses on shift trained in sepsis screening",
        "Weekly: percentage of registered nurses rostered on AMU who have completed the sepsis screening module.",
        Measure.Kind.PROCESS,
        Measure.Direction.UP,
        "%",
        Measure.ChartKind.RUN,
        # Rota blocks of six weeks: the figure changes with who is on, so it rarely crosses its median.
        values=(62, 64, 61, 63, 65, 62, 78, 80, 77, 79, 81, 78, 63, 61, 64, 62, 60, 63, 79, 82, 78, 80, 77, 81),
        shows=("few_crossings",),
    ),
    ShowcaseMeasure(
        "Minutes from arrival to sepsis screen (weekly mean)",
        "Weekly mean minutes from arrival on AMU to a completed sepsis screen, all adults with NEWS2 of 5 or more.",
        Measure.Kind.PROCESS,
        Measure.Direction.DOWN,
        "minutes",
        Measure.ChartKind.XMR,
        values=_weeks(
            (18.2, 21.5, 19.8, 23.1, 20.4, 18.9, 22.7, 20.1, 19.5, 21.8, 20.9, 19.3),
            (16.5, 15.2, 17.1, 14.8, 15.9, 16.3, 14.4, 15.7, 16.8, 15.1, 14.9, 15.5),
        ),
        target=15,
        baseline_points=12,
        shows=("shift", "outside_limits"),
    ),
    ShowcaseMeasure(
        "Minutes from antibiotics to senior review (weekly mean)",
        "Weekly mean minutes from the first antibiotic dose to review by a registrar or consultant.",
        Measure.Kind.BALANCING,
        Measure.Direction.DOWN,
        "minutes",
        Measure.ChartKind.XMR,
        values=_weeks(
            (42, 47, 44, 40, 46, 43, 45, 41, 44, 48, 43, 45),
            (44, 41, 45, 42, 39, 40, 41.5, 43, 44.5, 46, 47.5, 49),
        ),
        shows=("trend",),
    ),
    ShowcaseMeasure(
        "Minutes from arrival to first observations (weekly mean)",
        "Weekly mean minutes from arrival on AMU to the first full set of observations.",
        Measure.Kind.BALANCING,
        Measure.Direction.DOWN,
        "minutes",
        Measure.ChartKind.XMR,
        values=_weeks(
            (10.2, 11.1, 10.4, 11.0, 10.3, 10.9, 10.1, 11.2, 10.5, 10.8, 10.2, 11.3),
            (10.6, 10.9, 10.4, 10.7, 10.3, 10.8, 10.5, 12.2, 10.9, 12.3, 10.4, 10.6),
        ),
        baseline_points=12,
        shows=("two_of_three",),
    ),
    ShowcaseMeasure(
        "Antibiotics given before blood cultures (weekly count)",
        "Weekly count of adults with sepsis whose first antibiotic dose was given before blood cultures were taken.",
        Measure.Kind.BALANCING,
        Measure.Direction.DOWN,
        "patients",
        Measure.ChartKind.C,
        values=(3, 2, 4, 3, 1, 2, 3, 4, 2, 3, 2, 3, 2, 3, 1, 2, 3, 2, 1, 2, 11, 2, 3, 2),
        shows=("outside_limits",),
    ),
    ShowcaseMeasure(
        "Lactate measured within one hour",
        "Weekly: adults with a positive sepsis screen whose lactate was measured within one hour / all adults "
        "with a positive sepsis screen.",
        Measure.Kind.PROCESS,
        Measure.Direction.UP,
        "%",
        Measure.ChartKind.P,
        fractions=_weeks(
            ((12, 22), (14, 25), (11, 21), (13, 24), (15, 26), (12, 23), (13, 22), (14, 27), (12, 21), (13, 25)),
            ((14, 24), (12, 22), (20, 23), (22, 25), (19, 22), (23, 26), (21, 24), (20, 22), (24, 27), (21, 23)),
            ((22, 25), (20, 22), (23, 26), (21, 24)),
        ),
        target=95,
        baseline_points=12,
        shows=("shift", "outside_limits"),
    ),
    ShowcaseMeasure(
        "IV fluids started within one hour",
        "Weekly: adults with sepsis and hypotension who started IV fluids within one hour / all such adults.",
        Measure.Kind.PROCESS,
        Measure.Direction.UP,
        "%",
        Measure.ChartKind.P,
        fractions=_weeks(
            ((9, 14), (10, 15), (8, 13), (11, 16), (9, 15), (10, 14), (8, 12), (10, 15), (9, 13), (11, 17)),
            ((9, 14), (10, 16), (14, 15), (15, 16), (13, 14), (14, 15), (16, 17), (13, 15), (14, 15), (15, 17)),
            ((13, 14), (14, 16), (15, 16), (13, 15)),
        ),
        target=80,
        phase_after_baseline=True,
        shows=(),
    ),
)


def showcase_weeks(today: dt.date) -> list[dt.date]:
    """The last ``WEEKS`` week-commencing Mondays whose week has ended before ``today``."""
    this_monday = today - dt.timedelta(days=today.weekday())
    return [this_monday - dt.timedelta(weeks=WEEKS - n) for n in range(WEEKS)]
