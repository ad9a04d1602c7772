"""The OpenAPI schema: generated without a single warning, valid OpenAPI 3, served with its two viewers."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    path = tmp_path / "schema.yml"
    # --fail-on-warn turns every drf-spectacular warning (an undescribed field, parameter or response)
    # into an error; --validate checks the result against the OpenAPI 3 JSON schema.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    assert schema["openapi"].startswith("3.")
    operations = [
        (route, method, operation)
        for route, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]
    assert len(operations) > 20
    undescribed = [f"{method.upper()} {route}" for route, method, op in operations if not op.get("summary")]
    assert undescribed == [], "every operation needs a summary"
    assert "knoxApiToken" in schema["components"]["securitySchemes"]


def test_schema_and_viewers_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    for viewer in ("/api/docs/", "/api/redoc/"):
        page = client.get(viewer)
        assert page.status_code == 200
        assert b"cdn.jsdelivr" not in page.content  # assets come from our own static files
