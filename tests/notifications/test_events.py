"""Workflow events become notifications and e-mails for the right people, once."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications import tasks
from notifications.models import EmailDelivery, Kind, Notification, Preference
from qi import services


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what qi announces after commit, and the tasks it queues, as a real commit would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("kind", flat=True))


def test_a_submission_tells_the_supervisor_and_nobody_else(trust, active_project, run_on_commit):
    milestone = active_project.milestones.first()
    Notification.objects.all().delete()
    run_on_commit(lambda: services.milestone_submit(actor=trust.bob, milestone=milestone, evidence="Baseline chart"))
    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind) == (trust.sam, Kind.MILESTONE_SUBMITTED)
    assert "Bob" in notification.title and "Baseline chart" in notification.body
    assert [m.to for m in mail.outbox] == [["sam@riverside.nhs.uk"]]
    assert EmailDelivery.objects.get().status == EmailDelivery.Status.SENT


def test_a_decision_tells_the_team_with_the_reviewers_comment(trust, active_project, run_on_commit):
    milestone = active_project.milestones.first()
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
    run_on_commit(
        lambda: services.milestone_request_changes(actor=trust.sam, milestone=milestone, comment="Add a baseline")
    )
    for person in (trust.alice, trust.bob):
        notification = Notification.objects.get(recipient=person, kind=Kind.MILESTONE_CHANGES_REQUESTED)
        assert "Add a baseline" in notification.body
    assert not Notification.objects.filter(recipient=trust.sam, kind=Kind.MILESTONE_CHANGES_REQUESTED).exists()
    bodies = {m.to[0]: m for m in mail.outbox}
    message = bodies["bob@riverside.nhs.uk"]
    assert "Add a baseline" in message.body
    assert "Add a baseline" in message.alternatives[0][0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/notifications/unsubscribe/")


def test_an_approval_tells_the_team(trust, active_project, run_on_commit):
    milestone = active_project.milestones.first()
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
    run_on_commit(lambda: services.milestone_approve(actor=trust.quinn, milestone=milestone, comment="Good"))
    assert Kind.MILESTONE_APPROVED in kinds_for(trust.alice)
    assert Kind.MILESTONE_APPROVED in kinds_for(trust.bob)


def test_supervisor_assignment_and_new_members_are_told(trust, project, run_on_commit):
    run_on_commit(lambda: services.project_supervisor_set(actor=trust.alice, project=project, supervisor=trust.dora))
    run_on_commit(lambda: services.project_member_add(actor=trust.alice, project=project, user=trust.ursula))
    assert kinds_for(trust.dora) == [Kind.SUPERVISOR_ASSIGNED]
    assert kinds_for(trust.ursula) == [Kind.MEMBER_ADDED]
    assert kinds_for(trust.alice) == []  # nobody is told about their own action


def test_a_handover_tells_the_old_and_the_new_lead(trust, active_project, run_on_commit):
    run_on_commit(
        lambda: services.project_hand_over(
            actor=trust.quinn, project=active_project, successor=trust.bob, notes="Data on the shared drive"
        )
    )
    to_alice = Notification.objects.get(recipient=trust.alice, kind=Kind.PROJECT_HANDED_OVER)
    to_bob = Notification.objects.get(recipient=trust.bob, kind=Kind.PROJECT_HANDED_OVER)
    assert "You now lead" in to_bob.title and "handed over to Bob" in to_alice.title
    assert "Data on the shared drive" in to_bob.body


def test_completion_tells_the_team_and_the_supervisor(trust, active_project, run_on_commit):
    for milestone in active_project.milestones.filter(required=True):
        services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x")
        services.milestone_approve(actor=trust.sam, milestone=milestone)
    run_on_commit(
        lambda: services.project_complete(
            actor=trust.alice, project=active_project, outcome_summary="ECG in 8 minutes", lessons_learned="Ask nurses"
        )
    )
    recipients = set(
        Notification.objects.filter(kind=Kind.PROJECT_COMPLETED).values_list("recipient__email", flat=True)
    )
    assert recipients == {"bob@riverside.nhs.uk", "sam@riverside.nhs.uk"}


def test_a_retried_event_task_posts_nothing_twice(trust, active_project, run_on_commit):
    milestone = active_project.milestones.first()
    run_on_commit(lambda: services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x"))
    submitted = Notification.objects.get(kind=Kind.MILESTONE_SUBMITTED)
    event_id = int(submitted.dedup_key.rsplit(":", 1)[1])
    ids = {
        "audit_event_id": event_id,
        "milestone_id": milestone.pk,
        "project_id": active_project.pk,
        "actor_id": trust.alice.pk,
    }
    assert tasks.notify_event("milestone_submitted", ids) == 0  # nothing new to send
    assert Notification.objects.filter(kind=Kind.MILESTONE_SUBMITTED).count() == 1
    assert len([m for m in mail.outbox if m.to == ["sam@riverside.nhs.uk"]]) == 1


def test_activity_emails_respect_the_preference_but_the_app_still_shows_them(trust, active_project, run_on_commit):
    Preference.objects.create(user=trust.sam, email_activity=False)
    milestone = active_project.milestones.first()
    run_on_commit(lambda: services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x"))
    assert Notification.objects.filter(recipient=trust.sam).exists()
    assert not EmailDelivery.objects.exists()
    assert mail.outbox == []


def test_an_inactive_user_gets_no_email(trust, active_project, run_on_commit):
    trust.sam.is_active = False
    trust.sam.save()
    milestone = active_project.milestones.first()
    run_on_commit(lambda: services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="x"))
    assert not EmailDelivery.objects.exists()


def test_an_object_deleted_before_the_task_runs_is_skipped(trust, active_project):
    ids = {"audit_event_id": 1, "milestone_id": 999999, "project_id": active_project.pk, "actor_id": trust.alice.pk}
    assert tasks.notify_event("milestone_submitted", ids) == 0
    assert tasks.notify_event("project_completed", {**ids, "project_id": 999999}) == 0
    assert not Notification.objects.exists()


def test_subjects_are_not_html_escaped(trust, active_project, run_on_commit):
    services.project_update(actor=trust.alice, project=active_project, title="O'Brien & Co: faster ECGs")
    run_on_commit(lambda: services.project_member_add(actor=trust.alice, project=active_project, user=trust.dora))
    assert mail.outbox[-1].subject == "Alice added you to “O'Brien & Co: faster ECGs”"
