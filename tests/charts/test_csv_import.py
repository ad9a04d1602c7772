"""Data points from a CSV file: the two layouts, every problem named by its line, and the all-or-none import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from qi import csv_import, services
from qi.charts import Observation
from qi.csv_import import parse_csv
from qi.errors import QINotFoundError, QIPermissionError, QITransitionError, QIValidationError
from qi.models import AuditEvent, DataPoint

MONDAY = dt.date(2026, 1, 5)
NHS_NUMBER = "943 476 5919"


def weekly_csv(count: int, *, start: dt.date = MONDAY, header: str = "date,numerator,denominator") -> str:
    rows = [f"{start + dt.timedelta(weeks=week)},{10 + week % 7},20" for week in range(count)]
    return "\n".join([header, *rows]) + "\n"


def problem(content: str | bytes) -> QIValidationError:
    with pytest.raises(QIValidationError) as caught:
        parse_csv(content)
    return caught.value


# --- what is accepted ------------------------------------------------------------------------------


def test_it_reads_values_with_iso_and_uk_dates_in_any_order():
    parsed = parse_csv(" Date , VALUE \n2026-01-19,17\n05/01/2026,22\n12/1/2026,19.5\n")
    assert parsed.rows == [
        {"date": dt.date(2026, 1, 5), "value": Decimal("22")},
        {"date": dt.date(2026, 1, 12), "value": Decimal("19.5")},
        {"date": dt.date(2026, 1, 19), "value": Decimal("17")},
    ]
    assert parsed.lines == [3, 4, 2]  # sorted by date, each row keeps its line
    assert parsed.fractions is False


def test_it_reads_fractions_with_notes_a_byte_order_mark_and_blank_lines():
    content = '\ufeffdate,numerator,denominator,note\r\n2026-01-05,14,20,"Triage nurse, new"\r\n\r\n,,,\r\n'
    parsed = parse_csv(content.encode("utf-8"))
    assert parsed.rows == [{"date": MONDAY, "numerator": 14, "denominator": 20, "note": "Triage nurse, new"}]
    assert parsed.lines == [2]
    assert parsed.fractions is True


def test_a_header_with_both_layouts_lets_every_row_choose_the_same():
    parsed = parse_csv("date,value,numerator,denominator\n2026-01-05,,3,4\n2026-01-12,,4,4\n")
    assert [row["numerator"] for row in parsed.rows] == [3, 4]


def test_observations_are_the_chart_input_in_date_order():
    parsed = parse_csv("date,value\n2026-01-12,2.5\n2026-01-05,3\n")
    assert parsed.observations() == [Observation(MONDAY, value=3.0), Observation(dt.date(2026, 1, 12), value=2.5)]
    fractions = parse_csv("date,numerator,denominator\n2026-01-05,3,4\n")
    assert fractions.observations() == [Observation(MONDAY, numerator=3, denominator=4)]


def test_5000_rows_are_accepted():
    assert len(parse_csv(weekly_csv(5000)).rows) == 5000


# --- what is refused, naming the line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "date,value\n2026-01-05,1\n31/02/2026,2\n",
            "Line 3: 31/02/2026 is not a date (use YYYY-MM-DD or DD/MM/YYYY).",
        ),
        ("date,value\n5 Jan 2026,1\n", "Line 2: 5 Jan 2026 is not a date (use YYYY-MM-DD or DD/MM/YYYY)."),
        ("date,value\n,1\n", "Line 2: the date is missing."),
        ('date,value\n2026-01-05,"1,234"\n', "Line 2: the value 1,234 has a thousands separator: write it as 1234."),
        ("date,value\n2026-01-05,1,234\n", "Line 2: 3 cells but the header names 2 columns"),
        ("date,value\n2026-01-05,85%\n", "Line 2: the value 85% is not a number: leave out the % sign."),
        ('date,value\n2026-01-05,"2,5"\n', "Line 2: the value 2,5 is not a number: use a point, not a comma"),
        ("date,value\n2026-01-05,abc\n", "Line 2: the value abc is not a number."),
        ("date,value\n2026-01-05,1e3\n", "Line 2: the value 1e3 is not a number."),
        ("date,value\n2026-01-05,1.23456\n", "Line 2: the value 1.23456 has more than 4 decimal places."),
        ("date,value\n2026-01-05,12345678901\n", "Line 2: the value 12345678901 is too large."),
        ("date,value\n2026-01-05,\n", "Line 2: the value is missing."),
        ("date,numerator,denominator\n2026-01-05,2.5,4\n", "Line 2: the numerator 2.5 is not a whole number"),
        ("date,numerator,denominator\n2026-01-05,-1,4\n", "Line 2: the numerator -1 is not a whole number of 0"),
        (
            "date,numerator,denominator\n2026-01-05,5,4\n",
            "Line 2: the numerator (5) is larger than the denominator (4).",
        ),
        ("date,numerator,denominator\n2026-01-05,0,0\n", "Line 2: the denominator must be more than 0."),
        ("date,numerator,denominator\n2026-01-05,3,\n", "Line 2: the denominator is missing."),
        ("date,value,numerator,denominator\n2026-01-05,1,3,4\n", "Line 2: give a value or a numerator and denominator"),
        (
            "date,value,numerator,denominator\n2026-01-05,,,\n",
            "Line 2: give a value, or a numerator and a denominator.",
        ),
        (
            "date,value,numerator,denominator\n2026-01-05,1,,\n2026-01-12,,3,4\n",
            "Line 3: a numerator and denominator, but line 2 gives a value; use one layout for the whole file.",
        ),
        ("date,value\n2026-01-05,1\n\n05/01/2026,2\n", "Line 4: 2026-01-05 is also on line 2: one row per date."),
        ("date,value,note\n2026-01-05,1," + "x" * 501 + "\n", "Line 2: the note is longer than 500 characters."),
        ("date,patients\n2026-01-05,1\n", 'Line 1: unknown column "patients"; use date,value or date,numerator'),
        ("value\n1\n", "Line 1: there is no date column"),
        ("date,note\n2026-01-05,x\n", "Line 1: there is no value column, nor numerator and denominator columns"),
        ("date,numerator\n2026-01-05,1\n", "Line 1: there is a numerator column but no denominator column."),
        ("date,value,Value\n", "Line 1: the column value appears twice."),
        ("date,,value\n", "Line 1: column 2 has no name"),
        ("date;value\n2026-01-05;1\n", "Line 1: separate the columns with commas"),
        ('date,value,note\n2026-01-05,1,"never closed\n', "Line 2: the file cannot be read as CSV"),
    ],
)
def test_a_bad_line_is_named_with_the_reason(content, message):
    error = problem(content)
    assert error.message.startswith(message)
    line = message.split(":")[0].removeprefix("Line ")
    assert list(error.field_errors) == [f"line.{line}"]
    assert error.field_errors[f"line.{line}"].startswith(message)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty: it needs a header row"),
        (b"\n \n", "The file is empty"),
        ("date,value\n\n", "The file has a header but no data rows."),
        (weekly_csv(5001), "The file has more than 5,000 rows: split it into smaller files."),
        ("date,value\n" + "x" * csv_import.MAX_BYTES, "The file is larger than 1 MB: split it into smaller files."),
        ("date,value\n2026-01-05,1,café\n".encode("latin-1"), "The file is not UTF-8 text"),
        ("date,value\n2026-01-05,1\n".encode("utf-16"), "The file is not UTF-8 text"),
        (b"PK\x03\x04rest of a workbook", "This is a spreadsheet workbook, not a CSV file"),
        ("date,value\n2026-01-05,1\x00\n", "The file is not text"),
    ],
)
def test_a_bad_file_is_named_as_a_whole(content, message):
    error = problem(content)
    assert error.message.startswith(message)
    assert list(error.field_errors) == ["file"]


def test_every_bad_line_is_named_and_detail_counts_them():
    error = problem("date,value\n2026-01-05,1\nsoon,2\n2026-01-19,x\n2026-01-26,4\n2026-02-02,\n")
    assert error.field_errors == {
        "line.3": "Line 3: soon is not a date (use YYYY-MM-DD or DD/MM/YYYY).",
        "line.4": "Line 4: the value x is not a number.",
        "line.6": "Line 6: the value is missing.",
    }
    assert error.message == "Line 3: soon is not a date (use YYYY-MM-DD or DD/MM/YYYY). 2 more lines have problems too."


def test_reading_stops_after_20_bad_lines():
    error = problem("date,value\n" + "never,1\n" * 30)
    assert len(error.field_errors) == 20
    assert error.message.endswith("19 more lines have problems too (reading stopped at line 21).")


# --- the import: all or none --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_team_imports_a_file_and_it_is_audited(measure, trust):
    created = services.data_points_import(actor=trust.bob, measure=measure, csv_text=weekly_csv(12).encode())
    assert [point.date for point in created] == [MONDAY + dt.timedelta(weeks=week) for week in range(12)]
    assert measure.data_points.count() == 12
    event = AuditEvent.objects.get(verb="data_points.added")
    assert (event.actor, event.after["count"], event.after["from"]) == (trust.bob, 12, "2026-01-05")


@pytest.mark.django_db
def test_a_500_row_file_with_one_bad_row_saves_none_and_names_its_line(measure, trust):
    lines = weekly_csv(500).splitlines()
    lines[250] = lines[250].replace(",20", ",2")  # the numerator is now above the denominator, on line 251
    with pytest.raises(QIValidationError) as caught:
        services.data_points_import(actor=trust.alice, measure=measure, csv_text="\n".join(lines))
    assert caught.value.message.startswith("Line 251: the numerator (")
    assert list(caught.value.field_errors) == ["line.251"]
    assert not DataPoint.objects.exists()
    assert not AuditEvent.objects.filter(verb="data_points.added").exists()


@pytest.mark.django_db
def test_a_date_that_already_has_a_point_is_named_by_its_line(measure, trust):
    services.data_points_add(
        actor=trust.alice, measure=measure, rows=[{"date": "2026-01-12", "numerator": 1, "denominator": 2}]
    )
    with pytest.raises(QIValidationError) as caught:
        services.data_points_import(actor=trust.alice, measure=measure, csv_text=weekly_csv(3))
    assert caught.value.message == "Line 3: 2026-01-12 already has a data point; edit or delete it first."
    assert caught.value.field_errors == {"line.3": caught.value.message}
    assert measure.data_points.count() == 1


@pytest.mark.django_db
def test_an_error_found_when_saving_names_the_line_not_the_row(measure, trust):
    content = f"date,numerator,denominator,note\n2026-01-12,1,2,\n2026-01-05,1,2,NHS {NHS_NUMBER}\n"
    with pytest.raises(QIValidationError) as caught:
        services.data_points_import(actor=trust.alice, measure=measure, csv_text=content)
    assert list(caught.value.field_errors) == ["line.3"]
    assert caught.value.message.startswith("Line 3: note: Note contains")
    assert NHS_NUMBER not in caught.value.message  # the guard shows only the last digits
    assert not DataPoint.objects.exists()


@pytest.mark.django_db
def test_values_cannot_join_a_measure_of_fractions(measure, trust):
    services.data_points_add(
        actor=trust.alice, measure=measure, rows=[{"date": "2026-01-05", "numerator": 1, "denominator": 2}]
    )
    with pytest.raises(QIValidationError) as caught:
        services.data_points_import(actor=trust.alice, measure=measure, csv_text="date,value\n2026-02-02,4\n")
    assert caught.value.field_errors == {
        "line.2": "Line 2: this measure's data points are numerators and denominators, not values."
    }
    assert measure.data_points.count() == 1


@pytest.mark.django_db
def test_who_may_import(measure, trust, active_project):
    content = weekly_csv(2)
    with pytest.raises(QIPermissionError):
        services.data_points_import(actor=trust.sam, measure=measure, csv_text=content)  # the supervisor
    with pytest.raises(QIPermissionError):
        services.data_points_import(actor=trust.quinn, measure=measure, csv_text=content)  # the QI lead
    with pytest.raises(QINotFoundError):
        services.data_points_import(actor=trust.charlie, measure=measure, csv_text=content)
    services.project_abandon(actor=trust.alice, project=active_project, reason="The ECG machine was replaced.")
    with pytest.raises(QITransitionError):
        services.data_points_import(actor=trust.alice, measure=measure, csv_text=content)
    assert not DataPoint.objects.exists()
