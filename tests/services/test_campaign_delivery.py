"""Campaign delivery with real components: a Celery worker process (with beat, so the outbox sweep runs)
on the Redis broker and the PostgreSQL database, sending to a real SMTP server on loopback (aiosmtpd).

Run inside scripts/with-services.sh (``make test-services``):

    scripts/with-services.sh .venv/bin/pytest -m "not browser" -q tests/services/test_campaign_delivery.py

The worker is started in its own process group so that ``os.killpg(..., SIGKILL)`` kills it, its pool
children and its embedded beat at once, the way a crashed machine or an OOM kill would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_scopes import scope

from associations.campaigns import services
from associations.models import MailStatus, Member, OutgoingMail, Profession
from cpts.celery import app as celery_app
from tests.factories import AssociationFactory, UserFactory, ensure_professions, set_tariffs
from tests.smtp_server import SMTPTestServer, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

STUCK_SECONDS = 3


@pytest.fixture
def real_services():
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail("These tests need REDIS_URL and a PostgreSQL DATABASE_URL: run them through `make test`.")


class Worker:
    """One `celery worker --beat` process group sending through SMTP to 127.0.0.1:<port>."""

    def __init__(self, tmp_path: Path, smtp_port: int, number: int):
        db = settings.DATABASES["default"]
        env = {
            **os.environ,
            "DEBUG": "1",
            "VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "SITE_URL": "http://cpts.test",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": "10",
            "OUTBOX_STUCK_SECONDS": str(STUCK_SECONDS),
            "OUTBOX_SWEEP_SECONDS": "1",
            "OUTBOX_RETRY_BASE_SECONDS": "1",
        }
        for name in ("EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL", "CELERY_EAGER"):
            env.pop(name, None)
        self.log_path = tmp_path / f"worker-{number}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in kill()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cpts", "worker", "--concurrency", "2", "--without-gossip",
             "--without-mingle", "--loglevel", "INFO", "--beat", "--schedule", str(tmp_path / "beat-schedule")],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole process group (main process, pool children, beat)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def smtp_server(smtp_port):
    server = SMTPTestServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def start_worker(real_services, tmp_path, smtp_port):
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(tmp_path, smtp_port, len(started) + 1)
        started.append(worker)
        return worker

    celery_app.conf.task_always_eager = False  # the test process enqueues to Redis, the worker runs
    try:
        yield start
    finally:
        for worker in started:
            worker.kill()


def wait_for(predicate, timeout=60.0, interval=0.2, worker: Worker | None = None, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not met in {timeout:.0f} s" + (f"\n{worker.log_tail()}" if worker else ""))


def launch(size: int, *, name: str = "CPTS Envoi réel", slug: str = "envoi-reel", emails=None):
    """An association with ``size`` members (distinct addresses) and a launched renewal campaign."""
    association = AssociationFactory(name=name, slug=slug, mail_rate_per_minute=100_000)
    set_tariffs(association)
    ensure_professions()
    coordinator = UserFactory(email=f"coordination@{slug}.example.org")
    emails = emails or [f"ps{number:04d}@exemple.fr" for number in range(size)]
    with scope(association=association):
        profession = Profession.objects.get(code="medecin-generaliste")
        Member.objects.bulk_create([
            Member(association=association, first_name=f"Prénom{number}", last_name=f"Nom{number}", email=email,
                   profession=profession)
            for number, email in enumerate(emails)
        ])
        campaign = services.save_campaign(association, coordinator, {
            "name": "Renouvellement 2025", "kind": "renewal", "audience": {},
            "subject": "Votre adhésion à {association}",
            "body": "Bonjour {prenom},\n\nRenouvelez votre adhésion : {lien_renouvellement}\n\nÀ bientôt.",
        })
        queued = services.launch_campaign(campaign, coordinator)  # send_outbox enqueued on commit (Redis)
    assert queued == len(emails)
    return association


def rows(association) -> list[OutgoingMail]:
    with scope(association=association):
        return list(OutgoingMail.objects.filter(association=association).order_by("id"))


def status_counts(association) -> Counter:
    return Counter(row.status for row in rows(association))


def assert_each_received_once(server: SMTPTestServer, association, expected: set[str]) -> None:
    received = server.recipients()
    doubled = {address: count for address, count in received.items() if count > 1}
    assert not doubled, f"received more than once: {doubled}"
    missing = [(row.to_email, row.status, row.attempts, row.claimed_at, row.sent_at)
               for row in rows(association) if row.to_email in expected - set(received)]
    assert set(received) == expected, f"missing {missing[:10]}, unexpected {sorted(set(received) - expected)[:10]}"
    # The message each recipient got is their own row's (Message-ID written when the row was rendered).
    message_ids = {message.recipients[0]: message.message_id for message in server.messages}
    for row in rows(association):
        if row.to_email in expected:
            assert message_ids[row.to_email] == row.message_id


def test_worker_killed_twice_half_way_sends_each_message_exactly_once(smtp_server, start_worker):
    """SIGKILL at the two moments where a naive outbox loses or doubles a message, chosen by the SMTP
    server itself so that each run tests exactly them: while a message's transaction is open (RCPT sent,
    no DATA yet: the row is claimed, the server will drop the transaction — it must be sent again), and
    once a message has been accepted but before the server's "250" reaches the worker (a worker that marks
    rows after the answer would send this one twice)."""
    workers: list[Worker] = []
    killed: list[str] = []

    def kill_current(moment: str) -> None:
        worker = workers[-1]
        if worker.process.poll() is None:
            os.killpg(worker.process.pid, signal.SIGKILL)
            killed.append(moment)

    smtp_server.before_rcpt_answer = lambda n: kill_current("rcpt") if n == 100 and not killed else None
    smtp_server.before_data_answer = lambda n: kill_current("data") if n == 200 and killed == ["rcpt"] else None
    smtp_server.start()
    workers.append(start_worker())
    association = launch(300)
    expected = {f"ps{number:04d}@exemple.fr" for number in range(300)}

    for moment, received in (("rcpt", 99), ("data", 200)):
        wait_for(lambda moment=moment: moment in killed, timeout=120, interval=0.01, worker=workers[-1],
                 what=f"worker killed at {moment}")
        workers[-1].process.wait(timeout=20)
        assert smtp_server.count == received  # the transaction cut at RCPT was never accepted
        at_kill = status_counts(association)
        print(f"\nkilled at {moment}: {received} received; rows {dict(at_kill)}")
        assert at_kill[MailStatus.SENT] == received  # marked before their final ".", not one more or less
        assert at_kill[MailStatus.SENDING] > 0  # the dead worker's claimed rows, taken back by the sweep
        workers.append(start_worker())

    started = time.monotonic()
    wait_for(lambda: status_counts(association)[MailStatus.SENT] == 300, timeout=120, worker=workers[-1],
             what="every row sent after the restarts")
    print(f"resumed and finished in {time.monotonic() - started:.1f} s; "
          f"{sum(row.attempts > 1 for row in rows(association))} rows were attempted twice")
    time.sleep(1)  # a doubled message would arrive now
    assert status_counts(association) == Counter({MailStatus.SENT: 300})
    assert_each_received_once(smtp_server, association, expected)
    assert smtp_server.count == 300


def test_smtp_server_down_at_launch_rows_wait_then_go_out_once(smtp_server, start_worker):
    worker = start_worker()  # the SMTP server is not listening yet
    association = launch(20)

    def all_waiting():
        current = rows(association)
        return current if all(row.last_error for row in current) else None

    waiting = wait_for(all_waiting, timeout=60, worker=worker, what="every row tried once")
    for row in waiting:
        assert row.status == MailStatus.QUEUED  # nothing lost: not failed, not sent
        assert row.last_error.startswith("Serveur d'e-mails injoignable"), row.last_error
        assert row.attempts >= 1
        assert row.next_attempt_at >= row.claimed_at + timedelta(seconds=1)  # retried later, with backoff
    assert smtp_server.count == 0

    smtp_server.start()
    wait_for(lambda: status_counts(association)[MailStatus.SENT] == 20, timeout=90, worker=worker,
             what="every row sent once the server is back")
    time.sleep(1)
    assert status_counts(association) == Counter({MailStatus.SENT: 20})
    assert all(row.last_error == "" and row.sent_at for row in rows(association))
    assert_each_received_once(smtp_server, association, {f"ps{number:04d}@exemple.fr" for number in range(20)})


def test_recipient_refused_for_good_fails_with_the_server_answer(smtp_server, start_worker):
    refused = "ps0003@exemple.fr"
    smtp_server.reject[refused] = "550 5.1.1 Mailbox unavailable"
    smtp_server.start()
    worker = start_worker()
    association = launch(10)

    wait_for(lambda: status_counts(association)[MailStatus.QUEUED] + status_counts(association)[MailStatus.SENDING]
             == 0, timeout=60, worker=worker, what="every row handled")
    time.sleep(1)
    by_address = {row.to_email: row for row in rows(association)}
    assert by_address[refused].status == MailStatus.FAILED
    assert by_address[refused].last_error == "550 5.1.1 Mailbox unavailable"
    assert by_address[refused].attempts == 1  # a permanent failure is not retried
    assert {row.status for address, row in by_address.items() if address != refused} == {MailStatus.SENT}
    assert_each_received_once(smtp_server, association,
                              {f"ps{number:04d}@exemple.fr" for number in range(10)} - {refused})
