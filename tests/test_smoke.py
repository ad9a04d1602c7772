from qi import services
from qi.models import Milestone


def test_it_walks_the_happy_path(trust, active_project):
    m = active_project.milestones.first()
    services.milestone_submit(actor=trust.alice, milestone=m, evidence="Done")
    services.milestone_approve(actor=trust.sam, milestone=m)
    m.refresh_from_db()
    assert m.status == Milestone.Status.APPROVED
