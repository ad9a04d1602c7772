"""What ``/measures/{id}/chart/`` and ``/measures/{id}/import/`` read and answer, and how their errors read.

The chart is ``qi.measure_charts.measure_chart(...).as_dict()``; the serializers here only document its
shape for the schema. Query parameters override the measure's stored chart settings for one request.
"""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers
from rest_framework.parsers import BaseParser

from qi import csv_import
from qi.charts import KINDS, RULE_LABELS, ChartError, Observation, analyse
from qi.errors import QIValidationError
from qi.measure_charts import data_point_problem
from qi.models import Measure

# --- the chart's query parameters ---------------------------------------------------------------


def chart_problem(exc: ChartError, measure: Measure) -> QIValidationError:
    """A ChartError as a 400 naming the parameter (data that do not fit the chart kind name ``kind``)."""
    if exc.row is not None:
        message = data_point_problem(exc, measure)
        return QIValidationError(message, field_errors={"kind": message})
    name = exc.field or "kind"
    return QIValidationError(
        f"{name}: {exc.message}.", field_errors={name: f"{exc.message[:1].upper()}{exc.message[1:]}."}
    )


# --- the schema's descriptions and examples --------------------------------------------------------

IMPORT_DESCRIPTION = (
    "Send the file as `multipart/form-data` (field `file`) or as the body with `Content-Type: text/csv`. "
    "UTF-8 (a byte order mark is fine), at most 1 MB and 5,000 rows, a header row, then one row per date: "
    "`date,value` or `date,numerator,denominator`, either with an optional `note` column; headers in any "
    "case. Dates are `YYYY-MM-DD` or `DD/MM/YYYY`; values plain decimals (no thousands separators or %), "
    "numerators and denominators whole numbers. Rows may come in any order.\n\n"
    "If anything is wrong nothing is saved. `fields` names each bad line as `line.<N>`, N being the line "
    "in the file (the header is line 1; up to 20 lines are listed), and problems with the file as a whole "
    "(empty, too big, not UTF-8, a different kind of figure than the measure's points) as `file`; each "
    "message starts with `Line N:` too, and `detail` is the first of them. A date that already has a "
    "point is an error: edit or delete that point first."
)
IMPORT_EXAMPLE = OpenApiExample(
    "Weekly percentages",
    request_only=True,
    media_type="text/csv",
    value="date,numerator,denominator,note\n2026-01-05,11,20,\n12/01/2026,14,21,New triage nurse started\n",
)
IMPORT_ERROR_EXAMPLE = OpenApiExample(
    "A bad line: nothing is saved",
    response_only=True,
    status_codes=["400"],
    value={
        "status": 400,
        "code": "invalid",
        "detail": "Line 7: 31/02/2026 is not a date (use YYYY-MM-DD or DD/MM/YYYY).",
        "fields": {"line.7": ["Line 7: 31/02/2026 is not a date (use YYYY-MM-DD or DD/MM/YYYY)."]},
    },
)
CHART_ERROR_EXAMPLE = OpenApiExample(
    "A baseline longer than the first phase",
    response_only=True,
    status_codes=["400"],
    value={
        "status": 400,
        "code": "invalid",
        "detail": "freeze: the baseline must be between 2 points and the 9 points of the first phase.",
        "fields": {"freeze": ["The baseline must be between 2 points and the 9 points of the first phase."]},
    },
)
CHART_DESCRIPTION = (
    "The measure's data points analysed as a run chart (median, Anhøj rules) or an SPC chart (XmR, P or C, "
    "with the Making Data Count rules): centre and limits per point, phases, every signal with its rule and "
    "meaning, the variation and assurance icons and a one-sentence verdict. Each parameter overrides the "
    "measure's stored chart setting for this request only. A bad parameter, or data that do not fit the "
    "chart kind (values on a P chart), is a 400 naming the parameter. Answers with an ETag; send it back as "
    "If-None-Match for a 304 while nothing changed."
)
CHART_PARAMETERS = [
    OpenApiParameter(
        "kind",
        str,
        enum=list(KINDS),
        description="run, xmr, p or c. Default: the measure's chart kind, else p for numerator/denominator "
        "data and xmr for values.",
    ),
    OpenApiParameter(
        "freeze",
        str,
        description="Freeze the first phase's centre and limits at its first K points (K ≥ 2, at most the "
        "points of the first phase), or `none` to ignore the measure's stored baseline.",
        examples=[OpenApiExample("Baseline of 12 points", value="12"), OpenApiExample("No baseline", value="none")],
    ),
    OpenApiParameter(
        "phases",
        str,
        description="Comma-separated dates (YYYY-MM-DD) where a new phase starts, at most 50; an empty value "
        "ignores the measure's stored phases.",
        examples=[OpenApiExample("Two changes", value="2026-03-02,2026-05-04")],
    ),
    OpenApiParameter(
        "run_length",
        int,
        description="SPC: points in a row on one side of the mean that make a shift (5 to 12, default 7).",
    ),
    OpenApiParameter(
        "trend_length",
        int,
        description="SPC: points in a row rising or falling that make a trend (5 to 12, default 7).",
    ),
]


# --- the chart's shape, for the schema ------------------------------------------------------------


class ChartSettingsUsedSerializer(serializers.Serializer):
    freeze = serializers.IntegerField(allow_null=True, help_text="Points of the first phase its limits come from.")
    phase_starts = serializers.ListField(child=serializers.DateField())
    run_length = serializers.IntegerField()
    trend_length = serializers.IntegerField()
    screen_moving_ranges = serializers.BooleanField()
    minimum_points = serializers.IntegerField()


class ChartPhaseSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0 for the first phase.")
    first_point = serializers.IntegerField(help_text="Index in `points` of its first point.")
    last_point = serializers.IntegerField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    baseline_points = serializers.IntegerField(help_text="How many of its first points set its centre and limits.")
    centre = serializers.FloatField(help_text="Median (run chart), mean (XmR, C) or pooled proportion (P).")
    mean_moving_range = serializers.FloatField(allow_null=True, help_text="XmR only, after screening.")
    screened_moving_ranges = serializers.IntegerField()
    runs = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Run chart only: useful_observations, longest_run, longest_run_max, crossings, crossings_min.",
    )


class ChartSignalSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(choices=list(RULE_LABELS))
    label = serializers.CharField()
    phase = serializers.IntegerField()
    points = serializers.ListField(child=serializers.IntegerField(), help_text="Indices in `points`.")
    side = serializers.CharField(allow_null=True, help_text="high or low, up or down for a trend; null for crossings.")
    meaning = serializers.CharField(help_text="improvement, concern or neutral, given which direction is better.")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    summary = serializers.CharField()


class ChartPointSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    date = serializers.DateField()
    value = serializers.FloatField(help_text="What is plotted: a proportion from 0 to 1 on a P chart.")
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True)
    phase = serializers.IntegerField()
    baseline = serializers.BooleanField(help_text="Whether its phase's centre and limits were computed from it.")
    centre = serializers.FloatField()
    lower_limit = serializers.FloatField(allow_null=True, help_text="Null on a run chart.")
    upper_limit = serializers.FloatField(allow_null=True)
    lower_near = serializers.FloatField(allow_null=True, help_text="Where the 2-of-3 zone starts.")
    upper_near = serializers.FloatField(allow_null=True)
    rules = serializers.ListField(child=serializers.CharField(), help_text="Rules of the signals highlighting it.")
    variation = serializers.CharField(help_text="common_cause, improvement, concern or neutral.")


class ChartAnnotationSerializer(serializers.Serializer):
    date = serializers.DateField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="pdsa (a PDSA cycle started) or note (a data point's note).")
    pdsa_cycle = serializers.IntegerField(allow_null=True)


class MeasureChartSerializer(serializers.Serializer):
    measure = serializers.IntegerField()
    unit = serializers.CharField()
    percent = serializers.BooleanField(help_text="The data are proportions: show values and target as percentages.")
    annotations = ChartAnnotationSerializer(many=True)
    kind = serializers.CharField(help_text="run, xmr, p or c.")
    better = serializers.CharField(allow_null=True, help_text="up or down.")
    target = serializers.FloatField(allow_null=True, help_text="On the plotted scale: a proportion on a P chart.")
    settings = ChartSettingsUsedSerializer()
    verdict = serializers.CharField(help_text="One sentence: is it a real change or noise?")
    variation = serializers.CharField(
        allow_null=True, help_text="Making Data Count icon for the latest point: common_cause, improvement_high, ..."
    )
    assurance = serializers.CharField(
        allow_null=True, help_text="meets, fails or may_or_may_not; null without a target or on a run chart."
    )
    assurance_text = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())
    phases = ChartPhaseSerializer(many=True)
    signals = ChartSignalSerializer(many=True)
    points = ChartPointSerializer(many=True)


def chart_example() -> dict:
    """A real answer for the schema: 14 weekly percentages with a rise after a change, as a P chart."""
    start = dt.date(2026, 1, 5)
    numerators = [11, 12, 10, 13, 11, 12, 11, 15, 16, 17, 16, 18, 17, 18]
    observations = [
        Observation(start + dt.timedelta(weeks=week), numerator=numerator, denominator=20)
        for week, numerator in enumerate(numerators)
    ]
    analysis = analyse(observations, "p", better="up", target=0.9, freeze=7)
    annotation = {"date": "2026-02-23", "label": "PDSA 1: ECG prompt at triage", "kind": "pdsa", "pdsa_cycle": 4}
    return {"measure": 7, "unit": "%", "percent": True, "annotations": [annotation], **analysis.as_dict()}


class ErrorSerializer(serializers.Serializer):
    """The API's one error body (api/errors.py), for the documented 400s of the measure actions."""

    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


# --- importing a CSV file -----------------------------------------------------------------------


class CSVParser(BaseParser):
    """A ``text/csv`` body as bytes, read up to one byte past the limit (``qi.csv_import`` refuses it then)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read(csv_import.MAX_BYTES + 1) if stream is not None else b""


class ImportFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV file (UTF-8), at most 1 MB and 5,000 rows.")


def uploaded_csv(request) -> bytes:
    """The CSV of an import request: a ``text/csv`` body, or the ``file`` of a multipart form."""
    if isinstance(request.data, bytes):
        return request.data
    if request.content_type.startswith("text/csv"):
        return b""  # an empty body: the parser never ran
    upload = request.FILES.get("file")
    if upload is None:
        raise serializers.ValidationError(
            {"file": ["Attach the CSV file as the form field file, or send it as a text/csv body."]}
        )
    return upload.read(csv_import.MAX_BYTES + 1)
