"""The measure page and its chart image: who sees them, what they show, query settings, errors, queries."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from qi.models import DataPoint, Measure
from tests.factories import MeasureFactory, PDSACycleFactory

NS = "{http://www.w3.org/2000/svg}"
MONDAY = dt.date(2026, 1, 5)
# 12 weeks around 50%, then 12 weeks around 80%: a shift up on a P chart
NUMERATORS = [10, 11, 9, 10, 12, 10, 9, 11, 10, 10, 11, 9, 16, 17, 15, 16, 17, 16, 15, 16, 17, 16, 15, 16]


def week(n: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=n)


def add_points(measure: Measure, numerators, notes=None) -> None:
    notes = notes or {}
    DataPoint.objects.bulk_create(
        DataPoint(measure=measure, date=week(i), numerator=n, denominator=20, note=notes.get(i, ""))
        for i, n in enumerate(numerators)
    )


@pytest.fixture
def measure(project):
    """Alice's weekly percentage of ECGs within 10 minutes: 24 weeks, 2 PDSA cycles, one note; target 90%."""
    measure = MeasureFactory(project=project, name="ECG within 10 minutes", target=90, unit="%")
    add_points(measure, NUMERATORS, notes={15: "New triage nurse"})
    PDSACycleFactory(project=project, number=1, change_idea="ECG prompt at triage", starts_on=week(11))
    PDSACycleFactory(project=project, number=2, change_idea="ECG machine in triage", starts_on=week(18))
    PDSACycleFactory(project=project, number=3, change_idea="Not started yet", starts_on=None)
    return measure


def page(measure, query=""):
    return reverse("measure_detail", args=[measure.pk]) + query


def svg_url(measure, query=""):
    return reverse("measure_chart_svg", args=[measure.pk]) + query


def parse(response) -> ET.Element:
    return ET.fromstring(response.content)


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if cls in (g.get("class") or "").split()]


# --- who sees it --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [page, svg_url])
def test_anonymous_visitors_are_sent_to_sign_in(client, measure, url):
    response = client.get(url(measure))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("person", ["alice", "bob", "sam", "quinn", "olga"])
def test_the_team_supervisor_and_qi_leads_see_the_chart(client, trust, measure, person):
    client.force_login(getattr(trust, person))
    assert client.get(page(measure)).status_code == 200
    assert client.get(svg_url(measure)).status_code == 200


@pytest.mark.parametrize("person", ["charlie", "dora", "ursula"])
def test_anyone_else_gets_a_404(client, trust, measure, person):
    client.force_login(getattr(trust, person))
    assert client.get(page(measure)).status_code == 404
    assert client.get(svg_url(measure)).status_code == 404


def test_a_measure_that_does_not_exist_is_a_404(client, trust, db):
    client.force_login(trust.alice)
    assert client.get(reverse("measure_detail", args=[999_999])).status_code == 404


# --- the page -------------------------------------------------------------------------------------------------


def test_the_page_shows_the_chart_the_verdict_and_the_signals(client, trust, measure):
    client.force_login(trust.alice)
    response = client.get(page(measure))
    assert response.status_code == 200
    analysis = response.context["analysis"]
    assert analysis.kind == "p" and analysis.signals
    html = response.content.decode()
    assert "ECG within 10 minutes" in html and "Faster ECGs for chest pain" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html  # inline, not escaped
    assert "P chart" in html
    assert f"<strong>{analysis.verdict}</strong>" in html
    assert analysis.assurance_text in html
    assert "target 90%" in html
    assert html.count('<span class="tag meaning-') == len(analysis.signals)
    assert f'href="{svg_url(measure)}"' in html


def test_measure_text_is_escaped_on_the_page_and_in_the_image(client, trust, measure):
    Measure.objects.filter(pk=measure.pk).update(name="<script>alert(1)</script>")
    client.force_login(trust.alice)
    html = client.get(page(measure)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    image = client.get(svg_url(measure))
    assert b"<script" not in image.content
    assert parse(image).find(f"{NS}title").text == "<script>alert(1)</script>"


def test_warnings_are_shown(client, trust, project):
    measure = MeasureFactory(project=project)
    add_points(measure, NUMERATORS[:5])
    client.force_login(trust.alice)
    response = client.get(page(measure))
    assert response.status_code == 200
    assert "Only 5 points: a P chart needs at least 12" in response.content.decode()
    assert "Too early to tell" in response.content.decode()


def test_a_measure_without_data_says_so_and_its_image_is_an_empty_frame(client, trust, project):
    measure = MeasureFactory(project=project)
    client.force_login(trust.alice)
    response = client.get(page(measure))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No data yet: the chart starts with the first data point." in html
    assert "<svg" not in html and "Signals" not in html
    image = client.get(svg_url(measure))
    assert image.status_code == 200
    assert parse(image).find(f"{NS}desc").text == "No data yet: the chart starts with the first data point."


def test_the_team_gets_a_link_to_the_import_page(client, trust, measure):
    client.force_login(trust.alice)
    html = client.get(page(measure)).content.decode()
    assert f'href="{reverse("measure_import", args=[measure.pk])}"' in html
    client.force_login(trust.sam)  # the supervisor cannot import data
    assert "Import data" not in client.get(page(measure)).content.decode()


# --- query settings and their errors --------------------------------------------------------------------


def test_query_settings_change_the_chart(client, trust, measure):
    client.force_login(trust.alice)
    response = client.get(page(measure, f"?kind=run&phases={week(12)}"))
    analysis = response.context["analysis"]
    assert (analysis.kind, len(analysis.phases)) == ("run", 2)
    assert "Run chart" in response.content.decode()
    assert f'href="{svg_url(measure)}?kind=run&amp;phases={week(12)}"' in response.content.decode()
    assert response.context["analysis"].points[0].upper_limit is None
    frozen = client.get(page(measure, "?freeze=12")).context["analysis"]
    assert frozen.settings["freeze"] == 12


def test_the_image_follows_the_query_settings(client, trust, measure):
    client.force_login(trust.alice)
    root = parse(client.get(svg_url(measure, f"?phases={week(8)},{week(16)}")))
    assert len(groups(root, "phase-boundary")) == 2
    run = parse(client.get(svg_url(measure, "?kind=run")))
    assert not groups(run, "limits")


def test_stored_settings_are_used_and_empty_phases_clear_them(client, trust, measure):
    Measure.objects.filter(pk=measure.pk).update(phase_starts=[week(12).isoformat()], baseline_points=6)
    client.force_login(trust.alice)
    stored = client.get(page(measure)).context["analysis"]
    assert (len(stored.phases), stored.settings["freeze"]) == (2, 6)
    cleared = client.get(page(measure, "?phases=&freeze=none")).context["analysis"]
    assert (len(cleared.phases), cleared.settings["freeze"]) == (1, None)


@pytest.mark.parametrize(
    "query, message",
    [
        ("?kind=bar", "Chart type: The chart kind must be one of run, xmr, p, c."),
        ("?freeze=abc", "Baseline: Give a number of points, 2 or more, or none."),
        ("?freeze=1", "Baseline: Give a number of points, 2 or more, or none."),
        ("?freeze=30", "Baseline: The baseline must be between 2 points and the 24 points of the first phase."),
        ("?phases=2026-13-01", "Phases: 2026-13-01 is not a date (YYYY-MM-DD)."),
        ("?run_length=4", "Run length: Must be a whole number of points from 5 to 12."),
        ("?kind=c", "The data point of 5 January 2026: a C chart needs a count, not a numerator and a denominator."),
    ],
)
def test_a_bad_setting_is_explained_on_the_page_and_refused_by_the_image(client, trust, measure, query, message):
    client.force_login(trust.alice)
    response = client.get(page(measure, query))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "<svg" not in response.content.decode()
    image = client.get(svg_url(measure, query))
    assert image.status_code == 400
    assert image["Content-Type"] == "text/plain; charset=utf-8"
    assert image.content.decode() == message


# --- the image ----------------------------------------------------------------------------------------------


def test_the_image_is_a_private_svg_with_the_pdsa_cycles_and_notes_marked(client, trust, measure):
    client.force_login(trust.alice)
    response = client.get(svg_url(measure))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Cache-Control"] == "private"
    root = parse(response)
    assert root.find(f"{NS}title").text == "ECG within 10 minutes"
    markers = [g.find(f"{NS}text").text for g in groups(root, "annotation")]
    assert markers == ["P1", "N1", "P2"]  # cycle 3 has no start date
    values = [t.text for t in groups(root, "value-axis")[0].iter(f"{NS}text")]
    assert all(v.endswith("%") for v in values)


# --- queries ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("weeks, cycles", [(24, 2), (120, 8)])
def test_the_page_and_the_image_run_constant_queries(client, trust, project, django_assert_num_queries, weeks, cycles):
    measure = MeasureFactory(project=project, target=90)
    add_points(measure, [(7 * i) % 20 for i in range(weeks)], notes={3: "a note"})
    for number in range(1, cycles + 1):
        PDSACycleFactory(project=project, number=number, starts_on=week(number))
    client.force_login(trust.alice)
    # session, user, the user's QI lead roles, measure with its project (scoped), data points, PDSA cycles,
    # team check (for the import link), unread notifications count
    with django_assert_num_queries(8):
        assert client.get(page(measure)).status_code == 200
    # session, user, roles, measure with its project, data points, PDSA cycles
    with django_assert_num_queries(6):
        assert client.get(svg_url(measure)).status_code == 200
