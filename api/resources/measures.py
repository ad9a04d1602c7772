"""Measures and their data points: list, create, edit, and many data points in one all-or-none request.

Writes call ``qi.services``; lists are scoped to the projects a person sees whole. Errors of a bulk
request name the bad row as ``points.<index>`` (and ``points.<index>.<field>`` when one field is wrong),
with the 0-based index of the row in the posted array; the ``detail`` sentence counts rows from 1.
A CSV import names the line of the file instead (``line.<N>``, the header being line 1), and the chart
answers ``qi.measure_charts.measure_chart()``; both are described in ``api/resources/charts.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api.conditional import ConditionalRetrieveMixin, conditional_response, require_current
from api.filters import SyncFilterSet
from api.resources import charts
from api.resources.common import ServiceWriteMixin, VisibleProjectField
from qi import csv_import, services
from qi.charts import ChartError
from qi.errors import QIValidationError
from qi.measure_charts import chart_options, measure_chart
from qi.models import DataPoint, Measure, PDSACycle, Project, User
from qi.patient_data import patient_identifier_problem

MAX_POINTS_PER_REQUEST = 1000

# --- reads -----------------------------------------------------------------------------------


def measures_for(user: User) -> QuerySet[Measure]:
    return Measure.objects.filter(project__in=Project.objects.visible_to(user).values("pk"))


def data_points_for(user: User) -> QuerySet[DataPoint]:
    return DataPoint.objects.filter(measure__project__in=Project.objects.visible_to(user).values("pk")).select_related(
        "measure"
    )


class MeasureSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", read_only=True)
    target = serializers.DecimalField(max_digits=12, decimal_places=3, normalize_output=True, read_only=True)
    phase_starts = serializers.ListField(child=serializers.DateField(), read_only=True)

    class Meta:
        model = Measure
        fields = [
            "id",
            "project",
            "name",
            "kind",
            "operational_definition",
            "unit",
            "better",
            "target",
            "chart_kind",
            "baseline_points",
            "phase_starts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DataPointSerializer(serializers.ModelSerializer):
    measure = serializers.IntegerField(source="measure_id", read_only=True)
    project = serializers.IntegerField(source="measure.project_id", read_only=True)
    value = serializers.DecimalField(max_digits=14, decimal_places=4, normalize_output=True, read_only=True)
    pdsa_cycle = serializers.IntegerField(source="pdsa_cycle_id", read_only=True, allow_null=True)

    class Meta:
        model = DataPoint
        fields = [
            "id",
            "measure",
            "project",
            "date",
            "value",
            "numerator",
            "denominator",
            "note",
            "pdsa_cycle",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- writes ----------------------------------------------------------------------------------


class ChartSettingsSerializer(serializers.Serializer):
    """How a measure is charted by default; ``/measures/{id}/chart/`` can override each per request."""

    chart_kind = serializers.ChoiceField(
        choices=Measure.ChartKind.choices,
        allow_blank=True,
        required=False,
        help_text="Blank: a P chart for numerator/denominator data, an XmR chart for values.",
    )
    baseline_points = serializers.IntegerField(
        min_value=2, max_value=1000, required=False, allow_null=True, help_text="Freeze limits at the first N points."
    )
    phase_starts = serializers.ListField(
        child=serializers.DateField(),
        max_length=50,
        required=False,
        help_text="Dates where the process changed; limits are recalculated from each.",
    )


@extend_schema_serializer(component_name="Measure")  # request bodies as MeasureRequest, PatchedMeasureRequest
class MeasureCreateSerializer(ChartSettingsSerializer):
    project = VisibleProjectField()
    name = serializers.CharField(max_length=200)
    operational_definition = serializers.CharField(
        help_text="Exactly what is counted, from where, how often; numerator and denominator for a percentage."
    )
    better = serializers.ChoiceField(choices=Measure.Direction.choices, help_text="Which direction is better.")
    kind = serializers.ChoiceField(choices=Measure.Kind.choices, default=Measure.Kind.OUTCOME)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    target = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)


@extend_schema_serializer(component_name="Measure")  # request bodies as MeasureRequest, PatchedMeasureRequest
class MeasureUpdateSerializer(ChartSettingsSerializer):
    name = serializers.CharField(max_length=200, required=False)
    operational_definition = serializers.CharField(required=False)
    better = serializers.ChoiceField(choices=Measure.Direction.choices, required=False)
    kind = serializers.ChoiceField(choices=Measure.Kind.choices, required=False)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True)
    target = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)


def no_patient_identifier(text: str) -> None:
    """Refuse a note holding a patient identifier here, so the error names the field, not only the row."""
    problem = patient_identifier_problem(text)
    if problem:
        raise serializers.ValidationError(f"Note {problem}")


class DataPointRowSerializer(serializers.Serializer):
    """One period's figure: a value, or a numerator and a denominator (checked by the service)."""

    date = serializers.DateField()
    value = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    numerator = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    denominator = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, validators=[no_patient_identifier])
    pdsa_cycle = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of a PDSA cycle of the same project that this point follows."
    )


class DataPointBulkSerializer(serializers.Serializer):
    points = serializers.ListField(
        child=DataPointRowSerializer(), min_length=1, max_length=MAX_POINTS_PER_REQUEST, help_text="Up to 1000 rows."
    )


class VisibleMeasureField(serializers.PrimaryKeyRelatedField):
    """A measure id that resolves only among measures the user sees: any other reads as "does not exist"."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Measure.objects.all(), **kwargs)

    def get_queryset(self):
        return measures_for(self.context["request"].user)


class DataPointCreateSerializer(DataPointRowSerializer):
    measure = VisibleMeasureField()


class DataPointBulkResultSerializer(serializers.Serializer):
    results = DataPointSerializer(many=True, help_text="The created data points, in the order sent.")


class DataPointImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="How many data points the file added.")
    results = DataPointSerializer(many=True, help_text="The created data points, in date order.")


class DataPointUpdateSerializer(serializers.Serializer):
    date = serializers.DateField(required=False)
    value = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    numerator = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    denominator = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, validators=[no_patient_identifier])
    pdsa_cycle = serializers.IntegerField(required=False, allow_null=True)


def _with_pdsa_cycles(rows: list[dict], measure: Measure, field_name: Callable[[int], str]) -> list[dict]:
    """Swap PDSA cycle ids for the project's cycles, in one query; an id from elsewhere does not exist."""
    wanted = {row["pdsa_cycle"] for row in rows if row.get("pdsa_cycle") is not None}
    cycles = PDSACycle.objects.filter(project_id=measure.project_id, pk__in=wanted).in_bulk() if wanted else {}
    for index, row in enumerate(rows):
        cycle_id = row.get("pdsa_cycle")
        if cycle_id is not None:
            if cycle_id not in cycles:
                message = f"This project has no PDSA cycle with id {cycle_id}."
                raise QIValidationError(message, field_errors={field_name(index): message})
            row["pdsa_cycle"] = cycles[cycle_id]
    return rows


_SERVICE_ROW = re.compile(r"^rows\[(\d+)\]$")


def _points_named(exc: QIValidationError) -> QIValidationError:
    """The service's ``rows[N]`` (counted from 1) as ``points.<N-1>``, the index in the posted array."""
    fields = {}
    for name, message in exc.field_errors.items():
        match = _SERVICE_ROW.match(name)
        fields[f"points.{int(match[1]) - 1}" if match else name] = message
    return QIValidationError(exc.message, field_errors=fields)


def _single_point(exc: QIValidationError) -> QIValidationError:
    """A one-row error without the "Row 1:" of a bulk import: the request was one point."""
    row_message = exc.field_errors.get("rows[1]")
    if row_message is None:
        return exc
    return QIValidationError(f"{row_message[:1].upper()}{row_message[1:].rstrip('.')}.")


# --- filters ---------------------------------------------------------------------------------


class MeasureFilter(SyncFilterSet):
    project = django_filters.NumberFilter(field_name="project_id")

    class Meta:
        model = Measure
        fields = ["project"]


class DataPointFilter(SyncFilterSet):
    measure = django_filters.NumberFilter(field_name="measure_id")
    project = django_filters.NumberFilter(field_name="measure__project_id")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", help_text="On or after this date.")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", help_text="On or before this date.")

    class Meta:
        model = DataPoint
        fields = ["measure", "project", "date_after", "date_before"]


# --- views -----------------------------------------------------------------------------------


BULK_EXAMPLE = OpenApiExample(
    "Weekly percentages",
    request_only=True,
    value={
        "points": [
            {"date": "2026-01-05", "numerator": 11, "denominator": 20},
            {"date": "2026-01-12", "numerator": 14, "denominator": 21, "note": "New triage nurse started"},
            {"date": "2026-01-19", "numerator": 17, "denominator": 19, "pdsa_cycle": 4},
        ]
    },
)
BULK_ERROR_EXAMPLE = OpenApiExample(
    "A bad row: nothing is saved",
    response_only=True,
    status_codes=["400"],
    value={
        "status": 400,
        "code": "invalid",
        "detail": "Row 4: the numerator cannot be larger than the denominator.",
        "fields": {"points.3": ["the numerator cannot be larger than the denominator"]},
    },
)


@extend_schema_view(
    list=extend_schema(summary="List measures of projects I can see"),
    retrieve=extend_schema(summary="Read a measure"),
    create=extend_schema(
        summary="Define a measure (team, open project)",
        request=MeasureCreateSerializer,
        responses={201: MeasureSerializer},
        examples=[
            OpenApiExample(
                "New measure",
                request_only=True,
                value={
                    "project": 12,
                    "name": "ECG within 10 minutes",
                    "operational_definition": "Chest pain attendances with an ECG within 10 minutes / all, weekly.",
                    "better": "up",
                    "unit": "%",
                    "target": "90",
                },
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Edit a measure's definition (team, open project)",
        request=MeasureUpdateSerializer,
        responses={200: MeasureSerializer},
    ),
)
@extend_schema(tags=["measures"])
class MeasureViewSet(
    ServiceWriteMixin,
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Measure.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = MeasureSerializer
    filterset_class = MeasureFilter
    ordering_fields = ["name", "updated_at"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return measures_for(self.request.user)

    def create(self, request):
        measure = services.measure_create(actor=request.user, **self._input(MeasureCreateSerializer))
        return conditional_response(request, MeasureSerializer(measure).data, http_status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        measure = self.get_object()
        require_current(request, MeasureSerializer(measure).data)
        measure = services.measure_update(actor=request.user, measure=measure, **self._input(MeasureUpdateSerializer))
        return conditional_response(request, MeasureSerializer(measure).data)

    @extend_schema(
        summary="Add many data points to a measure, all or none (team, open project)",
        description="Up to 1000 rows, each a `value` or a `numerator` and `denominator`, one per date. "
        "If any row is wrong nothing is saved; `fields` names it as `points.<index>` (0-based index in "
        "`points`, with `.<field>` when one field is wrong), and `detail` counts rows from 1.",
        request=DataPointBulkSerializer,
        responses={
            201: DataPointBulkResultSerializer,
            400: OpenApiResponse(
                charts.ErrorSerializer, description="A bad row: nothing saved.", examples=[BULK_ERROR_EXAMPLE]
            ),
        },
        examples=[BULK_EXAMPLE],
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="data-points", filter_backends=[])
    def data_points(self, request, pk=None):
        measure = self.get_object()  # before reading the input: an outsider gets 404, not a field error
        rows = self._input(DataPointBulkSerializer)["points"]
        rows = _with_pdsa_cycles([dict(row) for row in rows], measure, lambda index: f"points.{index}.pdsa_cycle")
        try:
            created = services.data_points_add(actor=request.user, measure=measure, rows=rows)
        except QIValidationError as exc:
            raise _points_named(exc) from None
        body = DataPointBulkResultSerializer({"results": created}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Import data points from a CSV file, all or none (team, open project)",
        description=charts.IMPORT_DESCRIPTION,
        request={"multipart/form-data": charts.ImportFileSerializer, "text/csv": OpenApiTypes.STR},
        responses={
            201: DataPointImportResultSerializer,
            400: OpenApiResponse(
                charts.ErrorSerializer, description="A bad file: nothing saved.", examples=[charts.IMPORT_ERROR_EXAMPLE]
            ),
        },
        examples=[charts.IMPORT_EXAMPLE],
        filters=False,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, charts.CSVParser],
        filter_backends=[],
    )
    def import_csv(self, request, pk=None):
        measure = self.get_object()  # first: an outsider gets 404 whatever they send
        if int(request.META.get("CONTENT_LENGTH") or 0) > csv_import.MAX_UPLOAD_BYTES:
            # Refused before the body is read: nothing of a huge upload reaches memory or disk.
            raise QIValidationError(csv_import.TOO_LARGE, field_errors={"file": csv_import.TOO_LARGE})
        created = services.data_points_import(
            actor=request.user, measure=measure, csv_text=charts.uploaded_csv(request)
        )
        body = DataPointImportResultSerializer({"created": len(created), "results": created}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="A measure's run chart or SPC chart: centre, limits, signals and a verdict",
        description=charts.CHART_DESCRIPTION,
        parameters=charts.CHART_PARAMETERS,
        responses={
            200: OpenApiResponse(
                charts.MeasureChartSerializer,
                description="The analysis (see qi/charts.py), with the measure's unit and PDSA annotations.",
                examples=[OpenApiExample("A P chart with a shift", value=charts.chart_example(), response_only=True)],
            ),
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
            400: OpenApiResponse(
                charts.ErrorSerializer,
                description="A bad parameter, named in fields.",
                examples=[charts.CHART_ERROR_EXAMPLE],
            ),
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="chart", filter_backends=[], pagination_class=None)
    def chart(self, request, pk=None):
        measure = self.get_object()
        try:
            chart = measure_chart(measure, **chart_options(request.query_params))
        except ChartError as exc:
            raise charts.chart_problem(exc, measure) from None
        return conditional_response(request, chart.as_dict())


@extend_schema_view(
    list=extend_schema(
        summary="List data points of projects I can see",
        description="For a chart: `measure=<id>&ordering=date&page_size=100`.",
    ),
    retrieve=extend_schema(summary="Read a data point"),
    create=extend_schema(
        summary="Add one data point (team, open project)",
        description="For many at once, POST /measures/{id}/data-points/.",
        request=DataPointCreateSerializer,
        responses={201: DataPointSerializer},
        examples=[
            OpenApiExample(
                "One week",
                request_only=True,
                value={"measure": 7, "date": "2026-01-26", "numerator": 18, "denominator": 20},
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Correct a data point (team, open project)",
        description="To switch from a value to a fraction, send `value: null` with the numerator and denominator.",
        request=DataPointUpdateSerializer,
        responses={200: DataPointSerializer},
    ),
    destroy=extend_schema(summary="Delete a data point (team, open project)", responses={204: None}),
)
@extend_schema(tags=["measures"])
class DataPointViewSet(
    ServiceWriteMixin,
    ConditionalRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = DataPoint.objects.none()  # for the schema; requests use get_queryset()
    serializer_class = DataPointSerializer
    filterset_class = DataPointFilter
    ordering_fields = ["date", "updated_at"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return data_points_for(self.request.user)

    def create(self, request):
        row = self._input(DataPointCreateSerializer)
        measure = row.pop("measure")
        (row,) = _with_pdsa_cycles([row], measure, lambda index: "pdsa_cycle")
        try:
            (point,) = services.data_points_add(actor=request.user, measure=measure, rows=[row])
        except QIValidationError as exc:
            raise _single_point(exc) from None
        return conditional_response(request, DataPointSerializer(point).data, http_status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        point = self.get_object()
        require_current(request, DataPointSerializer(point).data)
        changes = self._input(DataPointUpdateSerializer)
        if "pdsa_cycle" in changes:
            (changes,) = _with_pdsa_cycles([changes], point.measure, lambda index: "pdsa_cycle")
        point = services.data_point_update(actor=request.user, point=point, **changes)
        return conditional_response(request, DataPointSerializer(point).data)

    def destroy(self, request, pk=None):
        services.data_point_delete(actor=request.user, point=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("measures", MeasureViewSet, basename="measure")
    router.register("data-points", DataPointViewSet, basename="data-point")
