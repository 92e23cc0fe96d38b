"""Real components: a Celery worker process on the Redis broker and the PostgreSQL database.

Run by `make test` inside scripts/with-services.sh (REDIS_URL and DATABASE_URL point at throwaway
servers on loopback); deselected from the SQLite run with ``-m "not services"``.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_scopes import scope

from associations import services
from associations.models import Invitation, Role, WorkerHeartbeat
from cpts.celery import app as celery_app
from tests.factories import AssociationFactory, UserFactory, grant

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_services():
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail("These tests need REDIS_URL and a PostgreSQL DATABASE_URL: run them through `make test`.")


@pytest.fixture
def worker(real_services, tmp_path):
    """A real worker process, using the test database and writing e-mails under tmp_path/var/mail."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DEBUG": "1",
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "SITE_URL": "http://cpts.test",
    }
    env.pop("EMAIL_HOST", None)
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cpts", "worker", "--concurrency", "2", "--without-gossip",
         "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield tmp_path / "var" / "mail"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_worker_sends_invitation_through_redis(worker):
    association = AssociationFactory(name="CPTS Réelle", slug="reelle")
    coordinator = UserFactory(email="coord@reelle.example.org")
    grant(coordinator, association, Role.COORDINATOR)
    with scope(association=association):
        invitation = services.invite(association, coordinator, "recrue@example.org", Role.VIEWER)
    mail_dir = worker
    files = wait_for(lambda: list(mail_dir.glob("*.log")) if mail_dir.exists() else [])
    message = email.message_from_bytes(files[0].read_bytes())
    assert message["To"] == "recrue@example.org"
    assert "CPTS" in message["From"]
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(
        decode=True).decode()
    assert "http://cpts.test/invitation/" in body
    with scope(association=association):
        wait_for(lambda: Invitation.objects.get(pk=invitation.pk).sent_at is not None)
    # The worker announced itself on start.
    assert wait_for(lambda: WorkerHeartbeat.objects.filter(name="worker").exists())


def test_healthz_reports_redis_broker(client, real_services):
    report = client.get("/healthz").json()
    assert report["database"] == "ok" and report["broker"] == "ok"
