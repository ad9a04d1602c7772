"""Housekeeping tasks: expired device tokens and old tombstones are purged, nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from api import tasks
from api.models import DeviceToken, Tombstone

pytestmark = pytest.mark.django_db


def test_expired_tokens_are_purged_and_live_ones_kept(trust):
    DeviceToken.objects.create(user=trust.alice, device_name="old", expiry=dt.timedelta(hours=1))
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        DeviceToken.objects.create(user=trust.alice, device_name="new")
        assert tasks.purge_expired_tokens.delay().get() == 1
    assert list(DeviceToken.objects.values_list("device_name", flat=True)) == ["new"]


def test_tombstones_are_kept_for_180_days(trust):
    Tombstone.objects.create(resource="milestones", object_id=1, project_id=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=100)):
        Tombstone.objects.create(resource="milestones", object_id=2, project_id=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=181)):
        assert tasks.purge_old_tombstones.delay().get() == 1
    assert list(Tombstone.objects.values_list("object_id", flat=True)) == [2]
