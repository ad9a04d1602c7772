"""The learning digest: what each person reads, in how many queries, and who gets nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from notifications import digest, outbox
from notifications.models import DigestFrequency, EmailDelivery, Kind, Notification, Preference
from qi import services
from qi.models import Milestone, Project
from tests.factories import PlacementFactory

MONDAY = dt.date(2026, 11, 2)


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 11, 2, 7, 30, tzinfo=dt.UTC), tick=False):
        yield MONDAY


def complete(project, trust, **fields):
    for milestone in project.milestones.filter(required=True):
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Evidence")
        services.milestone_approve(actor=trust.sam, milestone=milestone)
    return services.project_complete(actor=trust.alice, project=project, **fields)


@pytest.fixture
def completed(trust, frozen, active_project):
    return complete(
        active_project,
        trust,
        outcome_summary="Door-to-ECG fell from 22 to 8 minutes.",
        lessons_learned="Put the ECG machine where triage happens.",
    )


def digests(on=MONDAY, users=None) -> dict[str, object]:
    from qi.models import User

    ids = list(users or User.objects.values_list("pk", flat=True))
    return {User.objects.get(pk=m.recipient_id).full_name: m for m in digest.build(ids, on)}


def test_weekly_digests_go_on_mondays_and_monthly_ones_on_the_first(trust):
    assert digest.due_frequencies(MONDAY) == [DigestFrequency.WEEKLY]
    assert digest.due_frequencies(dt.date(2026, 12, 1)) == [DigestFrequency.MONTHLY]
    assert digest.due_frequencies(dt.date(2027, 2, 1)) == [DigestFrequency.WEEKLY, DigestFrequency.MONTHLY]
    Preference.objects.create(user=trust.bob, digest=DigestFrequency.MONTHLY)
    Preference.objects.create(user=trust.dora, digest=DigestFrequency.OFF)
    weekly = set(digest.recipients(MONDAY).values_list("full_name", flat=True))
    assert "Bob" not in weekly and "Dora" not in weekly and "Alice" in weekly
    assert list(digest.recipients(dt.date(2026, 12, 1)).values_list("full_name", flat=True)) == ["Bob"]
    assert not digest.recipients(MONDAY + dt.timedelta(days=1)).exists()


def test_a_completed_project_reaches_its_department_and_specialty(trust, completed):
    PlacementFactory(doctor=trust.dora, department=trust.cardiology)  # dora now works in cardiology
    result = digests()
    dora = result["Dora"]
    assert [p["title"] for p in dora.context["completed"]["items"]] == ["Faster ECGs for chest pain"]
    assert dora.context["completed"]["items"][0]["lessons_learned"] == "Put the ECG machine where triage happens."
    assert "Olga" in result  # QI lead of the whole organisation hears of everything
    assert "Charlie" not in result  # another trust
    assert "Ursula" not in result  # QI lead of surgery, nothing there


def test_a_user_with_nothing_to_read_gets_no_digest(trust, frozen):
    assert digests(users=[trust.dora.pk, trust.charlie.pk]) == {}


def test_own_milestones_due_and_overdue_are_listed(trust, frozen, active_project):
    first, second, *rest = list(active_project.milestones.order_by("due_on"))
    Milestone.objects.filter(pk=first.pk).update(due_on=MONDAY - dt.timedelta(days=3))
    Milestone.objects.filter(pk=second.pk).update(due_on=MONDAY + dt.timedelta(days=5))
    Milestone.objects.filter(pk__in=[m.pk for m in rest]).update(due_on=MONDAY + dt.timedelta(days=40))
    bob = digests(users=[trust.bob.pk])["Bob"]
    assert [m["title"] for m in bob.context["overdue"]["items"]] == [first.title]
    assert [m["title"] for m in bob.context["due"]["items"]] == [second.title]
    assert bob.title == "Your weekly QI digest: 1 milestone due soon, 1 overdue milestone"


def test_supervisors_and_qi_leads_see_reviews_waiting(trust, frozen, active_project):
    milestone = active_project.milestones.first()
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
    result = digests(users=[trust.sam.pk, trust.quinn.pk, trust.olga.pk, trust.ursula.pk])
    for name in ("Sam", "Quinn", "Olga"):
        assert [m["title"] for m in result[name].context["reviews"]["items"]] == [milestone.title]
    assert "Ursula" not in result


def test_projects_looking_for_team_members_are_offered_to_others_only(trust, frozen, active_project):
    services.project_update(actor=trust.alice, project=active_project, seeking_team_members=True)
    PlacementFactory(doctor=trust.dora, department=trust.cardiology)
    result = digests(users=[trust.dora.pk, trust.bob.pk])
    assert [p["title"] for p in result["Dora"].context["seeking"]["items"]] == [active_project.title]
    assert not result.get("Bob") or not result["Bob"].context["seeking"]["items"]


def test_the_digest_email_has_text_html_and_an_unsubscribe_link(trust, completed):
    PlacementFactory(doctor=trust.dora, department=trust.cardiology)
    delivery_ids = outbox.post(list(digests(users=[trust.dora.pk]).values()))
    email = EmailDelivery.objects.get(pk__in=delivery_ids)
    assert email.subject == "Your weekly QI digest: 1 completed project"
    for body in (email.text_body, email.html_body):
        assert "Faster ECGs for chest pain" in body
        assert "Put the ECG machine where triage happens." in body
        assert email.unsubscribe_url in body
    assert "<h3" in email.html_body and "<h3" not in email.text_body
    assert Notification.objects.get().kind == Kind.DIGEST


def test_a_digest_goes_once_per_period(trust, completed):
    PlacementFactory(doctor=trust.dora, department=trust.cardiology)
    messages = list(digests(users=[trust.dora.pk]).values())
    outbox.post(messages)
    outbox.post(list(digests(users=[trust.dora.pk]).values()))
    assert Notification.objects.filter(kind=Kind.DIGEST).count() == 1
    assert messages[0].dedup_key == f"digest:{trust.dora.pk}:weekly:2026-W45"


def test_monthly_readers_see_the_whole_previous_month(trust, completed):
    Preference.objects.create(user=trust.olga, digest=DigestFrequency.MONTHLY)
    november_20 = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    Project.objects.filter(pk=completed.pk).update(completed_at=november_20)
    first_of_month = dt.date(2026, 12, 1)
    assert "Olga" in digests(on=first_of_month, users=[trust.olga.pk])
    assert digests(on=first_of_month + dt.timedelta(days=31), users=[trust.olga.pk]) == {}


def test_building_digests_takes_the_same_queries_for_3_or_30_readers(trust, completed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qi.models import User
    from tests.factories import UserFactory

    def build_for_all() -> tuple[int, int]:
        ids = list(User.objects.values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as queries:
            built = len(digest.build(ids, MONDAY))
        return built, len(queries)

    few, few_queries = build_for_all()
    for n in range(30):
        doctor = UserFactory(organisation=trust.organisation, email=f"d{n}@r.nhs.uk")
        PlacementFactory(doctor=doctor, department=trust.cardiology)
    many, many_queries = build_for_all()
    assert many == few + 30
    assert many_queries == few_queries <= 12
