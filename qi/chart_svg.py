"""Server-side SVG of a chart analysis (``qi.charts``): pure Python, no Django import, no template.

``render_svg(analysis, title=...)`` draws the data, each phase's centre line and process limits, the target,
the points a signal highlights in the Making Data Count colours, phase boundaries, annotations (PDSA cycles,
notes) as numbered markers on the time axis, and the variation and assurance icons (drawn here, in the spirit
of Making Data Count, not copied from it). The SVG is accessible (``role="img"`` with a title and a
description) and small: coordinates have one decimal, and above ``MAX_POINT_MARKERS`` points only the
highlighted points get a marker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Sequence
from html import escape
from itertools import pairwise

from qi.charts import RULE_LABELS, ChartAnalysis, format_date

COLOURS = {
    "common_cause": "#7B7D7D",
    "improvement": "#41B6E6",
    "concern": "#ED8B00",
    "neutral": "#330072",
}
INK = "#212B32"
DATA_LINE = "#425563"
LIMIT_LINE = "#768692"
TARGET_LINE = "#DA291C"
GRID_LINE = "#E8EDEE"
PHASE_LINE = "#AEB7BD"
ANNOTATION_COLOUR = "#005EB8"

MAX_POINT_MARKERS = 1000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CENTRE_NAMES = {"run": "median", "xmr": "mean", "p": "mean", "c": "mean"}

VARIATION_TITLES = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation, improvement: unusually high values",
    "improvement_low": "Special cause variation, improvement: unusually low values",
    "concern_high": "Special cause variation, concern: unusually high values",
    "concern_low": "Special cause variation, concern: unusually low values",
    "neutral_high": "Special cause variation: unusually high values (neither better nor worse)",
    "neutral_low": "Special cause variation: unusually low values (neither better nor worse)",
}
ASSURANCE_ICONS = {  # letter, fill, title
    "meets": ("P", COLOURS["improvement"], "Assurance: the process will consistently meet the target"),
    "fails": ("F", COLOURS["concern"], "Assurance: the process will consistently miss the target"),
    "may_or_may_not": ("?", COLOURS["common_cause"], "Assurance: the process will sometimes meet the target"),
}

# Characters XML 1.0 forbids even when escaped: drop them so any title or label stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PDSA_NUMBER = re.compile(r"^\s*PDSA(?:\s+cycle)?\s*#?(\d+)", re.IGNORECASE)


def _text(value: object) -> str:
    return escape(_NOT_XML.sub("", str(value)), quote=True)


def _n(number: float) -> str:
    """A coordinate with one decimal at most ("12", "12.5")."""
    return f"{number:.1f}".removesuffix(".0")


# --- scales ----------------------------------------------------------------------------------------------


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at least ``raw``."""
    base = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * base * (1 + 1e-9):
            return multiple * base
    return 10 * base


def _decimals(step: float) -> int:
    """How many decimals tell ticks ``step`` apart (2.5 needs one, 0.25 two)."""
    for decimals in range(10):
        scaled = step * 10**decimals
        if abs(scaled - round(scaled)) <= 1e-6 * max(1.0, scaled):
            return decimals
    return 10


def _value_range(analysis: ChartAnalysis, percent: bool) -> tuple[float, float]:
    """Everything drawn on the value axis: data, centres, limits and target, padded when flat."""
    columns = analysis.columns
    drawn = [min(columns.values), max(columns.values), *(phase.centre for phase in analysis.phases)]
    if analysis.target is not None:
        drawn.append(analysis.target)
    if columns.upper_limit[0] is not None:
        drawn.append(max(columns.upper_limit))  # type: ignore[type-var]
        drawn.append(min(columns.lower_limit))  # type: ignore[type-var]
    drawn = [v for v in drawn if math.isfinite(v)]
    low, high = min(drawn), max(drawn)
    if high - low > 1e-12 * max(1.0, abs(high)):
        return low, high
    pad = abs(high) * 0.1 or (0.1 if percent else 1.0)
    lower, upper = low - pad, high + pad
    if low >= 0:
        lower = max(lower, 0.0)
    if percent and high <= 1:
        upper = min(upper, 1.0)
    return lower, upper


def _value_ticks(low: float, high: float, wanted: int) -> tuple[list[float], float]:
    step = _nice_step((high - low) / max(wanted, 1))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)], step


_INTERVALS = (
    ("day", 1),
    ("day", 2),
    ("week", 1),
    ("week", 2),
    ("month", 1),
    ("month", 2),
    ("month", 3),
    ("month", 6),
    ("year", 1),
    ("year", 2),
    ("year", 5),
    ("year", 10),
    ("year", 25),
    ("year", 50),
    ("year", 100),
)
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}


def _date_ticks(first: float, last: float, most: int) -> tuple[str, list[dt.date]]:
    """Round dates (days, Mondays, first of months, new years) between two ordinals, at most ``most``."""
    span = last - first
    unit, every = next(
        ((unit, every) for unit, every in _INTERVALS if span / (_UNIT_DAYS[unit] * every) + 1 <= most),
        _INTERVALS[-1],
    )
    # The axis is padded beyond the data: keep it within the dates Python can represent (1 to 9999).
    lo, hi = max(math.ceil(first), 1), min(math.floor(last), dt.date.max.toordinal() - 366)
    if unit == "day":
        ordinals = [o for o in range(lo, hi + 1) if o % every == 0]
    elif unit == "week":  # ordinal 1 (1 January of year 1) is a Monday
        ordinals = [o for o in range(lo, hi + 1) if o % 7 == 1 and (o // 7) % every == 0]
    else:
        start, end = dt.date.fromordinal(lo), dt.date.fromordinal(max(hi, lo))
        if unit == "month":
            months = range(start.year * 12 + start.month - 1, end.year * 12 + end.month)
            days = [dt.date(m // 12, m % 12 + 1, 1) for m in months if m % every == 0]
        else:
            days = [dt.date(y, 1, 1) for y in range(start.year, min(end.year, 9998) + 1) if y % every == 0]
        ordinals = [d.toordinal() for d in days if lo <= d.toordinal() <= hi]
    return unit, [dt.date.fromordinal(o) for o in ordinals if o >= 1]


def _date_labels(unit: str, days: Sequence[dt.date]) -> list[tuple[str, str]]:
    """Two lines per tick: day and month (or month, or year), then the year where it changes."""
    labels = []
    previous_year = None
    for day in days:
        year = str(day.year) if day.year != previous_year else ""
        previous_year = day.year
        if unit == "year":
            labels.append((str(day.year), ""))
        elif unit == "month":
            labels.append((MONTHS[day.month - 1], year))
        else:
            labels.append((f"{day.day} {MONTHS[day.month - 1]}", year))
    return labels


# --- the drawing --------------------------------------------------------------------------------------------


class _Chart:
    def __init__(
        self,
        analysis: ChartAnalysis,
        *,
        title: str,
        description: str | None,
        unit: str,
        annotations: Sequence[tuple[dt.date, str]],
        width: int,
        height: int,
        percent: bool,
    ) -> None:
        self.analysis = analysis
        # The per-point figures as parallel lists: building 10,000 ChartPoints would cost more than drawing them.
        self.columns = columns = analysis.columns
        self.count = len(columns.values)
        self.title = title
        self.description = description
        self.unit = "" if percent else unit.strip()
        self.width, self.height = width, height
        self.percent = percent
        self.scale = 100.0 if percent else 1.0
        # Annotations far outside the data's dates (a typo, a plan for next year) would squash the data: they
        # are drawn only within the data's span, or 28 days, of its first and last date.
        self.annotations: list[tuple[dt.date, str]] = []
        first = last = None
        if self.count:
            first, last = columns.dates[0], columns.dates[-1]
            allowance = max(last - first, dt.timedelta(days=28))
            near = (a for a in annotations if first - allowance <= a[0] <= last + allowance)
            self.annotations = sorted(near, key=lambda a: a[0])
        key = f"{title}|{analysis.kind}|{self.count}|{first}|{last}"
        self.id = "qi-chart-" + hashlib.sha1(key.encode()).hexdigest()[:8]
        self.out: list[str] = []

    # -- value formatting --

    def show(self, value: float, decimals: int | None = None) -> str:
        """A value as people read it: a percentage for a P chart, with the unit otherwise."""
        if self.percent:
            return f"{value * 100:.{1 if decimals is None else decimals}f}%"
        if decimals is not None:
            text = f"{value:,.{decimals}f}"
        elif abs(value) >= 1000:
            text = f"{value:,.0f}"
        else:
            text = f"{value:.4g}"
        if not self.unit or decimals is not None:
            return text
        return f"{text}%" if self.unit == "%" else f"{text} {self.unit}"

    # -- layout --

    def layout(self) -> None:
        dates = self.columns.dates
        self.top = 52.0
        self.right = self.width - 16.0
        # x: the data's dates and the annotations', padded by half the usual gap between points
        data_first, data_last = dates[0].toordinal(), dates[-1].toordinal()
        ordinals = [data_first, data_last, *(day.toordinal() for day, _ in self.annotations)]
        first, last = min(ordinals), max(ordinals)
        gap = (data_last - data_first) / max(self.count - 1, 1)
        pad = max(gap / 2, (last - first) * 0.02, 0.5) if last > first else 3.5
        self.x_first, self.x_last = first - pad, last + pad
        # y: nice ticks over everything drawn; the widest tick label sets the left margin
        low, high = _value_range(self.analysis, self.percent)
        wanted = max(3, int((self.height - self.top - 60) // 45))
        ticks, step = _value_ticks(low * self.scale, high * self.scale, wanted)
        decimals = _decimals(step)
        self.value_ticks = [(tick / self.scale, self.show(tick / self.scale, decimals)) for tick in ticks]
        self.y_low, self.y_high = ticks[0] / self.scale, ticks[-1] / self.scale
        self.left = max(40.0, 7.0 * max(len(label) for _, label in self.value_ticks) + 14)
        self.plot_width = self.right - self.left
        # annotation markers in up to two rows below the date labels, the second for close neighbours
        self.annotation_rows: list[int] = []
        row_ends = [-1e9, -1e9]
        for number, (day, _) in enumerate(self.annotations):
            x = self.x(day)
            half = 4 + 3.5 * len(self.short_label(number))
            row = 0 if x - half > row_ends[0] + 2 else (1 if x - half > row_ends[1] + 2 else 0)
            row_ends[row] = x + half
            self.annotation_rows.append(row)
        rows = (max(self.annotation_rows) + 1) if self.annotation_rows else 0
        self.bottom = self.height - 40.0 - 20 * rows
        self.plot_height = self.bottom - self.top
        # every point's position, computed once
        x_factor = self.plot_width / (self.x_last - self.x_first)
        x_offset = self.left - self.x_first * x_factor
        self.xs = [day.toordinal() * x_factor + x_offset for day in dates]
        self.ys = [self.y(value) for value in self.columns.values]

    def x(self, day: dt.date) -> float:
        return self.left + (day.toordinal() - self.x_first) / (self.x_last - self.x_first) * self.plot_width

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y_low) / (self.y_high - self.y_low) * self.plot_height

    def short_label(self, number: int) -> str:
        """The marker's text: P3 for PDSA cycle 3 (read from the label), else N1, N2... for notes, in date order."""
        match = _PDSA_NUMBER.match(self.annotations[number][1])
        if match:
            return f"P{int(match.group(1))}"
        notes = sum(1 for _, label in self.annotations[:number] if not _PDSA_NUMBER.match(label))
        return f"N{notes + 1}"

    # -- output --

    def render(self) -> str:
        if not self.count:
            return self.render_empty()
        self.layout()
        self.start(self.description or self.default_description())
        self.heading()
        self.baseline()
        self.axes()
        self.phase_boundaries()
        if self.columns.upper_limit[0] is not None:
            self.limits()
        self.centres()
        if self.analysis.target is not None:
            self.target()
        self.annotation_markers()
        self.data()
        self.icons()
        self.out.append("</svg>")
        return "".join(self.out)

    def start(self, description: str) -> None:
        self.out.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="qi-chart" '
            f'aria-labelledby="{self.id}-title {self.id}-desc" viewBox="0 0 {self.width} {self.height}" '
            f'width="{self.width}" height="{self.height}" font-family="Arial, Helvetica, sans-serif" '
            f'font-size="12" fill="{INK}">'
        )
        self.out.append(f'<title id="{self.id}-title">{_text(self.title)}</title>')
        self.out.append(f'<desc id="{self.id}-desc">{_text(description)}</desc>')

    def render_empty(self) -> str:
        """No data yet: the title, an empty frame and the verdict in it."""
        self.left, self.top, self.right, self.bottom = 40.0, 52.0, self.width - 16.0, self.height - 40.0
        self.start(self.description or self.analysis.verdict)
        self.heading()
        self.out.append(
            f'<rect class="empty" x="{_n(self.left)}" y="{_n(self.top)}" width="{_n(self.right - self.left)}" '
            f'height="{_n(self.bottom - self.top)}" fill="#F0F4F5" stroke="{GRID_LINE}"/>'
            f'<text x="{_n((self.left + self.right) / 2)}" y="{_n((self.top + self.bottom) / 2)}" '
            f'text-anchor="middle" font-size="14">{_text(self.analysis.verdict)}</text></svg>'
        )
        return "".join(self.out)

    def default_description(self) -> str:
        dates, values = self.columns.dates, self.columns.values
        if self.count == 1:
            data = f"1 point, on {format_date(dates[0])}: {self.show(values[0])}."
        else:
            data = (
                f"{self.count} points from {format_date(dates[0])} to {format_date(dates[-1])}; "
                f"lowest {self.show(min(values))}, highest {self.show(max(values))}, latest {self.show(values[-1])}."
            )
        return " ".join(part for part in (self.analysis.verdict, self.analysis.assurance_text, data) if part)

    def heading(self) -> None:
        room = int((self.width - 16 - 2 * 36 - 16) // 8)  # the icons take the top-right corner
        title = self.title if len(self.title) <= room else self.title[: max(room - 1, 1)].rstrip() + "…"
        self.out.append(
            f'<text class="chart-title" x="16" y="24" font-size="15" font-weight="bold">{_text(title)}</text>'
        )
        if self.unit:
            self.out.append(
                f'<text class="unit" x="{_n(self.left)}" y="{_n(self.top - 8)}" font-size="11" '
                f'text-anchor="middle">{_text(self.unit)}</text>'
            )

    def axes(self) -> None:
        out = self.out
        left, right, top, bottom = _n(self.left), _n(self.right), _n(self.top), _n(self.bottom)
        out.append('<g class="value-axis" font-size="11" text-anchor="end">')
        for value, label in self.value_ticks:
            y = _n(self.y(value))
            out.append(f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="{GRID_LINE}"/>')
            out.append(f'<text x="{_n(self.left - 6)}" y="{y}" dy="0.35em">{_text(label)}</text>')
        out.append("</g>")
        unit, days = _date_ticks(self.x_first, self.x_last, max(2, int(self.plot_width // 64)))
        out.append('<g class="date-axis" font-size="11" text-anchor="middle">')
        for day, (line1, line2) in zip(days, _date_labels(unit, days), strict=True):
            x = _n(self.x(day))
            out.append(f'<line x1="{x}" x2="{x}" y1="{bottom}" y2="{_n(self.bottom + 5)}" stroke="{INK}"/>')
            out.append(f'<text x="{x}" y="{_n(self.bottom + 17)}">{line1}</text>')
            if line2:
                out.append(f'<text x="{x}" y="{_n(self.bottom + 30)}">{line2}</text>')
        out.append("</g>")
        out.append(f'<path class="axes" d="M{left} {top}V{bottom}H{right}" fill="none" stroke="{INK}"/>')

    def _phase_edges(self) -> list[tuple[float, float]]:
        """Left and right x of each phase: halfway to the neighbouring phase's first or last point."""
        xs, phases = self.xs, self.analysis.phases
        edges = []
        for number, phase in enumerate(phases):
            left, right = xs[phase.start], xs[phase.end]
            if number > 0:
                left = (xs[phase.start - 1] + left) / 2
            if number < len(phases) - 1:
                right = (right + xs[phase.end + 1]) / 2
            if right - left < 12:
                middle = (left + right) / 2
                left, right = middle - 6, middle + 6
            edges.append((left, right))
        return edges

    def baseline(self) -> None:
        """Shade a frozen baseline: the points the first phase's centre and limits come from. Its label sits at
        the top right of the shading, away from the target's label at the top left."""
        first = self.analysis.phases[0]
        after = first.start + first.baseline_points  # the first point judged against the baseline
        if after <= first.end:
            left, right = self._phase_edges()[0][0], (self.xs[after - 1] + self.xs[after]) / 2
            self.out.append(
                f'<g class="baseline"><title>Baseline: centre and limits from the first {first.baseline_points} '
                f'points</title><rect x="{_n(left)}" y="{_n(self.top)}" width="{_n(right - left)}" '
                f'height="{_n(self.plot_height)}" fill="#F0F4F5"/><text x="{_n(right - 4)}" '
                f'y="{_n(self.top + 11)}" font-size="10" text-anchor="end" fill="{DATA_LINE}">Baseline</text></g>'
            )

    def phase_boundaries(self) -> None:
        edges = self._phase_edges()
        for phase, (left, _) in zip(self.analysis.phases[1:], edges[1:], strict=True):
            x = _n(left)
            self.out.append(
                f'<g class="phase-boundary"><title>Phase {phase.index + 1} from {format_date(phase.start_date)}'
                f'</title><line x1="{x}" x2="{x}" y1="{_n(self.top)}" y2="{_n(self.bottom)}" stroke="{PHASE_LINE}" '
                f'stroke-width="1.5"/><text x="{_n(left + 4)}" y="{_n(self.top + 11)}" font-size="10" '
                f'fill="{DATA_LINE}">Phase {phase.index + 1}</text></g>'
            )

    def limits(self) -> None:
        """Each phase's limits as a step line: flat when constant, a step per point when they vary (P)."""
        columns, out, y = self.columns, self.out, self.y
        out.append(f'<g class="limits" fill="none" stroke="{LIMIT_LINE}" stroke-width="1.5" stroke-dasharray="5 3">')
        out.append("<title>Process limits</title>")
        for phase, (left, right) in zip(self.analysis.phases, self._phase_edges(), strict=True):
            lo, hi = phase.start, phase.end + 1
            xs = self.xs[lo:hi]
            edges = [left, *((a + b) / 2 for a, b in pairwise(xs)), right]
            for side, limits in (("upper", columns.upper_limit[lo:hi]), ("lower", columns.lower_limit[lo:hi])):
                d = _step_path(edges, [y(v) for v in limits])  # type: ignore[arg-type]
                out.append(f'<path class="limit {side}-limit" d="{d}"/>')
        out.append("</g>")

    def centres(self) -> None:
        analysis = self.analysis
        name = CENTRE_NAMES[analysis.kind]
        dashed = {s.phase for s in analysis.signals if s.rule == "few_crossings"}
        for phase, (left, right) in zip(analysis.phases, self._phase_edges(), strict=True):
            y = self.y(phase.centre)
            label = f"{name} {self.show(phase.centre)}"
            few = phase.index in dashed
            dash = ' stroke-dasharray="8 4"' if few else ""
            why = ": too few crossings of the median, the process has changed" if few else ""
            self.out.append(
                f'<g class="centre{" few-crossings" if few else ""}"><title>Phase {phase.index + 1} '
                f'{_text(label)}{why}</title><line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y)}" y2="{_n(y)}" '
                f'stroke="{INK}" stroke-width="1.5"{dash}/>'
            )
            if right - left >= 7 * len(label):
                self.out.append(
                    f'<text x="{_n(right - 2)}" y="{_n(y - 4)}" font-size="10" text-anchor="end">{_text(label)}</text>'
                )
            self.out.append("</g>")

    def target(self) -> None:
        target = self.analysis.target
        y = self.y(target)  # type: ignore[arg-type]
        label = _text(f"target {self.show(target)}")  # type: ignore[arg-type]
        self.out.append(
            f'<g class="target"><title>{label}</title><line x1="{_n(self.left)}" x2="{_n(self.right)}" '
            f'y1="{_n(y)}" y2="{_n(y)}" stroke="{TARGET_LINE}" stroke-width="1.5" stroke-dasharray="2 3"/>'
            f'<text x="{_n(self.left + 4)}" y="{_n(y - 4)}" font-size="10" fill="{TARGET_LINE}">{label}</text></g>'
        )

    def annotation_markers(self) -> None:
        out = self.out
        for number, ((day, label), row) in enumerate(zip(self.annotations, self.annotation_rows, strict=True)):
            short = self.short_label(number)
            x, half = self.x(day), 4 + 3.5 * len(short)
            y = self.bottom + 36 + 20 * row
            out.append(
                f'<g class="annotation"><title>{_text(format_date(day))}: {_text(label)}</title>'
                f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(self.top)}" y2="{_n(y)}" stroke="{ANNOTATION_COLOUR}" '
                f'stroke-dasharray="1 3"/><rect x="{_n(x - half)}" y="{_n(y)}" width="{_n(2 * half)}" height="15" '
                f'rx="3" fill="{ANNOTATION_COLOUR}"/><text x="{_n(x)}" y="{_n(y + 11)}" font-size="10" '
                f'font-weight="bold" fill="#FFFFFF" text-anchor="middle">{_text(short)}</text></g>'
            )

    def data(self) -> None:
        columns, out = self.columns, self.out
        xs = [_n(x) for x in self.xs]
        ys = [_n(y) for y in self.ys]
        coordinates = " ".join([f"{x} {y}" for x, y in zip(xs, ys, strict=True)])
        out.append(
            f'<path class="data" d="M{coordinates}" fill="none" stroke="{DATA_LINE}" stroke-width="1.5" '
            f'stroke-linejoin="round"/>'
        )
        every = self.count <= MAX_POINT_MARKERS
        out.append(f'<g class="points" fill="{COLOURS["common_cause"]}" stroke="#FFFFFF" stroke-width="1">')
        for i in range(self.count):
            rules = columns.rules[i]
            if rules:
                variation = columns.variation[i]
                why = "; ".join(dict.fromkeys(RULE_LABELS[rule] for rule in rules))
                out.append(
                    f'<circle class="point highlighted {variation}" cx="{xs[i]}" cy="{ys[i]}" r="4.5" '
                    f'fill="{COLOURS.get(variation, COLOURS["neutral"])}"><title>{self.point_title(i)}, '
                    f"special cause ({variation}): {_text(why)}</title></circle>"
                )
            elif every:
                out.append(
                    f'<circle class="point" cx="{xs[i]}" cy="{ys[i]}" r="3"><title>{self.point_title(i)}</title>'
                    "</circle>"
                )
        out.append("</g>")

    def point_title(self, i: int) -> str:
        columns = self.columns
        denominator = columns.denominators[i]
        fraction = f" ({columns.numerators[i]}/{denominator})" if denominator is not None else ""
        return _text(f"{format_date(columns.dates[i])}: {self.show(columns.values[i])}{fraction}")

    def icons(self) -> None:
        analysis = self.analysis
        x, y = self.width - 30, 26
        if analysis.assurance in ASSURANCE_ICONS:
            letter, fill, title = ASSURANCE_ICONS[analysis.assurance]
            self.out.append(
                f'<g class="icon assurance {analysis.assurance}" transform="translate({x} {y})">'
                f'<title>{_text(title)}</title><circle r="14" fill="{fill}" stroke="#FFFFFF" stroke-width="2"/>'
                f'<text y="5" font-size="15" font-weight="bold" fill="#FFFFFF" text-anchor="middle">{letter}</text></g>'
            )
            x -= 36
        if analysis.variation in VARIATION_TITLES:
            self.out.append(
                f'<g class="icon variation {analysis.variation}" transform="translate({x} {y})">'
                f"<title>{_text(VARIATION_TITLES[analysis.variation])}</title>"
                f"{_variation_drawing(analysis.variation)}</g>"
            )


def _step_path(edges: Sequence[float], ys: Sequence[float]) -> str:
    """A horizontal step per value between consecutive ``edges``, equal neighbours merged into one step."""
    shown = [_n(y) for y in ys]
    shown.append("")  # after the last step: always different
    parts = [f"M{_n(edges[0])} {shown[0]}"]
    current = shown[0]
    for i in range(len(ys)):
        y = shown[i]
        if y != current:
            parts.append(f"V{y}")
            current = y
        if shown[i + 1] != y:
            parts.append(f"H{_n(edges[i + 1])}")
    return "".join(parts)


def _variation_drawing(variation: str) -> str:
    if variation == "common_cause":
        grey = COLOURS["common_cause"]
        return (
            f'<circle r="14" fill="#FFFFFF" stroke="{grey}" stroke-width="2"/>'
            f'<polyline points="-8,1 -4,-4 0,3 4,-3 8,1" fill="none" stroke="{grey}" stroke-width="2" '
            f'stroke-linejoin="round"/>'
        )
    meaning, side = variation.rsplit("_", 1)
    letter = "H" if side == "high" else "L"
    # a white arrow beside the letter, pointing the way the values went
    arrow = "M6 -8L10 -2H7.5V6H4.5V-2H2Z" if side == "high" else "M6 8L10 2H7.5V-6H4.5V2H2Z"
    return (
        f'<circle r="14" fill="{COLOURS[meaning]}" stroke="#FFFFFF" stroke-width="2"/>'
        f'<text x="-4" y="5" font-size="13" font-weight="bold" fill="#FFFFFF" text-anchor="middle">{letter}</text>'
        f'<path d="{arrow}" fill="#FFFFFF"/>'
    )


def render_svg(
    analysis: ChartAnalysis,
    *,
    title: str,
    description: str | None = None,
    unit: str = "",
    annotations: Sequence[tuple[dt.date, str]] = (),
    width: int = 760,
    height: int = 360,
    percent: bool | None = None,
) -> str:
    """Draw ``analysis`` as a standalone, accessible SVG document (text, no XML declaration)."""
    return _Chart(
        analysis,
        title=title,
        description=description,
        unit=unit,
        annotations=annotations,
        width=width,
        height=height,
        percent=analysis.kind == "p" if percent is None else percent,
    ).render()
