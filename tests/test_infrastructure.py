"""The services the app runs on answer: the configured database and Celery broker."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from tests.factories import PASSWORD


def test_the_suite_runs_on_the_database_in_database_url():
    url = os.environ.get("DATABASE_URL", "sqlite://")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else url.split("://", 1)[0]
    assert connection.vendor == expected


def test_the_celery_broker_accepts_connections():
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.connected
        assert conn.transport.driver_type == settings.CELERY_BROKER_URL.split("://", 1)[0].replace("rediss", "redis")


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_a_doctor_signs_in_with_e_mail_and_password_and_out_again(client, trust):
    response = client.post("/accounts/login/", {"username": "Alice@Riverside.nhs.uk", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert b"Alice" in client.get("/").content
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert b"Sign in" in client.get("/").content


def test_a_wrong_password_is_refused_with_a_message(client, trust):
    response = client.post("/accounts/login/", {"username": "alice@riverside.nhs.uk", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert "_auth_user_id" not in client.session


def test_home_welcomes_anonymous_visitors(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


@pytest.mark.parametrize("projects", [1, 6])
def test_home_lists_a_users_work_in_constant_queries(client, trust, django_assert_num_queries, projects):
    from qi import services

    for n in range(projects):
        project = services.project_create(
            actor=trust.alice, department=trust.cardiology, title=f"Project {n}", problem="P", aim="A"
        )
        services.project_activate(actor=trust.alice, project=project)
    client.force_login(trust.alice)
    # session, user, projects, awaiting review, overdue, unread notifications count; and the user's QI lead
    # roles, read by each of the two visible_to() (projects, overdue) before it builds its SQL
    with django_assert_num_queries(8):
        response = client.get("/")
    assert response.status_code == 200
    assert b"Project 0" in response.content
