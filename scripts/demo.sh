#!/usr/bin/env bash
# Set up and run the QI tracker with demo data on the embedded defaults: a SQLite file,
# a Celery broker on the file system and e-mails written to var/mail. Nothing to install
# but Python. Serves http://127.0.0.1:8000 with a Celery worker and beat; Ctrl-C stops all.
source "$(dirname "$0")/_venv.sh"

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo

mkdir -p var/log
.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
worker=$!
.venv/bin/celery -A config beat --loglevel=INFO >var/log/beat.log 2>&1 &
beat=$!
trap 'kill $worker $beat 2>/dev/null; wait $worker $beat 2>/dev/null' EXIT INT TERM
echo "Celery worker (pid $worker) and beat (pid $beat) are running; logs in var/log/."
echo "Open http://127.0.0.1:8000 and sign in with one of the demo logins above."

.venv/bin/python manage.py runserver 127.0.0.1:8000
