"""Settings come from the environment: production values pass check --deploy, bad values fail at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k7#Qp2!vX9@mL4$wR8^tZ1&bN6*cF3(hJ5)dG0_sA-yE+uI=oP",
    "ALLOWED_HOSTS": "qi.example.nhs.uk",
    "DATABASE_URL": "postgres://qi:secret@db.internal:5432/qi",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "EMAIL_BACKEND": "smtp",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "QI_PATIENT_IDENTIFIER_PATTERNS"}}
    clean["QI_VAR_DIR"] = str(ROOT / "var" / "test-settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_values_pass_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_laptop_defaults_need_no_environment():
    result = manage("check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "notadatabase://x"),
        ("CELERY_BROKER_URL", "http://broker"),
        ("EMAIL_PORT", "twenty-five"),
        ("EMAIL_BACKEND", "pigeon"),
        ("TIME_ZONE", "Europe/Atlantis"),
        ("QI_PATIENT_IDENTIFIER_PATTERNS", '{"hospital number": "[unclosed"}'),
        ("CACHE_URL", "memcached://cache:11211"),
        ("API_THROTTLE_USER", "lots"),
        ("API_TOKEN_IDLE_HOURS", "0"),
        ("API_PAGE_SIZE", "500"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(variable, value):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_production_without_a_secret_key_fails_at_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_without_allowed_hosts_fails_at_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_a_short_secret_key_is_refused():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr
