"""A measure's chart: its data points and PDSA cycles read in two queries, analysed by ``qi.charts``.

The API's ``/measures/{id}/chart/``, the web measure page and its SVG all call ``measure_chart()``, so a
phone and a page always agree. Request parameters override the measure's stored chart settings
(``chart_kind``, ``baseline_points``, ``phase_starts``).

Targets of percentages are stored as percentages (90 means 90%); a P chart works in proportions, so the
target is divided by 100 for charts of numerator/denominator data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qi.charts import KINDS, RULE_LENGTH_RANGE, ChartAnalysis, ChartError, Observation, analyse, format_date
from qi.models import MAX_CHART_PHASES, DataPoint, Measure, PDSACycle

UNSET: Any = object()  # "use the measure's stored setting", distinct from an explicit None ("no freeze")


@dataclass(frozen=True, slots=True)
class Annotation:
    date: dt.date
    label: str
    kind: str  # "pdsa" (a PDSA cycle started) or "note" (a data point's note)
    pdsa_cycle: int | None = None


@dataclass(slots=True)
class MeasureChart:
    measure: Measure
    analysis: ChartAnalysis
    annotations: list[Annotation]
    percent: bool  # the data are proportions: show values as percentages

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure.pk,
            "unit": self.measure.unit,
            "percent": self.percent,
            "annotations": [
                {"date": a.date.isoformat(), "label": a.label, "kind": a.kind, "pdsa_cycle": a.pdsa_cycle}
                for a in self.annotations
            ],
            **self.analysis.as_dict(),
        }


def observations_from_points(points: Sequence[DataPoint]) -> list[Observation]:
    return [
        Observation(
            date=point.date,
            value=float(point.value) if point.value is not None else None,
            numerator=point.numerator,
            denominator=point.denominator,
        )
        for point in points
    ]


def parse_phase_starts(text: str) -> list[dt.date]:
    """``2026-03-02,2026-05-04`` (a query parameter) as dates; ChartError names the bad one."""
    days = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        try:
            days.append(dt.date.fromisoformat(part))
        except ValueError:
            raise ChartError(f"{part[:40]} is not a date (YYYY-MM-DD)", field="phases") from None
    if len(days) > MAX_CHART_PHASES:
        raise ChartError(f"at most {MAX_CHART_PHASES} phases", field="phases")
    return days


def chart_options(query: Mapping[str, str]) -> dict[str, Any]:
    """Chart parameters of a request (the web page's query string or the API's) as ``measure_chart()`` keywords.

    ``kind`` (run, xmr, p, c), ``freeze`` (points, or ``none``), ``phases`` (ISO dates, comma-separated; empty for
    none), ``run_length`` and ``trend_length``. A parameter left out, or an empty kind or freeze, keeps the
    measure's stored setting. ChartError names the parameter.
    """
    options: dict[str, Any] = {}
    kind = (query.get("kind") or "").strip()
    if kind:
        if kind not in KINDS:
            raise ChartError(f"the chart kind must be one of {', '.join(KINDS)}", field="kind")
        options["kind"] = kind
    freeze = (query.get("freeze") or "").strip().lower()
    if freeze == "none":
        options["freeze"] = None
    elif freeze:
        if not freeze.isdigit() or int(freeze) < 2:
            raise ChartError("give a number of points, 2 or more, or none", field="freeze")
        options["freeze"] = int(freeze)
    if "phases" in query:
        options["phase_starts"] = parse_phase_starts(query["phases"] or "")
    low, high = RULE_LENGTH_RANGE
    for name in ("run_length", "trend_length"):
        text = (query.get(name) or "").strip()
        if text:
            if not text.isdigit() or not low <= int(text) <= high:
                raise ChartError(f"must be a whole number of points from {low} to {high}", field=name)
            options[name] = int(text)
    return options


def data_point_problem(error: ChartError, measure: Measure) -> str:
    """A ChartError about one data point (its ``row`` in date order) as a sentence naming the point's date."""
    day = DataPoint.objects.filter(measure=measure).order_by("date").values_list("date", flat=True)[error.row]
    return f"The data point of {format_date(day)}: {error.message}."


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def measure_chart(
    measure: Measure,
    *,
    kind: str | None = None,
    freeze: int | None = UNSET,
    phase_starts: Sequence[dt.date] | None = None,
    run_length: int | None = None,
    trend_length: int | None = None,
) -> MeasureChart:
    """Analyse ``measure``'s data points; raise ChartError for a parameter or data that cannot be charted."""
    points = list(
        DataPoint.objects.filter(measure=measure)
        .order_by("date")
        .only("date", "value", "numerator", "denominator", "note", "pdsa_cycle_id")
    )
    cycles = list(
        PDSACycle.objects.filter(project_id=measure.project_id, starts_on__isnull=False)
        .order_by("starts_on", "number")
        .only("id", "number", "change_idea", "starts_on")
    )
    fractions = bool(points) and all(point.denominator is not None for point in points)
    kind = kind or measure.chart_kind or ("p" if fractions else "xmr")
    starts = list(measure.phase_start_dates if phase_starts is None else phase_starts)
    warnings = []
    if freeze is UNSET:
        freeze = measure.baseline_points
        later = [day for day in starts if points and day > points[0].date]  # phases that split the data
        first_phase = sum(1 for point in points if not later or point.date < min(later))
        if freeze is not None and freeze > first_phase:
            # A stored baseline longer than the data so far: chart what there is, and say so.
            warnings.append(
                f"The baseline is set at {freeze} points but there are only {first_phase} yet: the limits use "
                "all of them until then."
            )
            freeze = None
    target = float(measure.target) if measure.target is not None else None
    if target is not None and fractions:
        target /= 100
    analysis = analyse(
        observations_from_points(points),
        kind,
        better=measure.better,
        target=target,
        freeze=freeze,
        phase_starts=starts,
        **{name: value for name, value in (("run_length", run_length), ("trend_length", trend_length)) if value},
    )
    analysis.warnings[:0] = warnings
    annotations = [
        Annotation(cycle.starts_on, f"PDSA {cycle.number}: {_short(cycle.change_idea)}", "pdsa", cycle.pk)
        for cycle in cycles
    ]
    annotations += [Annotation(point.date, _short(point.note), "note") for point in points if point.note]
    annotations.sort(key=lambda a: (a.date, a.kind != "pdsa"))
    return MeasureChart(measure, analysis, annotations, percent=fractions)
