"""Run charts and SPC charts: the statistics, as plain functions over lists of numbers (no Django import).

``analyse(observations, kind)`` answers the question a QI project lives on, *did the change make a
difference, or is it noise?*, for four kinds of chart:

- ``run``: centre line is the median; the Anhøj rules (qicharts2, Anhøj and Olesen 2014) on the useful
  observations, those not on the median: an unusually long run when the longest run exceeds
  ``round(log2(n)) + 3``, too few crossings when crossings are fewer than ``qbinom(0.05, n - 1, 0.5)``.
- ``xmr``: individuals chart as in NHS England's *Making Data Count* (NHSRplotthedots): mean, process limits
  mean ± 2.66 x mean moving range, moving ranges of 3.267 x the mean moving range or more screened out
  of the limits (on by default); special-cause rules: a point outside the limits; ``run_length`` points in a
  row on one side of the mean (a point on the mean breaks the run); ``trend_length`` points in a row all
  rising or all falling (an equal pair breaks the trend); 2 of 3 points in a row beyond two thirds of the
  way to a limit, the three on the same side of the mean.
- ``p``: proportions (numerator / denominator); centre is the pooled proportion, limits ± 3 standard errors
  that vary with each point's denominator, clipped to 0 and 1. Same special-cause rules as ``xmr``, with
  the "close to a limit" zone at 2 standard errors.
- ``c``: counts; centre is the mean count, limits ± 3√mean, the lower clipped at 0. Same rules.

A baseline freeze (``freeze=k``) computes the first phase's centre and limits from its first ``k`` points
and extends them; phases (``phase_starts``) recalculate everything from each change point, and no rule
looks across a phase boundary. Every signal names its rule, the points it covers and whether it is an
improvement or a concern given which direction is better; the analysis adds the Making Data Count variation
and assurance (against a target) and a one-sentence verdict. Fewer than ``minimum_points`` points gives a
warning instead of a verdict.

Everything is linear in the number of points except the median (a sort).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

KINDS = ("run", "xmr", "p", "c")
KIND_NAMES = {"run": "run chart", "xmr": "XmR chart", "p": "P chart", "c": "C chart"}
SPC_KINDS = ("xmr", "p", "c")

XMR_LIMIT = 2.66  # 3 / d2 (1.128), as Making Data Count rounds it
XMR_NEAR_LIMIT = 2 * XMR_LIMIT / 3
MOVING_RANGE_SCREEN = 3.267  # D4 for n = 2: moving ranges at or above this x mean are screened out
MINIMUM_POINTS = 12
DEFAULT_RUN_LENGTH = 7
DEFAULT_TREND_LENGTH = 7
RULE_LENGTH_RANGE = (5, 12)

RULE_LABELS = {
    "long_run": "an unusually long run on one side of the median",
    "few_crossings": "too few crossings of the median",
    "outside_limits": "a point outside the process limits",
    "shift": "a run of points on one side of the mean",
    "trend": "a run of points all rising or all falling",
    "two_of_three": "2 of 3 points close to a process limit",
}
IMPROVEMENT, CONCERN, NEUTRAL = "improvement", "concern", "neutral"
# Which rule decides a highlighted point's meaning when several flag it (NHSRplotthedots 0.2.2).
POINT_RULE_PRECEDENCE = ("outside_limits", "trend", "two_of_three", "shift", "long_run")
POINT_RULE_RANK = {rule: rank for rank, rule in enumerate(POINT_RULE_PRECEDENCE)}


class ChartError(ValueError):
    """Input that cannot be charted. ``field`` names the setting or ``row`` the 0-based observation."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.row = row


@dataclass(frozen=True, slots=True)
class Observation:
    """One period's figure: ``value``, or ``numerator`` over ``denominator``."""

    date: dt.date
    value: float | None = None
    numerator: int | None = None
    denominator: int | None = None


@dataclass(slots=True)
class ChartPoint:
    index: int
    date: dt.date
    value: float  # what is plotted: the value, the proportion (0 to 1) for a P chart, the count for a C chart
    phase: int
    baseline: bool  # whether this point's phase computed its centre and limits from it
    centre: float
    lower_limit: float | None = None
    upper_limit: float | None = None
    lower_near: float | None = None  # two thirds of the way to the lower limit: the 2-of-3 zone starts here
    upper_near: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    rules: list[str] = field(default_factory=list)  # the rules of the signals that highlight this point
    variation: str = "common_cause"  # common_cause, improvement, concern or neutral


@dataclass(slots=True)
class Signal:
    rule: str
    phase: int
    points: list[int]  # 0-based indices of the points the signal covers
    side: str | None  # high or low (above or below the centre), up or down for a trend; None for crossings
    meaning: str  # improvement, concern or neutral
    start_date: dt.date
    end_date: dt.date
    summary: str  # e.g. "8 points in a row above the median, 3 March 2026 to 21 April 2026"

    @property
    def highlights_points(self) -> bool:
        """Too few crossings is a property of the whole phase: it marks the centre line, not the points."""
        return self.rule != "few_crossings"


@dataclass(slots=True)
class Phase:
    index: int
    start: int  # index of its first point
    end: int  # index of its last point
    start_date: dt.date
    end_date: dt.date
    baseline_points: int  # how many of its first points set its centre and limits
    centre: float
    mean_moving_range: float | None = None  # XmR only, after screening
    screened_moving_ranges: int = 0  # XmR only
    runs: dict[str, int] | None = None  # run chart only: useful, longest_run, longest_run_max, crossings, ...
    flat: bool = False  # SPC: the baseline has no variation, so its limits have no width


@dataclass(slots=True)
class Columns:
    """The per-point results as parallel lists: building 10,000 objects would cost more than the analysis."""

    dates: list[dt.date]
    values: list[float]
    numerators: list[int | None]
    denominators: list[int | None]
    phase: list[int]
    baseline: list[bool]
    centre: list[float]
    lower_limit: list[float | None]
    upper_limit: list[float | None]
    lower_near: list[float | None]
    upper_near: list[float | None]
    rules: list[list[str] | None]
    variation: list[str]

    def point(self, i: int) -> ChartPoint:
        return ChartPoint(
            i,
            self.dates[i],
            self.values[i],
            self.phase[i],
            self.baseline[i],
            self.centre[i],
            self.lower_limit[i],
            self.upper_limit[i],
            self.lower_near[i],
            self.upper_near[i],
            self.numerators[i],
            self.denominators[i],
            list(self.rules[i] or ()),
            self.variation[i],
        )


@dataclass(slots=True)
class ChartAnalysis:
    kind: str
    better: str | None
    target: float | None
    settings: dict[str, Any]
    columns: Columns
    phases: list[Phase]
    signals: list[Signal]
    variation: str | None  # Making Data Count icon for the latest point: common_cause, improvement_high, ...
    assurance: str | None  # meets, fails, may_or_may_not; None without a target or for a run chart
    verdict: str
    assurance_text: str
    warnings: list[str]

    _points: list[ChartPoint] | None = field(default=None, repr=False, compare=False)

    @property
    def points(self) -> list[ChartPoint]:
        """The points as objects, built on first use (the columns are the source)."""
        if self._points is None:
            self._points = [self.columns.point(i) for i in range(len(self.columns.values))]
        return self._points

    @property
    def point_count(self) -> int:
        return len(self.columns.values)

    def as_dict(self) -> dict[str, Any]:
        """The analysis as JSON-ready data: what the API returns and ``manage.py chart --json`` prints."""
        c = self.columns
        return {
            "kind": self.kind,
            "better": self.better,
            "target": self.target,
            "settings": self.settings,
            "verdict": self.verdict,
            "variation": self.variation,
            "assurance": self.assurance,
            "assurance_text": self.assurance_text,
            "warnings": self.warnings,
            "phases": [
                {
                    "index": phase.index,
                    "first_point": phase.start,
                    "last_point": phase.end,
                    "start_date": phase.start_date.isoformat(),
                    "end_date": phase.end_date.isoformat(),
                    "baseline_points": phase.baseline_points,
                    "centre": phase.centre,
                    "mean_moving_range": phase.mean_moving_range,
                    "screened_moving_ranges": phase.screened_moving_ranges,
                    "runs": phase.runs,
                }
                for phase in self.phases
            ],
            "signals": [
                {
                    "rule": signal.rule,
                    "label": RULE_LABELS[signal.rule],
                    "phase": signal.phase,
                    "points": signal.points,
                    "side": signal.side,
                    "meaning": signal.meaning,
                    "start_date": signal.start_date.isoformat(),
                    "end_date": signal.end_date.isoformat(),
                    "summary": signal.summary,
                }
                for signal in self.signals
            ],
            "points": [
                {
                    "index": i,
                    "date": c.dates[i].isoformat(),
                    "value": c.values[i],
                    "numerator": c.numerators[i],
                    "denominator": c.denominators[i],
                    "phase": c.phase[i],
                    "baseline": c.baseline[i],
                    "centre": c.centre[i],
                    "lower_limit": c.lower_limit[i],
                    "upper_limit": c.upper_limit[i],
                    "lower_near": c.lower_near[i],
                    "upper_near": c.upper_near[i],
                    "rules": c.rules[i] or [],
                    "variation": c.variation[i],
                }
                for i in range(len(c.values))
            ],
        }


# --- published critical values --------------------------------------------------------------------


def longest_run_max(useful: int) -> int:
    """The longest run expected by chance among ``useful`` observations: round(log2(n)) + 3 (Schilling 2012).

    Python's ``round`` rounds half to even like R's; log2 of a whole number is never exactly x.5 anyway.
    """
    return round(math.log2(useful)) + 3 if useful > 0 else 0


@lru_cache(maxsize=4096)
def crossings_min(useful: int) -> int:
    """The fewest crossings expected by chance: qbinom(0.05, n - 1, 0.5) (Chen 2010), the smallest x with
    P(Binomial(n - 1, 0.5) <= x) >= 0.05. Exact integer arithmetic up to 2,000 observations, then log-space
    floats (far from any tie: 2^m is never a multiple of 20)."""
    trials = max(useful - 1, 0)
    if trials <= 2000:
        total, ways, cumulative = 1 << trials, 1, 0
        for x in range(trials + 1):
            cumulative += ways
            if 20 * cumulative >= total:
                return x
            ways = ways * (trials - x) // (x + 1)
        return trials
    log_total = trials * math.log(2.0)
    log_n = math.lgamma(trials + 1)
    cumulative = 0.0
    for x in range(trials + 1):
        cumulative += math.exp(log_n - math.lgamma(x + 1) - math.lgamma(trials - x + 1) - log_total)
        if cumulative >= 0.05:
            return x
    return trials


# --- input ---------------------------------------------------------------------------------------------


def _fast_values(observations: Sequence[Observation], kind: str) -> list[float] | None:
    """The plotted values when every row is well formed (the usual case), else None to find the bad row."""
    try:
        if kind == "p":
            if all(o.value is None and 0 <= o.numerator <= o.denominator and o.denominator > 0 for o in observations):
                return [o.numerator / o.denominator for o in observations]
            return None
        if any(o.numerator is not None or o.denominator is not None for o in observations):
            return None
        values = [float(o.value) for o in observations]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(map(math.isfinite, values)):
        return None
    if kind == "c" and not all(v >= 0 and v == int(v) for v in values):
        return None
    return values


def _plotted_values(observations: Sequence[Observation], kind: str) -> list[float]:
    values = _fast_values(observations, kind)
    if values is not None:
        return values
    values = []
    first_is_fraction = None
    for row, obs in enumerate(observations):
        fraction = obs.numerator is not None or obs.denominator is not None
        if first_is_fraction is None:
            first_is_fraction = fraction
        elif fraction != first_is_fraction:
            # 0.85 next to 85 on one chart would be nonsense: one measure, one kind of figure.
            raise ChartError(
                "has a numerator and denominator where earlier rows have values"
                if fraction
                else "has a value where earlier rows have a numerator and denominator",
                row=row,
            )
        if fraction:
            if obs.numerator is None or obs.denominator is None:
                raise ChartError("needs both a numerator and a denominator", row=row)
            if obs.value is not None:
                raise ChartError("has both a value and a numerator and denominator", row=row)
            if obs.denominator <= 0:
                raise ChartError("the denominator must be more than 0", row=row)
            if not 0 <= obs.numerator <= obs.denominator:
                raise ChartError("the numerator must be between 0 and the denominator", row=row)
        if kind == "p":
            if not fraction:
                raise ChartError("a P chart needs a numerator and a denominator, not a single value", row=row)
            values.append(obs.numerator / obs.denominator)
            continue
        if kind == "c" and fraction:
            raise ChartError("a C chart needs a count, not a numerator and a denominator", row=row)
        value = obs.numerator / obs.denominator if fraction else obs.value
        if value is None:
            raise ChartError("has no value", row=row)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ChartError("the value must be a number", row=row) from None
        if not math.isfinite(value):
            raise ChartError("the value must be a finite number", row=row)
        if kind == "c" and (value < 0 or value != int(value)):
            raise ChartError("a C chart counts events: the value must be a whole number, 0 or more", row=row)
        values.append(value)
    return values


def _check_dates(dates: Sequence[dt.date]) -> None:
    if all(earlier < later for earlier, later in pairwise(dates)):
        return
    for row in range(1, len(dates)):
        if dates[row] < dates[row - 1]:
            raise ChartError("dates must be in order, earliest first", row=row)
        if dates[row] == dates[row - 1]:
            raise ChartError(f"{dates[row].isoformat()} appears twice", row=row)


def _phase_bounds(dates: Sequence[dt.date], phase_starts: Iterable[dt.date]) -> list[int]:
    """Indices where phases begin: the first point on or after each start date (0 always begins one)."""
    bounds = {0}
    for start in phase_starts:
        index = bisect.bisect_left(dates, start)
        if index < len(dates):
            bounds.add(index)
    return sorted(bounds)


# --- the rules -------------------------------------------------------------------------------------------


def _runs(signs: Sequence[int], lo: int) -> list[tuple[int, int, int]]:
    """Maximal runs of equal non-zero signs as (first, last, sign), with indices offset by ``lo``."""
    count = len(signs)
    if not count:
        return []
    # Where the sign changes, in one comprehension: the per-item loop is the cost at 10,000 points.
    starts = [0, *(i for i in range(1, count) if signs[i] != signs[i - 1])]
    ends = [*(start - 1 for start in starts[1:]), count - 1]
    return [(lo + first, lo + last, signs[first]) for first, last in zip(starts, ends, strict=True) if signs[first]]


def _side(sign: int) -> str:
    return "high" if sign > 0 else "low"


def _meaning(better: str | None, side: str | None) -> str:
    if better not in ("up", "down") or side is None:
        return NEUTRAL
    good = "high" if better == "up" else "low"
    if side in ("up", "down"):
        side = "high" if side == "up" else "low"
    return IMPROVEMENT if side == good else CONCERN


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # not strftime("%B"), which follows the process locale


def _points(count: int) -> str:
    return f"{count} point{'s' if count != 1 else ''}"


def _times(count: int) -> str:
    return {0: "0 times", 1: "once", 2: "twice"}.get(count, f"{count} times")


def format_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


class _Analyser:
    def __init__(
        self,
        observations: Sequence[Observation],
        kind: str,
        *,
        better: str | None,
        target: float | None,
        freeze: int | None,
        phase_starts: Sequence[dt.date],
        run_length: int,
        trend_length: int,
        screen_moving_ranges: bool,
        minimum_points: int,
    ) -> None:
        self.observations = observations
        self.kind = kind
        self.better = better
        self.target = target
        self.freeze = freeze
        self.phase_starts = phase_starts
        self.run_length = run_length
        self.trend_length = trend_length
        self.screen = screen_moving_ranges
        self.minimum_points = minimum_points
        self.signals: list[Signal] = []

    def run(self) -> ChartAnalysis:
        obs = self.observations
        count = len(obs)
        dates = [o.date for o in obs]
        _check_dates(dates)
        self.values = values = _plotted_values(obs, self.kind)
        self.fractions = count > 0 and all(o.denominator is not None for o in obs)
        bounds = _phase_bounds(dates, self.phase_starts)
        first_phase_size = bounds[1] if len(bounds) > 1 else count
        if self.freeze is not None and not 2 <= self.freeze <= first_phase_size:
            raise ChartError(
                f"the baseline must be between 2 points and the {first_phase_size} points of the first phase"
                if first_phase_size >= 2
                else f"a baseline needs at least 2 points, and the first phase has {first_phase_size}",
                field="freeze",
            )
        self.c = Columns(
            dates=dates,
            values=values,
            numerators=[o.numerator for o in obs],
            denominators=[o.denominator for o in obs],
            phase=[0] * count,
            baseline=[False] * count,
            centre=[0.0] * count,
            lower_limit=[None] * count,
            upper_limit=[None] * count,
            lower_near=[None] * count,
            upper_near=[None] * count,
            rules=[None] * count,
            variation=["common_cause"] * count,
        )
        phases = []
        edges = [*bounds, count]
        for number in range(len(bounds) if count else 0):
            lo, hi = edges[number], edges[number + 1]
            size = self.freeze if number == 0 and self.freeze else hi - lo
            phase = Phase(number, lo, hi - 1, dates[lo], dates[hi - 1], min(size, hi - lo), 0.0)
            self._limits(phase)
            if self.kind == "run":
                self._anhoej(phase)
            else:
                self._special_causes(phase)
            phases.append(phase)
        self._classify_points()
        # Too few points give a warning, not a verdict: no icons either.
        assurance, assurance_text = self._assurance() if count >= self.minimum_points else (None, "")
        return ChartAnalysis(
            kind=self.kind,
            better=self.better,
            target=self.target,
            settings={
                "freeze": self.freeze,
                "phase_starts": [day.isoformat() for day in self.phase_starts],
                "run_length": self.run_length,
                "trend_length": self.trend_length,
                "screen_moving_ranges": self.screen,
                "minimum_points": self.minimum_points,
            },
            columns=self.c,
            phases=phases,
            signals=self.signals,
            variation=self._variation() if count >= self.minimum_points else None,
            assurance=assurance,
            verdict=self._verdict(phases),
            assurance_text=assurance_text,
            warnings=self._warnings(phases),
        )

    # -- centre and limits --

    def _limits(self, phase: Phase) -> None:
        c = self.c
        lo, hi = phase.start, phase.end + 1
        size = hi - lo
        base = self.values[lo : lo + phase.baseline_points]
        c.phase[lo:hi] = [phase.index] * size
        c.baseline[lo : lo + phase.baseline_points] = [True] * phase.baseline_points
        if self.kind == "run":
            phase.centre = statistics.median(base)
            c.centre[lo:hi] = [phase.centre] * size
            return
        if self.kind == "p":
            rows = self.observations[lo : lo + phase.baseline_points]
            pbar = sum(o.numerator for o in rows) / sum(o.denominator for o in rows)
            phase.centre = pbar
            phase.flat = pbar in (0.0, 1.0)
            c.centre[lo:hi] = [pbar] * size
            spread = pbar * (1 - pbar)
            sigmas = [math.sqrt(spread / n) for n in c.denominators[lo:hi]]
            # Clipped to 0 and 1 with conditionals: min()/max() calls cost more than the rest at 10,000 points.
            c.lower_limit[lo:hi] = [x if x > 0.0 else 0.0 for x in (pbar - 3 * s for s in sigmas)]
            c.upper_limit[lo:hi] = [x if x < 1.0 else 1.0 for x in (pbar + 3 * s for s in sigmas)]
            c.lower_near[lo:hi] = [x if x > 0.0 else 0.0 for x in (pbar - 2 * s for s in sigmas)]
            c.upper_near[lo:hi] = [x if x < 1.0 else 1.0 for x in (pbar + 2 * s for s in sigmas)]
            return
        centre = math.fsum(base) / len(base)
        if self.kind == "xmr":
            ranges = [abs(later - earlier) for earlier, later in pairwise(base)]
            mean_range = math.fsum(ranges) / len(ranges) if ranges else 0.0  # a 1-point phase: warned about
            if self.screen and mean_range > 0:
                kept = [r for r in ranges if r < MOVING_RANGE_SCREEN * mean_range]
                phase.screened_moving_ranges = len(ranges) - len(kept)
                mean_range = math.fsum(kept) / len(kept) if kept else 0.0
            phase.mean_moving_range = mean_range
            lower, upper = centre - XMR_LIMIT * mean_range, centre + XMR_LIMIT * mean_range
            lower_near, upper_near = centre - XMR_NEAR_LIMIT * mean_range, centre + XMR_NEAR_LIMIT * mean_range
        else:  # c
            sigma = math.sqrt(centre)
            lower, upper = max(centre - 3 * sigma, 0.0), centre + 3 * sigma
            lower_near, upper_near = max(centre - 2 * sigma, 0.0), centre + 2 * sigma
        phase.centre = centre
        phase.flat = upper == lower
        c.centre[lo:hi] = [centre] * size
        c.lower_limit[lo:hi] = [lower] * size
        c.upper_limit[lo:hi] = [upper] * size
        c.lower_near[lo:hi] = [lower_near] * size
        c.upper_near[lo:hi] = [upper_near] * size

    # -- run chart: Anhøj rules --

    def _anhoej(self, phase: Phase) -> None:
        lo, hi = phase.start, phase.end + 1
        values, centre = self.values, phase.centre
        useful = [i for i in range(lo, hi) if values[i] != centre]
        runs = _runs([1 if values[i] > centre else -1 for i in useful], 0)
        longest = max((last - first + 1 for first, last, _ in runs), default=0)
        crossings = max(len(runs) - 1, 0)
        limit, fewest = longest_run_max(len(useful)), crossings_min(len(useful))
        phase.runs = {
            "useful_observations": len(useful),
            "longest_run": longest,
            "longest_run_max": limit,
            "crossings": crossings,
            "crossings_min": fewest,
        }
        if not useful:
            return
        for first, last, sign in runs:
            if last - first + 1 > limit:
                members = useful[first : last + 1]
                where = "above" if sign > 0 else "below"
                self._signal(
                    "long_run", phase, members, _side(sign), f"{len(members)} points in a row {where} the median"
                )
        if crossings < fewest:
            self._signal(
                "few_crossings",
                phase,
                list(range(lo, hi)),
                None,
                f"{crossings} crossings of the median in {len(useful)} useful points (fewer than {fewest})",
            )

    # -- SPC: Making Data Count rules --

    def _special_causes(self, phase: Phase) -> None:
        lo, hi = phase.start, phase.end + 1
        values, c, centre = self.values, self.c, phase.centre
        where = "the mean" if self.kind == "xmr" else "the centre line"
        lower, upper = c.lower_limit, c.upper_limit
        # Limits of no width (a baseline with no variation) would flag every change: only the runs count then.
        for i in range(lo, hi) if not phase.flat else ():
            if values[i] > upper[i] or values[i] < lower[i]:
                high = values[i] > upper[i]
                self._signal(
                    "outside_limits",
                    phase,
                    [i],
                    "high" if high else "low",
                    f"a point {'above the upper' if high else 'below the lower'} process limit",
                )
        sides = [(value > centre) - (value < centre) for value in values[lo:hi]]
        for first, last, sign in _runs(sides, lo):
            if last - first + 1 >= self.run_length:
                above = "above" if sign > 0 else "below"
                self._signal(
                    "shift",
                    phase,
                    list(range(first, last + 1)),
                    _side(sign),
                    f"{last - first + 1} points in a row {above} {where}",
                )
        phase_values = values[lo:hi]
        steps = [(later > earlier) - (later < earlier) for earlier, later in pairwise(phase_values)]
        for first, last, sign in _runs(steps, lo):  # step k joins points k and k + 1
            if last - first + 2 >= self.trend_length:
                rising = "rising" if sign > 0 else "falling"
                self._signal(
                    "trend",
                    phase,
                    list(range(first, last + 2)),
                    "up" if sign > 0 else "down",
                    f"{last - first + 2} points in a row {rising}",
                )
        if not phase.flat:
            self._two_of_three(phase, sides)

    def _two_of_three(self, phase: Phase, sides: Sequence[int]) -> None:
        """NHSRplotthedots' reading: in a window of 3 points all on one side of the mean, at least 2 lie
        beyond two thirds of the way to the limit but inside it; those points are flagged."""
        lo, hi = phase.start, phase.end + 1
        c, values = self.c, self.values
        close = [
            (c.upper_near[i] < values[i] <= c.upper_limit[i]) or (c.lower_limit[i] <= values[i] < c.lower_near[i])
            for i in range(lo, hi)
        ]
        size = hi - lo
        starts = sorted({s for k in range(size) if close[k] for s in (k - 2, k - 1, k) if 0 <= s <= size - 3})
        group: list[int] = []
        group_side = 0
        for start in starts:
            side = sides[start]
            if side == 0 or sides[start + 1] != side or sides[start + 2] != side:
                continue
            flagged = [lo + k for k in range(start, start + 3) if close[k]]
            if len(flagged) < 2:
                continue
            if group and side == group_side and flagged[0] <= group[-1] + 2:
                group.extend(k for k in flagged if k > group[-1])
            else:
                self._close_group(phase, group, group_side)
                group, group_side = flagged, side
        self._close_group(phase, group, group_side)

    def _close_group(self, phase: Phase, group: list[int], side: int) -> None:
        if group:
            self._signal(
                "two_of_three",
                phase,
                group,
                _side(side),
                f"{len(group)} points close to the {'upper' if side > 0 else 'lower'} process limit",
            )

    def _signal(self, rule: str, phase: Phase, members: list[int], side: str | None, what: str) -> None:
        first, last = self.c.dates[members[0]], self.c.dates[members[-1]]
        when = format_date(first) if first == last else f"{format_date(first)} to {format_date(last)}"
        self.signals.append(
            Signal(rule, phase.index, members, side, _meaning(self.better, side), first, last, f"{what}, {when}")
        )

    # -- what it means --

    def _classify_points(self) -> None:
        """Mark each highlighted point with its rules and its meaning, as NHSRplotthedots 0.2.2 does: the first
        rule that flags it decides, in the order outside the limits, trend, 2 of 3, run. A trend decides by its
        direction (a point where two trends meet by the later one), the others by the point's side of the
        centre."""
        self.signals.sort(key=lambda s: (s.points[0], s.points[-1], s.rule))
        c = self.c
        rules = c.rules
        deciding: dict[int, tuple[int, Signal]] = {}
        for signal in self.signals:
            if not signal.highlights_points:
                continue
            rule, rank, first = signal.rule, POINT_RULE_RANK[signal.rule], signal.points[0]
            for i in signal.points:
                held = rules[i]
                if held is None:
                    rules[i] = [rule]
                else:
                    held.append(rule)
                decided = deciding.get(i)
                if decided is None or rank < decided[0] or (rank == decided[0] and first == i):
                    deciding[i] = (rank, signal)
        meaning = {side: _meaning(self.better, side) for side in ("high", "low")}
        self.point_sides: dict[int, str] = {}
        for i, (_, signal) in deciding.items():
            if signal.rule == "trend":
                side = "high" if signal.side == "up" else "low"
            else:
                value, centre = c.values[i], c.centre[i]
                side = "high" if value > centre else "low" if value < centre else (signal.side or "high")
            c.variation[i] = meaning[side]
            self.point_sides[i] = side

    def _variation(self) -> str | None:
        """The Making Data Count variation icon, read from the latest point as NHSRplotthedots does."""
        c = self.c
        if not c.values:
            return None
        last = len(c.values) - 1
        if c.variation[last] == "common_cause":
            return "common_cause"
        return f"{c.variation[last]}_{self.point_sides[last]}"

    def _assurance(self) -> tuple[str | None, str]:
        c = self.c
        if self.kind not in SPC_KINDS or self.target is None or not c.values:
            return None, ""
        lower, upper = c.lower_limit[-1], c.upper_limit[-1]
        shown = self._show(self.target)
        if self.better not in ("up", "down"):
            return None, f"Without knowing which direction is better, the target of {shown} cannot be assessed."
        meets = lower > self.target if self.better == "up" else upper < self.target
        fails = upper < self.target if self.better == "up" else lower > self.target
        if meets:
            return "meets", (
                f"The target of {shown} lies outside the process limits, on the good side: the process will "
                "consistently meet it."
            )
        if fails:
            return "fails", (
                f"The target of {shown} lies outside the process limits, on the wrong side: the process will "
                "consistently miss it unless it changes."
            )
        return "may_or_may_not", (
            f"The target of {shown} lies within the process limits: the process will sometimes meet it and "
            "sometimes not."
        )

    def _show(self, value: float) -> str:
        if self.kind == "p" or self.fractions:
            return f"{value * 100:.1f}%"
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"

    def _warnings(self, phases: Sequence[Phase]) -> list[str]:
        warnings = []
        count = len(self.values)
        if 0 < count < self.minimum_points:
            warnings.append(
                f"Only {count} point{'s' if count != 1 else ''}: a {KIND_NAMES[self.kind]} needs at least "
                f"{self.minimum_points} before it can tell a real change from chance."
            )
        for phase in phases:
            if phase.flat:
                label = "The baseline" if phase.index == 0 else f"Phase {phase.index + 1}"
                warnings.append(
                    f"{label} (from {format_date(phase.start_date)}) has no variation, so its process limits have no "
                    "width: points outside them are not flagged, only runs and trends."
                )
            if phase.baseline_points < self.minimum_points and count >= self.minimum_points:
                label = "The baseline" if phase.index == 0 else f"Phase {phase.index + 1}"
                warnings.append(
                    f"{label} (from {format_date(phase.start_date)}) has its "
                    f"{'centre line' if self.kind == 'run' else 'centre and limits'} from only "
                    f"{phase.baseline_points} points: treat them as provisional until there are "
                    f"{self.minimum_points}."
                )
        return warnings

    def _verdict(self, phases: Sequence[Phase]) -> str:
        count = len(self.values)
        if not count:
            return "No data yet: the chart starts with the first data point."
        if count < self.minimum_points:
            return (
                f"Too early to tell: {count} point{'s' if count != 1 else ''} so far, and at least "
                f"{self.minimum_points} are needed to tell a real change from chance."
            )
        latest = phases[-1]
        size = latest.end - latest.start + 1
        if latest.index and size < self.minimum_points:
            return (
                f"Too early to tell since {format_date(latest.start_date)}: {_points(size)} in this phase so far, and "
                f"at least {self.minimum_points} are needed to tell a real change from chance."
            )
        # A signal is news while it reaches the latest points; an old one is mentioned, not reported as now.
        recent_from = latest.end - (self.run_length - 1)
        in_phase = [s for s in self.signals if s.phase == latest.index]
        current = [s for s in in_phase if s.points[-1] >= recent_from or s.rule == "few_crossings"]
        if not current:
            around = "around the median" if self.kind == "run" else "within the process limits"
            if not in_phase:
                return (
                    f"No signal since {format_date(latest.start_date)}: the {_points(size)} vary {around} only as "
                    "much as chance would explain (common-cause variation)."
                )
            last = max(in_phase, key=lambda s: s.points[-1])
            since = last.points[-1] + 1
            return (
                f"No signal since {format_date(self.c.dates[since])}: the {_points(latest.end - since + 1)} since "
                f"vary {around} only as much as chance would explain (the last signal: {last.summary})."
            )
        # The newest news; when several signals end on the same point, a sustained run tells the story best.
        priority = {"long_run": 0, "shift": 0, "trend": 1, "outside_limits": 2, "two_of_three": 3, "few_crossings": 4}
        signal = max(current, key=lambda s: (s.points[-1], -priority[s.rule]))
        if signal.rule == "few_crossings":
            runs = latest.runs or {}
            return (
                f"The data cross the median only {_times(runs.get('crossings', 0))} in "
                f"{runs.get('useful_observations')} useful points, fewer than the {runs.get('crossings_min')} chance "
                "would give: the process has "
                "changed, not just varied."
            )
        return f"{self._opening(signal)}: {self._conclusion(signal)}."

    def _opening(self, signal: Signal) -> str:
        count = len(signal.points)
        centre = {"run": "median", "xmr": "mean"}.get(self.kind, "centre line")
        since = format_date(signal.start_date)
        if signal.rule in ("long_run", "shift"):
            where = "above" if signal.side == "high" else "below"
            return f"Since {since}, {count} points in a row {where} the {centre}"
        if signal.rule == "trend":
            return f"Since {since}, {count} points in a row {'rising' if signal.side == 'up' else 'falling'}"
        if signal.rule == "outside_limits":
            value = self.values[signal.points[0]]
            where = "above the upper" if signal.side == "high" else "below the lower"
            return f"On {since}, the value ({self._show(value)}) was {where} process limit"
        where = "upper" if signal.side == "high" else "lower"
        return f"Since {since}, {count} of 3 points in a row close to the {where} process limit"

    def _conclusion(self, signal: Signal) -> str:
        single = signal.rule == "outside_limits"
        if signal.meaning == IMPROVEMENT:
            return "an unusually good result, not chance" if single else "the change is working, not chance"
        if signal.meaning == CONCERN:
            return "an unusually poor result that is worth a look" if single else "things have got worse, not by chance"
        return "an unusual result, not chance" if single else "a real change, not chance"


def analyse(
    observations: Sequence[Observation],
    kind: str,
    *,
    better: str | None = None,
    target: float | None = None,
    freeze: int | None = None,
    phase_starts: Sequence[dt.date] = (),
    run_length: int = DEFAULT_RUN_LENGTH,
    trend_length: int = DEFAULT_TREND_LENGTH,
    screen_moving_ranges: bool = True,
    minimum_points: int = MINIMUM_POINTS,
) -> ChartAnalysis:
    """Analyse ``observations`` (in date order, one per date) as a ``kind`` chart; raise ChartError on bad input.

    ``better`` is ``"up"`` or ``"down"`` (None: signals are neither improvement nor concern); ``target`` is
    on the plotted scale (a proportion from 0 to 1 for a P chart).
    """
    if kind not in KINDS:
        raise ChartError(f"the chart kind must be one of {', '.join(KINDS)}", field="kind")
    if better not in (None, "up", "down"):
        raise ChartError("which direction is better must be up or down", field="better")
    for name, length in (("run_length", run_length), ("trend_length", trend_length)):
        if not RULE_LENGTH_RANGE[0] <= length <= RULE_LENGTH_RANGE[1]:
            raise ChartError(f"must be between {RULE_LENGTH_RANGE[0]} and {RULE_LENGTH_RANGE[1]} points", field=name)
    return _Analyser(
        observations,
        kind,
        better=better,
        target=None if target is None else float(target),
        freeze=freeze,
        phase_starts=sorted(phase_starts),
        run_length=run_length,
        trend_length=trend_length,
        screen_moving_ranges=screen_moving_ranges,
        minimum_points=minimum_points,
    ).run()
