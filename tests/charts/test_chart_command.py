"""``manage.py chart``: the report and --json for a CSV file, clear errors, no database, and the API's answer.

Tests without the django_db mark could not touch the database if the command tried: pytest-django forbids it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from qi import services
from tests.api.conftest import token_client

MONDAY = dt.date(2026, 1, 5)
NUMERATORS = [11, 12, 10, 13, 11, 12, 11, 12, 10, 13, 11, 12, 16, 17, 16, 18, 17, 18, 16, 17]
MINUTES = [22, 24, 21, 25, 23, 22, 24, 21, 23, 25, 22, 24, 17, 15, 16, 14, 15, 16, 14, 15]
API_ONLY = ("measure", "unit", "percent", "annotations")


def week(n: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=n)


def fractions_csv() -> str:
    # Dates in both formats and out of order: the chart still reads them in date order.
    rows = [f"{week(n):%d/%m/%Y},{numerator},20" for n, numerator in enumerate(NUMERATORS)]
    return "\n".join(["date,numerator,denominator", *reversed(rows)]) + "\n"


def values_csv() -> str:
    return "\n".join(["Date,Value,Note", *(f"{week(n)},{value}," for n, value in enumerate(MINUTES))]) + "\n"


@pytest.fixture
def csv_file(tmp_path):
    def write(content: str | bytes, name: str = "data.csv") -> str:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    return write


def chart(*args: str) -> str:
    out = StringIO()
    call_command("chart", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_verdict_signals_phases_and_points(csv_file):
    path = csv_file(fractions_csv())
    report = chart(path, "--kind", "p", "--freeze", "12", "--better", "up", "--target", "90")
    lines = report.splitlines()
    assert lines[0] == "P chart of 20 points, 5 January 2026 to 18 May 2026 (better: up, target: 90.0%)"
    assert lines[1].startswith("Verdict: Since 23 March 2026, 9 points in a row above the centre line")
    assert lines[2].startswith("Assurance: The target of 90.0% lies ")
    assert "  1. 5 January 2026 to 18 May 2026: 20 points, centre 57.5%, from its first 12 points" in lines
    assert any(line.startswith("  - shift (improvement): 9 points in a row above") for line in lines)
    assert lines[-1].split() == ["2026-05-18", "85.0%", "57.5%", "24.3%", "90.7%", "shift,", "two_of_three"]


def test_a_run_chart_has_a_median_and_no_limits(csv_file):
    report = chart(csv_file(values_csv()), "--kind", "run")
    assert report.startswith("Run chart of 20 points")
    assert "median 21.5" in report
    assert report.splitlines()[-1].split()[:5] == ["2026-05-18", "15", "21.5", "-", "-"]


def test_json_prints_the_analysis(csv_file):
    analysis = json.loads(chart(csv_file(values_csv()), "--json", "--better", "down"))
    assert (analysis["kind"], analysis["better"], len(analysis["points"])) == ("xmr", "down", 20)
    assert analysis["points"][0]["date"] == "2026-01-05"
    assert analysis["signals"][-1]["meaning"] == "improvement"  # lower is better, and the minutes fell


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("date,value\n2026-01-05,1\n31/02/2026,2\n", (), "Line 3: 31/02/2026 is not a date"),
        ("date,value\nsoon,1\nlater,2\n", (), "Line 2: soon is not a date (use YYYY-MM-DD or DD/MM/YYYY). 1 more line"),
        ("", (), "The file is empty"),
        ("date,value\n2026-01-05,1.5\n", ("--kind", "c"), "Line 2 (2026-01-05): a C chart counts events"),
        ("date,value\n2026-01-05,1\n", ("--kind", "p"), "Line 2 (2026-01-05): a P chart needs a numerator"),
        (
            "date,value\n2026-01-05,1\n2026-01-12,2\n",
            ("--freeze", "1"),
            "--freeze: give a number of points, 2 or more.",
        ),
        ("date,value\n2026-01-05,1\n2026-01-12,2\n", ("--freeze", "3"), "--freeze: the baseline must be between 2"),
        ("date,value\n2026-01-05,1\n", ("--phases", "2026-02-30"), "--phases: 2026-02-30 is not a date"),
        ("date,value\n2026-01-05,1\n", ("--target", "lots"), "--target: lots is not a number."),
        ("date,value\n2026-01-05,1\n", ("--run-length", "4"), "--run-length: must be between 5 and 12 points."),
    ],
)
def test_a_bad_file_or_option_is_a_clear_error(csv_file, content, args, message):
    with pytest.raises(CommandError) as caught:
        chart(csv_file(content), *args)
    assert str(caught.value).startswith(message)


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match=r"Cannot read /no/such/file.csv: No such file or directory."):
        chart("/no/such/file.csv")


def test_it_needs_no_database_and_exits_non_zero_on_a_bad_file(csv_file):
    environment = {"DATABASE_URL": "postgres://nobody@127.0.0.1:9/nowhere", "PATH": "/usr/bin:/bin"}
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    good = subprocess.run(
        [sys.executable, manage, "chart", csv_file(values_csv())], capture_output=True, text=True, env=environment
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("XmR chart of 20 points")
    bad = subprocess.run(
        [sys.executable, manage, "chart", csv_file("date,value\n2026-01-05,x\n")],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert bad.returncode == 1
    assert "Line 2: the value x is not a number." in bad.stderr


# --- the same answer as the API ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "better", "target", "kind", "freeze", "phases"),
    [
        (fractions_csv(), "up", "90", "p", "12", ""),
        (fractions_csv(), "up", "75", "xmr", None, ""),
        (fractions_csv(), "up", None, "run", None, ""),
        (values_csv(), "down", "18.5", "xmr", "8", ""),
        (values_csv(), "down", None, "c", None, "2026-05-04"),
        (values_csv(), "down", "20", "run", None, ""),
    ],
)
def test_the_command_answers_what_the_api_answers(
    active_project, trust, csv_file, content, better, target, kind, freeze, phases
):
    measure = services.measure_create(
        actor=trust.alice,
        project=active_project,
        name="Measure under test",
        operational_definition="Counted weekly.",
        better=better,
        target=Decimal(target) if target else None,
    )
    alice = token_client(trust.alice)
    imported = alice.post(f"/api/v1/measures/{measure.pk}/import/", content, content_type="text/csv")
    assert imported.status_code == 201, imported.json()
    params = {"kind": kind, "phases": phases, **({"freeze": freeze} if freeze else {})}
    response = alice.get(f"/api/v1/measures/{measure.pk}/chart/", params)
    assert response.status_code == 200, response.json()
    from_api = {key: value for key, value in response.json().items() if key not in API_ONLY}

    args = [csv_file(content), "--json", "--kind", kind, "--better", better, "--phases", phases]
    args += ["--freeze", freeze] if freeze else []
    args += ["--target", target] if target else []
    from_command = json.loads(chart(*args))

    assert from_command == from_api
    assert from_command["signals"]  # the comparison covers signals, not only empty lists
