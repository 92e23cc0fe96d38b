"""/healthz: anonymous liveness of the database and broker, and age of the last worker heartbeat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from associations.models import WorkerHeartbeat
from associations.tasks import heartbeat

pytestmark = pytest.mark.django_db

URL = "/healthz"


def test_healthz_with_embedded_broker_and_no_heartbeat_yet(client, settings):
    settings.REDIS_URL = ""
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]  # never served from a cache
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "embedded",
        "worker_last_seen_seconds": None,
    }


def test_healthz_reports_age_of_last_heartbeat(client, settings):
    settings.REDIS_URL = ""
    heartbeat.apply()  # what beat runs every minute (eagerly, in-process)
    assert WorkerHeartbeat.objects.filter(name="worker").exists()

    report = client.get(URL).json()
    age = report["worker_last_seen_seconds"]
    assert isinstance(age, int)
    assert 0 <= age < 5

    WorkerHeartbeat.objects.filter(name="worker").update(last_seen=timezone.now() - timedelta(minutes=10))
    report = client.get(URL).json()
    assert 600 <= report["worker_last_seen_seconds"] < 610
    assert report["status"] == "ok"


def test_heartbeat_updates_a_single_row():
    heartbeat.apply()
    first = WorkerHeartbeat.objects.get(name="worker").last_seen
    heartbeat.apply()
    assert WorkerHeartbeat.objects.filter(name="worker").count() == 1
    assert WorkerHeartbeat.objects.get(name="worker").last_seen >= first


def test_healthz_reports_unreachable_redis_with_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(URL)
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "error"
    assert report["broker"].startswith("error")
    assert report["database"] == "ok"
    assert "127.0.0.1" not in report["broker"]  # only the exception class, no connection details


def test_healthz_refuses_post(client):
    response = client.post(URL)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
