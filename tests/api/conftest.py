"""API test helpers: clients logged in with real device tokens, and the query-count check for lists."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.models import DeviceToken
from qi.models import User


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache: start every test with none."""
    cache.clear()
    yield
    cache.clear()


def token_client(user: User, device_name: str = "test device") -> APIClient:
    """An API client sending a real knox token of the user, as a phone would."""
    _, token = DeviceToken.objects.create(user=user, device_name=device_name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    return token_client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def queries_for(client: APIClient, url: str, **params) -> tuple[int, dict]:
    """Run one GET and return (number of queries, JSON body)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def assert_constant_queries(client: APIClient, url: str, *, at_least: int = 100, **params) -> int:
    """Assert a list runs as many queries for 5 rows a page as for 100, and return that number.

    The caller must have made at least ``at_least`` rows visible at ``url``, so both pages are full.
    """
    small_count, small = queries_for(client, url, page_size=5, **params)
    large_count, large = queries_for(client, url, page_size=100, **params)
    assert len(small["results"]) == 5
    assert len(large["results"]) == min(at_least, 100)
    assert small_count == large_count, f"{url}: {small_count} queries at page size 5, {large_count} at 100"
    return large_count
