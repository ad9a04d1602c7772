"""Domain events that qi announces after commit; other apps (notifications) connect to them.

Each signal is sent with ids only (never model instances), once the transaction that made
the change has committed, so a listener that enqueues a task never sees uncommitted data.
Every signal carries ``audit_event_id``, the AuditEvent of that transition: unique per
transition, it is what listeners use to de-duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)
_silenced: ContextVar[bool] = ContextVar("qi_events_silenced", default=False)

project_created = Signal()  # project_id, actor_id
project_activated = Signal()  # project_id, actor_id
project_completed = Signal()  # project_id, actor_id
project_abandoned = Signal()  # project_id, actor_id
project_handed_over = Signal()  # project_id, handover_id, from_lead_id, to_lead_id, actor_id
supervisor_assigned = Signal()  # project_id, supervisor_id, previous_supervisor_id, actor_id
member_added = Signal()  # project_id, user_id, actor_id
member_removed = Signal()  # project_id, user_id, actor_id
milestone_submitted = Signal()  # milestone_id, project_id, actor_id
milestone_reviewed = Signal()  # milestone_id, project_id, review_id, decision, actor_id


def announce(signal: Signal, **ids: object) -> None:
    """Send the signal once the current transaction commits (at once outside a transaction)."""
    if _silenced.get():
        return
    transaction.on_commit(lambda: _send(signal, ids))


@contextmanager
def silenced() -> Iterator[None]:
    """Announce nothing inside this block: for building demo or imported history, not for live work."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def _send(signal: Signal, ids: dict[str, object]) -> None:
    # The change is committed; a failing listener must neither undo it nor silence the others.
    for receiver, result in signal.send_robust(sender=signal, **ids):
        if isinstance(result, Exception):
            logger.error("Listener %r failed for %s", receiver, ids, exc_info=result)
