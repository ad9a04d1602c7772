"""/me/: the profile (read, edit with model validation), e-mail preferences, and the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Category, Kind, Notification, Preference
from qi import services
from qi.models import AuditEvent, Milestone, today
from tests.factories import MembershipFactory, MilestoneFactory, ProjectFactory

pytestmark = pytest.mark.django_db

# --- profile ---------------------------------------------------------------------------------


def test_me_shows_my_profile_and_organisation(trust, client_for):
    body = client_for(trust.alice).get("/api/v1/me/").json()
    assert body == {
        "id": trust.alice.pk,
        "email": "alice@riverside.nhs.uk",
        "full_name": "Alice",
        "grade": "FY1",
        "gmc_number": trust.alice.gmc_number,
        "organisation": {"id": trust.organisation.pk, "name": "Riverside NHS Foundation Trust"},
        "qi_lead_of": {"organisation": False, "departments": []},
    }


@pytest.mark.parametrize(
    ("person", "organisation_lead", "departments"),
    [("quinn", False, ["Cardiology"]), ("ursula", False, ["General surgery"]), ("olga", True, []), ("sam", False, [])],
)
def test_me_says_what_i_am_qi_lead_of(trust, client_for, person, organisation_lead, departments):
    qi_lead_of = client_for(getattr(trust, person)).get("/api/v1/me/").json()["qi_lead_of"]
    assert qi_lead_of["organisation"] is organisation_lead
    assert [d["name"] for d in qi_lead_of["departments"]] == departments


def test_me_answers_if_none_match_with_304_until_the_profile_changes(trust, client_for):
    client = client_for(trust.alice)
    etag = client.get("/api/v1/me/").headers["ETag"]
    assert client.get("/api/v1/me/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    client.patch("/api/v1/me/", {"grade": "FY2"})
    assert client.get("/api/v1/me/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_i_change_my_name_grade_and_gmc_number_and_it_is_audited(trust, client_for):
    response = client_for(trust.alice).patch(
        "/api/v1/me/", {"full_name": " Alice Jones ", "grade": "FY2", "gmc_number": "7654321"}
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["full_name"], response.json()["grade"], response.json()["gmc_number"]) == (
        "Alice Jones",
        "FY2",
        "7654321",
    )
    trust.alice.refresh_from_db()
    assert trust.alice.gmc_number == "7654321"
    event = AuditEvent.objects.get(verb="user.profile_updated")
    assert event.actor == trust.alice and event.project is None
    assert event.after == {"full_name": "Alice Jones", "grade": "FY2", "gmc_number": "7654321"}


def test_email_and_organisation_cannot_be_changed_here(trust, client_for):
    response = client_for(trust.alice).patch(
        "/api/v1/me/", {"email": "mallory@example.com", "organisation": trust.charlie.organisation_id}
    )
    assert response.status_code == 200
    trust.alice.refresh_from_db()
    assert trust.alice.email == "alice@riverside.nhs.uk"
    assert trust.alice.organisation_id == trust.organisation.pk


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"gmc_number": "12345"}, "gmc_number", "exactly 7 digits"),
        ({"gmc_number": "12345ab"}, "gmc_number", "exactly 7 digits"),
        ({"grade": "FY9"}, "grade", "not a valid choice"),
        ({"full_name": "  "}, "full_name", "blank"),
    ],
)
def test_invalid_profile_changes_name_the_field_and_change_nothing(trust, client_for, data, field, message):
    response = client_for(trust.alice).patch("/api/v1/me/", {**data, "grade": data.get("grade", "FY2")})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert message in response.json()["fields"][field][0]
    trust.alice.refresh_from_db()
    assert trust.alice.grade == "FY1"


def test_a_gmc_number_of_another_account_is_refused_naming_the_field(trust, client_for):
    response = client_for(trust.alice).patch("/api/v1/me/", {"gmc_number": trust.bob.gmc_number})
    assert response.status_code == 400
    assert "Another account has this GMC number" in response.json()["fields"]["gmc_number"][0]
    assert client_for(trust.alice).patch("/api/v1/me/", {"gmc_number": ""}).json()["gmc_number"] == ""


def test_me_needs_a_login(anonymous):
    assert anonymous.get("/api/v1/me/").status_code == 401
    assert anonymous.patch("/api/v1/me/", {"grade": "FY2"}).status_code == 401
    assert anonymous.get("/api/v1/me/preferences/").status_code == 401
    assert anonymous.get("/api/v1/me/dashboard/").status_code == 401


# --- preferences -----------------------------------------------------------------------------


def test_preferences_show_the_defaults_without_saving_a_row(trust, client_for):
    body = client_for(trust.alice).get("/api/v1/me/preferences/").json()
    assert body == {
        "email_activity": True,
        "email_reminders": True,
        "first_reminder_days": 7,
        "second_reminder_days": 1,
        "digest": "weekly",
        "updated_at": None,
    }
    assert not Preference.objects.exists()


def test_patching_preferences_saves_only_what_was_sent(trust, client_for):
    client = client_for(trust.alice)
    response = client.patch("/api/v1/me/preferences/", {"digest": "off", "second_reminder_days": None})
    assert response.status_code == 200, response.json()
    assert response.json()["digest"] == "off"
    assert response.json()["second_reminder_days"] is None
    assert response.json()["updated_at"] is not None
    saved = Preference.objects.get(user=trust.alice)
    assert (saved.digest, saved.second_reminder_days, saved.first_reminder_days) == ("off", None, 7)
    client.patch("/api/v1/me/preferences/", {"email_activity": False})
    saved.refresh_from_db()
    assert (saved.digest, saved.email_activity) == ("off", False)
    assert not Preference.objects.filter(user=trust.bob).exists()


def test_an_unsubscribe_is_kept_when_other_preferences_are_saved(trust, client_for):
    Preference.turn_off(trust.alice, Category.REMINDERS)
    client_for(trust.alice).patch("/api/v1/me/preferences/", {"digest": "monthly"})
    saved = Preference.objects.get(user=trust.alice)
    assert (saved.email_reminders, saved.digest) == (False, "monthly")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"first_reminder_days": 4}, "first_reminder_days"),
        ({"second_reminder_days": "soon"}, "second_reminder_days"),
        ({"digest": "daily"}, "digest"),
        ({"email_activity": "perhaps"}, "email_activity"),
    ],
)
def test_invalid_preferences_name_the_field_and_save_nothing(trust, client_for, data, field):
    response = client_for(trust.alice).patch("/api/v1/me/preferences/", data)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Preference.objects.exists()


# --- dashboard -------------------------------------------------------------------------------


def test_dashboard_lists_my_projects_milestones_and_reviews_waiting(trust, client_for, active_project):
    active_project.milestones.all().delete()  # the generated plan; the milestones below are the test's
    due = MilestoneFactory(project=active_project, title="Due", due_on=today() + dt.timedelta(days=3))
    later = MilestoneFactory(project=active_project, title="Later", due_on=today() + dt.timedelta(days=20))
    late = MilestoneFactory(project=active_project, title="Late", due_on=today() - dt.timedelta(days=2))
    submitted = MilestoneFactory(project=active_project, title="Sent", due_on=today() + dt.timedelta(days=30))
    services.milestone_submit(actor=trust.alice, milestone=submitted, evidence="Done.")
    draft = ProjectFactory(department=trust.cardiology)
    MembershipFactory(project=draft, user=trust.alice, role="lead")
    MilestoneFactory(project=draft, due_on=today() - dt.timedelta(days=2))  # drafts have nothing overdue
    Notification.objects.create(recipient=trust.alice, kind=Kind.MILESTONE_DUE, dedup_key="a", title="Due soon")

    alice = client_for(trust.alice).get("/api/v1/me/dashboard/").json()
    assert alice["active_projects"] == {
        "total": 1,
        "results": [
            {
                "id": active_project.pk,
                "title": active_project.title,
                "status": "active",
                "ends_on": str(active_project.ends_on),
            }
        ],
    }
    assert [m["id"] for m in alice["due_soon"]["results"]] == [due.pk]
    assert alice["due_soon"]["results"][0]["project"] == {"id": active_project.pk, "title": active_project.title}
    assert [m["id"] for m in alice["overdue"]["results"]] == [late.pk]
    assert alice["reviews_waiting"] == {"total": 0, "results": []}  # nobody reviews their own project
    assert alice["unread_notifications"] == 1
    assert later.pk not in [m["id"] for m in alice["due_soon"]["results"]]

    sam = client_for(trust.sam).get("/api/v1/me/dashboard/").json()
    assert [m["id"] for m in sam["reviews_waiting"]["results"]] == [submitted.pk]
    assert sam["reviews_waiting"]["results"][0]["status"] == "submitted"
    assert (sam["active_projects"]["total"], sam["due_soon"]["total"], sam["unread_notifications"]) == (0, 0, 0)
    assert client_for(trust.quinn).get("/api/v1/me/dashboard/").json()["reviews_waiting"]["total"] == 1
    for outsider in (trust.ursula, trust.dora, trust.charlie):
        body = client_for(outsider).get("/api/v1/me/dashboard/").json()
        assert [body[key]["total"] for key in ("active_projects", "due_soon", "overdue", "reviews_waiting")] == [0] * 4


def dashboard_queries(client) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        body = client.get("/api/v1/me/dashboard/").json()
    return len(captured), body


def test_dashboard_lists_are_capped_and_run_a_fixed_number_of_queries(trust, client_for, active_project):
    client = client_for(trust.alice)
    few_queries, _ = dashboard_queries(client)
    for number in range(60):
        MilestoneFactory(project=active_project, due_on=today() + dt.timedelta(days=number % 10))
        MilestoneFactory(project=active_project, due_on=today() - dt.timedelta(days=1 + number))
        project = ProjectFactory(department=trust.cardiology, status="active")
        MembershipFactory(project=project, user=trust.alice, role="member")
    many_queries, body = dashboard_queries(client)
    assert many_queries == few_queries
    assert body["active_projects"]["total"] == 61
    assert len(body["active_projects"]["results"]) == 50
    assert body["due_soon"]["total"] == Milestone.objects.due_within(14).filter(project=active_project).count()
    assert len(body["overdue"]["results"]) == 50 and body["overdue"]["total"] >= 60
