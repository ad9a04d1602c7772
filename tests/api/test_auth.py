"""Device log-in: tokens per device, stored hashed, expiring when idle and absolutely, revocable, throttled."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import DeviceToken
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"


def log_in(user, device_name="Alice's iPhone", password=PASSWORD) -> tuple[APIClient, dict]:
    client = APIClient()
    response = client.post(LOGIN, {"email": user.email.upper(), "password": password, "device_name": device_name})
    assert response.status_code == 200, response.json()
    body = response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    return client, body


def test_login_returns_a_token_that_is_stored_only_as_a_hash(trust):
    client, body = log_in(trust.alice)
    assert body["user"] == {"id": trust.alice.pk, "email": trust.alice.email, "full_name": "Alice"}
    stored = DeviceToken.objects.get(user=trust.alice)
    assert stored.device_name == "Alice's iPhone"
    assert body["token"] not in (stored.digest, stored.token_key)
    assert body["token"].startswith(stored.token_key)
    assert client.get("/api/v1/projects/").status_code == 200


def test_wrong_password_and_inactive_accounts_get_the_same_answer(trust):
    wrong = APIClient().post(LOGIN, {"email": trust.alice.email, "password": "nope"})
    trust.bob.is_active = False
    trust.bob.save()
    inactive = APIClient().post(LOGIN, {"email": trust.bob.email, "password": PASSWORD})
    for response in (wrong, inactive):
        assert response.status_code == 400
        assert response.json()["detail"] == "Wrong e-mail address or password."
    assert not DeviceToken.objects.exists()


def test_anonymous_requests_are_401_in_the_error_shape(trust):
    response = APIClient().get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "fields": {},
    }
    assert response.headers["WWW-Authenticate"] == "Token"
    bad = APIClient(HTTP_AUTHORIZATION="Token not-a-real-token").get("/api/v1/projects/")
    assert bad.status_code == 401
    assert bad.json()["code"] == "authentication_failed"


def test_a_token_expires_after_12_idle_hours(trust):
    client, _ = log_in(trust.alice)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=11, minutes=50)):
        assert client.get("/api/v1/projects/").status_code == 200  # use slides the expiry on
    with time_machine.travel(timezone.now() + dt.timedelta(hours=23)):
        assert client.get("/api/v1/projects/").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=36)):
        assert client.get("/api/v1/projects/").status_code == 401


def test_a_token_used_all_the_time_still_expires_30_days_after_login(trust):
    client, _ = log_in(trust.alice)
    start = timezone.now()
    for hours in range(10, 30 * 24, 10):
        with time_machine.travel(start + dt.timedelta(hours=hours)):
            assert client.get("/api/v1/projects/").status_code == 200, hours
    with time_machine.travel(start + dt.timedelta(days=30, minutes=1)):
        assert client.get("/api/v1/projects/").status_code == 401


def test_devices_are_listed_and_revoked_one_at_a_time(trust):
    phone, _ = log_in(trust.alice, "phone")
    tablet, _ = log_in(trust.alice, "tablet")
    log_in(trust.bob, "bob's phone")
    devices = phone.get("/api/v1/auth/devices/").json()
    assert sorted((d["device_name"], d["current"]) for d in devices) == [("phone", True), ("tablet", False)]
    tablet_id = next(d["id"] for d in devices if d["device_name"] == "tablet")
    assert phone.delete(f"/api/v1/auth/devices/{tablet_id}/").status_code == 204
    assert tablet.get("/api/v1/projects/").status_code == 401
    assert phone.get("/api/v1/projects/").status_code == 200
    bobs = DeviceToken.objects.get(user=trust.bob).token_key
    assert phone.delete(f"/api/v1/auth/devices/{bobs}/").status_code == 404  # not hers


def test_logout_revokes_this_device_and_logout_everywhere_revokes_all(trust):
    phone, _ = log_in(trust.alice, "phone")
    tablet, _ = log_in(trust.alice, "tablet")
    laptop, _ = log_in(trust.alice, "laptop")
    assert phone.post("/api/v1/auth/logout/").status_code == 204
    assert phone.get("/api/v1/projects/").status_code == 401
    assert tablet.get("/api/v1/projects/").status_code == 200
    assert tablet.post("/api/v1/auth/logout-everywhere/").status_code == 204
    assert tablet.get("/api/v1/projects/").status_code == 401
    assert laptop.get("/api/v1/projects/").status_code == 401
    assert not DeviceToken.objects.filter(user=trust.alice).exists()


def test_session_login_still_works_for_the_browsable_api(trust, client):
    client.force_login(trust.alice)
    assert client.get("/api/v1/projects/", HTTP_ACCEPT="text/html").status_code == 200


def test_login_attempts_are_throttled_per_address(trust, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": None, "login": "3/minute"}}
    client = APIClient()
    for _ in range(3):
        assert client.post(LOGIN, {"email": trust.alice.email, "password": "guess"}).status_code == 400
    throttled = client.post(LOGIN, {"email": trust.alice.email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled.headers["Retry-After"]) > 0
    assert not DeviceToken.objects.exists()


def test_requests_are_throttled_per_user(trust, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "2/hour", "login": None}}
    alice, _ = log_in(trust.alice)
    bob, _ = log_in(trust.bob)
    assert [alice.get("/api/v1/projects/").status_code for _ in range(3)] == [200, 200, 429]
    assert bob.get("/api/v1/projects/").status_code == 200


def test_too_many_devices_are_refused(trust, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    log_in(trust.alice, "one")
    log_in(trust.alice, "two")
    third = APIClient().post(LOGIN, {"email": trust.alice.email, "password": PASSWORD, "device_name": "three"})
    assert third.status_code == 400
    assert "Too many devices" in third.json()["detail"]
