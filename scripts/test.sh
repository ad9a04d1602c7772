#!/usr/bin/env bash
# Set up and run the whole test suite. On the embedded defaults (SQLite, file-system broker)
# unless DATABASE_URL and CELERY_BROKER_URL point at PostgreSQL and Redis, as .ci/run does.
# Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh"

.venv/bin/python -m pytest "$@"
