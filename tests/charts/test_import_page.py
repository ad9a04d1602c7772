"""The web page that imports a measure's data from a CSV file: who may, success, and errors naming lines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qi import csv_import, services
from qi.models import DataPoint, Measure

pytestmark = pytest.mark.django_db


def weekly_csv(count: int) -> bytes:
    rows = [f"{dt.date(2026, 1, 5) + dt.timedelta(weeks=week):%d/%m/%Y},{10 + week % 5},20" for week in range(count)]
    return ("date,numerator,denominator\n" + "\n".join(rows) + "\n").encode()


def page(client, measure: Measure, person=None, **post):
    if person is not None:
        client.force_login(person)
    url = reverse("measure_import", args=[measure.pk])
    return client.post(url, post) if post else client.get(url)


def test_the_team_sees_the_form_and_both_layouts(client, measure, trust):
    response = page(client, measure, trust.bob)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'class="nhsuk-file-upload__input"' in html
    assert "date,value\n2026-01-05,22" in html
    assert "date,numerator,denominator,note" in html


def test_an_import_redirects_to_the_measure_with_a_success_message(client, measure, trust):
    response = page(client, measure, trust.alice, file=SimpleUploadedFile("ecg.csv", weekly_csv(12)))
    assert response.status_code == 302
    assert response.url == reverse("measure_detail", args=[measure.pk])
    assert [str(message) for message in get_messages(response.wsgi_request)] == ["12 data points imported."]
    assert measure.data_points.count() == 12
    shown = client.get(response.url)
    assert (
        '<div class="message message--success" role="status">12 data points imported.</div>' in shown.content.decode()
    )


def test_a_bad_file_shows_the_error_summary_naming_each_line_and_saves_nothing(client, measure, trust):
    content = (
        weekly_csv(12).replace(b"02/02/2026,14,20", b"31/02/2026,14,20").replace(b"16/02/2026,11", b"16/02/2026,x")
    )
    response = page(client, measure, trust.alice, file=SimpleUploadedFile("ecg.csv", content))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="nhsuk-error-summary"' in html
    assert '<a href="#id_file">Line 6: 31/02/2026 is not a date (use YYYY-MM-DD or DD/MM/YYYY).</a>' in html
    assert '<a href="#id_file">Line 8: the numerator x is not a whole number of 0 or more.</a>' in html
    assert "The file has 2 problems, listed at the top of the page." in html
    assert "<title>Error: " in html
    assert not DataPoint.objects.exists()


def test_a_date_already_there_is_named_by_its_line(client, measure, trust):
    services.data_points_add(
        actor=trust.alice, measure=measure, rows=[{"date": "2026-01-12", "numerator": 1, "denominator": 2}]
    )
    response = page(client, measure, trust.alice, file=SimpleUploadedFile("ecg.csv", weekly_csv(3)))
    assert "Line 3: 2026-01-12 already has a data point; edit or delete it first." in response.content.decode()
    assert measure.data_points.count() == 1


def test_no_file_asks_for_one(client, measure, trust):
    client.force_login(trust.alice)
    response = client.post(reverse("measure_import", args=[measure.pk]))
    assert "Choose a CSV file to import." in response.content.decode()


def test_an_empty_file_says_what_the_file_needs(client, measure, trust):
    response = page(client, measure, trust.alice, file=SimpleUploadedFile("ecg.csv", b""))
    assert "The file is empty: it needs a header row" in response.content.decode()


def test_people_who_see_but_may_not_edit_get_403_and_no_form(client, measure, trust):
    for person in (trust.sam, trust.quinn):
        response = page(client, measure, person)
        assert response.status_code == 403
        assert "Only the project team can import data for this measure." in response.content.decode()
        assert b'type="file"' not in response.content
        response = page(client, measure, file=SimpleUploadedFile("ecg.csv", weekly_csv(3)))
        assert response.status_code == 403
    assert not DataPoint.objects.exists()


def test_outsiders_get_404_and_strangers_are_sent_to_log_in(client, measure, trust):
    for person in (trust.dora, trust.charlie):
        assert page(client, measure, person).status_code == 404
    client.logout()
    response = page(client, measure)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_closed_project_takes_no_more_data(client, measure, trust, active_project):
    services.project_abandon(actor=trust.alice, project=active_project, reason="The ECG machine was replaced.")
    response = page(client, measure, trust.alice)
    assert "This project is abandoned: its data can no longer change." in response.content.decode()
    assert b'type="file"' not in response.content


def test_an_upload_over_the_limit_is_refused_before_it_is_read(client, measure, trust):
    client.force_login(trust.alice)
    big = SimpleUploadedFile("big.csv", b"date,value\n" + b"1" * csv_import.MAX_UPLOAD_BYTES)
    response = client.post(reverse("measure_import", args=[measure.pk]), {"file": big})
    assert response.status_code == 413
    assert csv_import.TOO_LARGE in response.content.decode()
    assert not DataPoint.objects.exists()


def test_a_file_with_more_problems_than_listed_says_so(client, measure, trust):
    lines = b"date,numerator,denominator\n" + b"".join(b"2026-01-%02d,x,20\n" % day for day in range(1, 26))
    response = page(client, measure, trust.alice, file=SimpleUploadedFile("ecg.csv", lines))
    html = response.content.decode()
    assert "Line 21: the numerator x is not a whole number of 0 or more." in html
    assert "Reading stopped at line 21: fix these and upload the file again to check the rest." in html
