"""Concurrent transitions on PostgreSQL: two reviewers deciding at once produce exactly one decision."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from qi import services
from qi.errors import QITransitionError
from qi.models import AuditEvent, Milestone, Review

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises whole transactions"
)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_once_make_one_decision(trust, active_project):
    milestone = active_project.milestones.first()
    services.milestone_submit(actor=trust.alice, milestone=milestone, evidence="Baseline of 30 patients")
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def review(name: str, action) -> None:
        try:
            start.wait()
            action()
            outcomes[name] = "decided"
        except QITransitionError:
            outcomes[name] = "refused"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=review, args=("sam", lambda: services.milestone_approve(actor=trust.sam, milestone=milestone))
        ),
        threading.Thread(
            target=review,
            args=(
                "quinn",
                lambda: services.milestone_request_changes(actor=trust.quinn, milestone=milestone, comment="More data"),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["decided", "refused"]
    assert Review.objects.filter(milestone=milestone).count() == 1
    milestone.refresh_from_db()
    assert milestone.status == Review.objects.get(milestone=milestone).decision
    assert milestone.status != Milestone.Status.SUBMITTED
    assert (
        AuditEvent.objects.filter(
            object_type="qi.milestone", verb__in=["milestone.approved", "milestone.changes_requested"]
        ).count()
        == 1
    )
