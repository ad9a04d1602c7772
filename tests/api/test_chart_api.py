"""A measure's chart and CSV import over the API: each chart kind, its parameters and their errors, scope,
the query count, and an import by multipart form or text/csv body that saves all rows or none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qi import csv_import, services
from qi.models import DataPoint, Measure

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 1, 5)
# Percentages of ECGs within 10 minutes: 12 steady weeks, then a change that works.
NUMERATORS = [11, 12, 10, 13, 11, 12, 11, 12, 10, 13, 11, 12, 16, 17, 16, 18, 17, 18, 16, 17]
COUNTS = [4, 6, 5, 3, 5, 4, 6, 5, 4, 5, 3, 4, 9, 10, 8, 9, 11, 9, 10, 9]


def week(n: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=n)


def fractions_csv(numerators=NUMERATORS) -> str:
    rows = [f"{week(n)},{numerator},20" for n, numerator in enumerate(numerators)]
    return "\n".join(["date,numerator,denominator", *rows]) + "\n"


def values_csv(values=COUNTS) -> str:
    return "\n".join(["date,value", *(f"{week(n)},{value}" for n, value in enumerate(values))]) + "\n"


def new_measure(project, actor, name: str, **fields) -> Measure:
    return services.measure_create(
        actor=actor,
        project=project,
        name=name,
        operational_definition="Counted weekly from the ED system.",
        **{"better": "up", **fields},
    )


@pytest.fixture
def percentages(active_project, trust) -> Measure:
    measure = new_measure(active_project, trust.alice, "ECG within 10 minutes", unit="%", target=Decimal("90"))
    services.data_points_import(actor=trust.alice, measure=measure, csv_text=fractions_csv())
    return measure


@pytest.fixture
def counts(active_project, trust) -> Measure:
    measure = new_measure(active_project, trust.alice, "Missed ECGs", better="down", unit="patients")
    services.data_points_import(actor=trust.alice, measure=measure, csv_text=values_csv())
    return measure


@pytest.fixture
def empty(active_project, trust) -> Measure:
    return new_measure(active_project, trust.alice, "Door to ECG", better="down", unit="minutes")


def chart_url(measure: Measure) -> str:
    return f"/api/v1/measures/{measure.pk}/chart/"


def import_url(measure: Measure) -> str:
    return f"/api/v1/measures/{measure.pk}/import/"


def upload(content: str | bytes, name: str = "ecg.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content, "text/csv")


# --- the chart -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure_name", "kind", "centre"),
    [("percentages", "p", 0.6825), ("percentages", "run", 0.625), ("counts", "xmr", 6.45), ("counts", "c", 6.45)],
)
def test_each_kind_of_chart(request, trust, client_for, measure_name, kind, centre):
    measure = request.getfixturevalue(measure_name)
    response = client_for(trust.bob).get(chart_url(measure), {"kind": kind})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["measure"], body["kind"], body["better"], len(body["points"])) == (
        measure.pk,
        kind,
        measure.better,
        20,
    )
    assert body["percent"] is (measure_name == "percentages")
    assert body["phases"][0]["centre"] == pytest.approx(centre)
    assert body["verdict"] and body["signals"]
    assert response.headers["ETag"].startswith('W/"')


def test_the_default_kind_follows_the_data_and_the_target_is_a_proportion(percentages, counts, trust, client_for):
    alice = client_for(trust.alice)
    p_chart = alice.get(chart_url(percentages)).json()
    assert (p_chart["kind"], p_chart["target"], p_chart["unit"]) == ("p", 0.9, "%")
    assert p_chart["points"][0]["value"] == 0.55
    assert p_chart["assurance"] == "may_or_may_not"
    assert alice.get(chart_url(counts)).json()["kind"] == "xmr"


def test_the_supervisor_and_qi_lead_see_the_chart(percentages, trust, client_for):
    for person in (trust.sam, trust.quinn, trust.olga):
        assert client_for(person).get(chart_url(percentages)).status_code == 200


def test_outsiders_get_404(percentages, trust, client_for):
    for person in (trust.charlie, trust.dora, trust.ursula):
        client = client_for(person)
        assert client.get(chart_url(percentages)).status_code == 404
        response = client.post(import_url(percentages), fractions_csv(), content_type="text/csv")
        assert response.status_code == 404
    assert percentages.data_points.count() == 20


def test_if_none_match_gives_304_until_the_data_change(percentages, trust, client_for):
    alice = client_for(trust.alice)
    etag = alice.get(chart_url(percentages)).headers["ETag"]
    assert alice.get(chart_url(percentages), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert alice.get(chart_url(percentages), {"kind": "run"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    services.data_points_add(
        actor=trust.alice, measure=percentages, rows=[{"date": week(20), "numerator": 19, "denominator": 20}]
    )
    assert alice.get(chart_url(percentages), HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_measure_without_data_has_a_chart_that_says_so(empty, trust, client_for):
    body = client_for(trust.alice).get(chart_url(empty)).json()
    assert (body["points"], body["verdict"]) == ([], "No data yet: the chart starts with the first data point.")


# --- parameters ----------------------------------------------------------------------------------------


def test_freeze_phases_and_rule_lengths(percentages, trust, client_for):
    alice = client_for(trust.alice)
    frozen = alice.get(chart_url(percentages), {"freeze": "12"}).json()
    assert frozen["settings"]["freeze"] == 12
    assert [point["baseline"] for point in frozen["points"]] == [True] * 12 + [False] * 8
    phased = alice.get(chart_url(percentages), {"phases": f"{week(12)}"}).json()
    assert [(phase["first_point"], phase["last_point"]) for phase in phased["phases"]] == [(0, 11), (12, 19)]
    short = alice.get(chart_url(percentages), {"run_length": "5", "trend_length": "6"}).json()
    assert (short["settings"]["run_length"], short["settings"]["trend_length"]) == (5, 6)


def test_parameters_override_the_stored_settings_and_can_switch_them_off(percentages, trust, client_for):
    services.measure_update(
        actor=trust.alice, measure=percentages, chart_kind="run", baseline_points=8, phase_starts=[str(week(12))]
    )
    alice = client_for(trust.alice)
    stored = alice.get(chart_url(percentages)).json()
    assert (stored["kind"], len(stored["phases"])) == ("run", 2)
    assert stored["settings"]["freeze"] == 8
    plain = alice.get(chart_url(percentages), {"kind": "p", "freeze": "none", "phases": ""}).json()
    assert (plain["kind"], len(plain["phases"]), plain["settings"]["freeze"]) == ("p", 1, None)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"kind": "bar"}, "kind", "The chart kind must be one of run, xmr, p, c."),
        ({"freeze": "1"}, "freeze", "Give a number of points, 2 or more, or none."),
        ({"freeze": "twelve"}, "freeze", "Give a number of points, 2 or more, or none."),
        ({"freeze": "21"}, "freeze", "The baseline must be between 2 points and the 20 points of the first phase."),
        ({"phases": "2026-13-01"}, "phases", "2026-13-01 is not a date (YYYY-MM-DD)."),
        ({"phases": ",".join(str(week(n)) for n in range(51))}, "phases", "At most 50 phases."),
        ({"run_length": "4"}, "run_length", "Must be a whole number of points from 5 to 12."),
        ({"trend_length": "13"}, "trend_length", "Must be a whole number of points from 5 to 12."),
        ({"run_length": "seven"}, "run_length", "Must be a whole number of points from 5 to 12."),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(percentages, trust, client_for, params, field, message):
    response = client_for(trust.alice).get(chart_url(percentages), params)
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"], body["fields"]) == (400, "invalid", {field: [message]})
    assert body["detail"].startswith(f"{field}: ")


def test_data_that_do_not_fit_the_kind_name_the_data_point(counts, percentages, trust, client_for):
    alice = client_for(trust.alice)
    body = alice.get(chart_url(counts), {"kind": "p"}).json()
    assert body["detail"] == (
        "The data point of 5 January 2026: a P chart needs a numerator and a denominator, not a single value."
    )
    assert body["fields"] == {"kind": [body["detail"]]}
    assert alice.get(chart_url(percentages), {"kind": "c"}).status_code == 400


def test_the_chart_runs_the_same_queries_for_5_and_100_points(empty, trust, client_for, django_assert_num_queries):
    alice = client_for(trust.alice)
    services.data_points_import(actor=trust.alice, measure=empty, csv_text=values_csv(list(range(5))))
    with CaptureQueriesContext(connection) as five:
        assert len(alice.get(chart_url(empty)).json()["points"]) == 5
    rows = [f"{week(n)},{n}" for n in range(5, 100)]
    services.data_points_import(actor=trust.alice, measure=empty, csv_text="date,value\n" + "\n".join(rows))
    with django_assert_num_queries(len(five)):
        assert len(alice.get(chart_url(empty)).json()["points"]) == 100


# --- import --------------------------------------------------------------------------------------------


def test_the_team_imports_a_multipart_file(empty, trust, client_for):
    response = client_for(trust.bob).post(
        import_url(empty),
        {"file": upload("Date,Value,Note\n12/01/2026,19.5,Locum week\n2026-01-05,22,\n")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 2
    assert [(r["date"], r["value"], r["note"]) for r in body["results"]] == [
        ("2026-01-05", "22", ""),
        ("2026-01-12", "19.5", "Locum week"),
    ]
    assert all(r["measure"] == empty.pk and r["project"] == empty.project_id for r in body["results"])
    assert empty.data_points.count() == 2


def test_the_team_imports_a_text_csv_body(empty, trust, client_for):
    response = client_for(trust.alice).post(
        import_url(empty), ("\ufeff" + fractions_csv()).encode(), content_type="text/csv; charset=utf-8"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 20
    assert empty.data_points.filter(numerator__isnull=False).count() == 20


def test_a_bad_file_saves_nothing_and_names_the_line(empty, trust, client_for):
    content = fractions_csv().replace(f"{week(5)},12,20", "31/02/2026,12,20")  # line 7
    for response in (
        client_for(trust.alice).post(import_url(empty), content, content_type="text/csv"),
        client_for(trust.alice).post(import_url(empty), {"file": upload(content)}, format="multipart"),
    ):
        assert response.status_code == 400
        assert response.json() == {
            "status": 400,
            "code": "invalid",
            "detail": "Line 7: 31/02/2026 is not a date (use YYYY-MM-DD or DD/MM/YYYY).",
            "fields": {"line.7": ["Line 7: 31/02/2026 is not a date (use YYYY-MM-DD or DD/MM/YYYY)."]},
        }
    assert not DataPoint.objects.exists()


def test_a_date_already_there_is_named_by_its_line(percentages, trust, client_for):
    response = client_for(trust.alice).post(
        import_url(percentages), f"date,numerator,denominator\n{week(30)},1,2\n{week(3)},1,2\n", content_type="text/csv"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "line.3": ["Line 3: 2026-01-26 already has a data point; edit or delete it first."]
    }
    assert percentages.data_points.count() == 20


@pytest.mark.parametrize(
    ("send", "field", "message"),
    [
        (lambda c, url: c.post(url, {}, format="multipart"), "file", "Attach the CSV file as the form field file"),
        (lambda c, url: c.post(url, b"", content_type="text/csv"), "file", "The file is empty"),
        (
            lambda c, url: c.post(url, "date,value\n2026-01-05,1\n".encode("utf-16"), content_type="text/csv"),
            "file",
            "The file is not UTF-8 text",
        ),
        (
            lambda c, url: c.post(url, "date,value\n" + "1" * (1024 * 1024), content_type="text/csv"),
            "file",
            "The file is larger than 1 MB",
        ),
    ],
)
def test_a_missing_or_unreadable_file_is_named_file(empty, trust, client_for, send, field, message):
    response = send(client_for(trust.alice), import_url(empty))
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert response.json()["fields"][field][0].startswith(message)


def test_a_json_body_is_not_a_csv(empty, trust, client_for):
    response = client_for(trust.alice).post(import_url(empty), {"points": []}, format="json")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_the_supervisor_and_qi_lead_see_but_may_not_import(empty, trust, client_for):
    for person in (trust.sam, trust.quinn):
        response = client_for(person).post(import_url(empty), values_csv(), content_type="text/csv")
        assert response.status_code == 403
        assert response.json()["detail"] == "Only the project team can import data."
    assert not empty.data_points.exists()


def test_an_import_runs_the_same_queries_for_5_and_100_rows(active_project, trust, client_for):
    alice = client_for(trust.alice)
    counted = []
    for rows in (5, 100):
        measure = new_measure(active_project, trust.alice, f"Measure of {rows}")
        with CaptureQueriesContext(connection) as queries:
            response = alice.post(import_url(measure), values_csv(list(range(rows))), content_type="text/csv")
        assert response.json()["created"] == rows
        counted.append(len(queries))
    assert counted[0] == counted[1]


def test_an_upload_over_the_limit_is_refused_before_it_is_read(empty, trust, client_for):
    big = SimpleUploadedFile("big.csv", b"date,value\n" + b"1" * csv_import.MAX_UPLOAD_BYTES)
    response = client_for(trust.alice).post(import_url(empty), {"file": big}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"] == {"file": [csv_import.TOO_LARGE]}
    assert not empty.data_points.exists()
