"""Every error the API gives has one JSON shape: status, code, detail, fields."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_parse_error(trust, client_for):
    response = client_for(trust.alice).post("/api/v1/projects/", "{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["fields"] == {}
    assert body["detail"].startswith("JSON parse error")


def test_unknown_object_and_method_not_allowed(trust, client_for, project):
    client = client_for(trust.alice)
    missing = client.get("/api/v1/projects/999999/")
    assert missing.status_code == 404
    assert missing.json() == {"status": 404, "code": "not_found", "detail": "Not found.", "fields": {}}
    put = client.put(f"/api/v1/projects/{project.pk}/", {})
    assert put.status_code == 405
    assert put.json()["code"] == "method_not_allowed"


def test_a_cursor_that_was_tampered_with_is_a_404(trust, client_for):
    response = client_for(trust.alice).get("/api/v1/projects/", {"cursor": "garbage"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
