"""The services the app runs on answer: the configured database and Celery broker."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app


def test_the_suite_runs_on_the_database_ci_asked_for():
    wanted = os.environ.get("QI_TEST_DATABASE_VENDOR", connection.vendor)
    assert connection.vendor == wanted


def test_the_celery_broker_accepts_connections():
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.connected
        assert conn.transport.driver_type == settings.CELERY_BROKER_URL.split("://", 1)[0].replace("rediss", "redis")


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


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
    # session, user, projects, awaiting review, overdue
    with django_assert_num_queries(5):
        response = client.get("/")
    assert response.status_code == 200
    assert b"Project 0" in response.content
