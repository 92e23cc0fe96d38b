#!/usr/bin/env bash
# The embedded set-up: a Celery worker with beat on the file broker under var/, and the web server.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/log
.venv/bin/celery -A cpts worker --beat --loglevel=INFO --concurrency=2 --without-gossip --without-mingle \
  --schedule var/celerybeat-schedule >var/log/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo "Worker and beat started (log: var/log/worker.log). E-mails are written to var/mail/."
echo "Application: http://127.0.0.1:8000"
.venv/bin/python manage.py runserver 127.0.0.1:8000
