"""The admin shows device tokens (to revoke a lost phone's) and tombstones, and never makes or edits either."""

from __future__ import annotations

import pytest

from api.models import DeviceToken, Tombstone

pytestmark = pytest.mark.django_db


def test_admin_lists_and_revokes_device_tokens(admin_client, trust):
    token, secret = DeviceToken.objects.create(user=trust.alice, device_name="Alice's phone")
    listing = admin_client.get("/admin/api/devicetoken/")
    assert listing.status_code == 200
    assert b"Alice&#x27;s phone" in listing.content
    assert secret.encode() not in listing.content  # only its hash is stored, so nobody can read it back
    assert admin_client.get("/admin/api/devicetoken/add/").status_code == 403
    assert admin_client.get(f"/admin/api/devicetoken/{token.pk}/change/").status_code == 200
    admin_client.post(f"/admin/api/devicetoken/{token.pk}/delete/", {"post": "yes"})
    assert not DeviceToken.objects.exists()


def test_admin_lists_tombstones_read_only(admin_client, trust):
    Tombstone.objects.create(resource="milestones", object_id=7, project_id=1)
    assert admin_client.get("/admin/api/tombstone/").status_code == 200
    assert admin_client.get("/admin/api/tombstone/add/").status_code == 403
