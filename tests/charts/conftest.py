"""Fixtures shared by the chart tests: a team's percentage measure on an active project."""

from __future__ import annotations

import pytest

from qi import services
from qi.models import Measure


@pytest.fixture
def measure(active_project, trust) -> Measure:
    return services.measure_create(
        actor=trust.alice,
        project=active_project,
        name="ECG within 10 minutes",
        operational_definition="Chest pain attendances with an ECG within 10 minutes / all, weekly.",
        better="up",
        unit="%",
    )
