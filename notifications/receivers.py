"""Connect qi's domain events to notification tasks; qi itself knows nothing of this app."""

from __future__ import annotations

from functools import partial

from qi import events


def _enqueue(event: str, sender, signal=None, **ids) -> None:
    from notifications.tasks import notify_event  # tasks import models: load them lazily

    # qi sends these after its transaction commits, so the worker sees the committed change.
    notify_event.delay(event, ids)


def connect() -> None:
    from notifications.event_messages import HANDLERS

    for name in HANDLERS:
        getattr(events, name).connect(partial(_enqueue, name), weak=False, dispatch_uid=f"notifications.{name}")
