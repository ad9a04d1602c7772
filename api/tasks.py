"""Housekeeping of the API's tables, run by Celery beat."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from api.models import DeviceToken, Tombstone

TOMBSTONE_DAYS = 180


@shared_task
def purge_expired_tokens() -> int:
    """Delete device tokens past their expiry: knox removes them only when their owner comes back."""
    deleted, _ = DeviceToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


@shared_task
def purge_old_tombstones() -> int:
    """Forget deletions older than any device can stay logged in without a full sync (see docs/API.md)."""
    deleted, _ = Tombstone.objects.filter(deleted_at__lt=timezone.now() - dt.timedelta(days=TOMBSTONE_DAYS)).delete()
    return deleted
