"""Benchmark: sending a 5 000-recipient campaign through the outbox to a loopback SMTP server, against a
plain smtplib loop sending the same messages over one connection (the limit).

    DEBUG=1 .venv/bin/python bench/campaign_send.py [--rows 5000] [--server process|thread] [--profile]

Builds a throwaway SQLite database in a temporary folder (or, when DATABASE_URL is set, a ``test_<name>``
database next to it, dropped at the end), one association of ``--rows`` members and a launched renewal
campaign (one rendered outbox row per member). Starts an aiosmtpd server on loopback (tests/smtp_server.py),
by default in a separate process so that it does not take the sender's CPU. Then:

- outbox: ``outbox.send_due`` in a loop in this process, exactly the body of the ``send_outbox`` task
  (claims of 100 rows, rate-limit reservation, one SMTP connection per batch, the row marked sent before
  each final "."), with the settings EMAIL_HOST/EMAIL_PORT pointing at the loopback server;
- limit: the same messages, built beforehand (not timed), sent with ``smtplib.SMTP.sendmail`` in a loop
  over one connection.

Prints rows, seconds, messages per second of each and their ratio (goal: at least 0.5), and checks with
the server that every recipient got exactly one message. ``--profile`` prints the cProfile of the
outbox run. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class ServerProcess:
    """tests/smtp_server.py run as a separate process, driven through its stdin."""

    def __init__(self, port: int):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.smtp_server", "--port", str(port)], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")

    def ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def stats(self) -> dict:
        return json.loads(self.ask("stats"))

    def reset(self) -> None:
        self.ask("reset")

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


class ServerThread:
    def __init__(self, port: int):
        from tests.smtp_server import SMTPTestServer

        self.server = SMTPTestServer(port, keep=False).start()

    def stats(self) -> dict:
        recipients = self.server.recipients()
        return {"count": self.server.count, "recipients": len(recipients),
                "doubled": sum(1 for n in recipients.values() if n > 1)}

    def reset(self) -> None:
        self.server.reset()

    def stop(self) -> None:
        self.server.stop()


def wait_received(server, count: int, timeout: float = 30.0) -> dict:
    """The server counts a message once it handled its final "."; the last ones may still be in flight."""
    deadline = time.monotonic() + timeout
    stats = server.stats()
    while stats["count"] < count and time.monotonic() < deadline:
        time.sleep(0.05)
        stats = server.stats()
    return stats


def configure(port: int) -> tuple[str, bool]:
    tmp = tempfile.mkdtemp(prefix="cpts-bench-send-")
    os.environ.setdefault("DEBUG", "1")
    os.environ["VAR_DIR"] = tmp
    os.environ["REDIS_URL"] = ""
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(port)
    for name in ("EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL"):
        os.environ.pop(name, None)
    on_server = bool(os.environ.get("DATABASE_URL"))
    if not on_server:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpts.settings")
    import django

    django.setup()
    return tmp, on_server


def build(rows: int):
    """One association, ``rows`` members with distinct addresses, a launched campaign (rows rendered)."""
    from unittest import mock

    from django_scopes import scope

    from associations.campaigns import services
    from associations.models import Association, Member, Profession, User
    from tests.factories import set_tariffs

    association = Association.objects.create(name="CPTS Banc d'envoi", slug="banc-envoi", population=120_000,
                                             contact_email="contact@banc-envoi.example.org",
                                             mail_rate_per_minute=0)  # no limit: measure the sender
    set_tariffs(association)
    actor = User.objects.create_user("coordination@banc-envoi.example.org", "x")
    with scope(association=association):
        profession = Profession.objects.get(code="medecin-generaliste")
        Member.objects.bulk_create([
            Member(association=association, first_name=f"Prénom{n}", last_name=f"Nom{n}", profession=profession,
                   email=f"ps{n:05d}@exemple-sante.fr") for n in range(rows)
        ], batch_size=1000)
        campaign = services.save_campaign(association, actor, {
            "name": "Renouvellement", "kind": "renewal", "audience": {},
            "subject": "Votre adhésion {association} : {montant}",
            "body": "Bonjour {prenom} {nom},\n\nVotre adhésion arrive à échéance. **Renouvelez en ligne** : "
                    "{lien_renouvellement}\n\nMontant : {montant}.\n\nMerci de votre engagement,\nLa coordination",
        })
        started = time.perf_counter()
        with mock.patch.object(services, "enqueue_sending"):  # this process sends, no worker
            queued = services.launch_campaign(campaign, actor)
        print(f"launch: {queued} rows rendered and queued in {time.perf_counter() - started:.1f} s")
    return association


def send_outbox(association) -> tuple[float, int]:
    """What the send_outbox task does, until the queue is empty (its own re-enqueueing becomes the loop)."""
    from associations.campaigns.outbox import send_due

    sent = 0
    started = time.perf_counter()
    while True:
        report = send_due(association, budget_seconds=3600)
        sent += report.sent
        if report.errors:
            print("  errors:", report.errors[:3])
        if not report.remaining:
            break
        time.sleep(min(report.wait, 1))
    return time.perf_counter() - started, sent


def plain_loop(messages: list[tuple[str, str, bytes]], port: int) -> float:
    import smtplib

    started = time.perf_counter()
    connection = smtplib.SMTP("127.0.0.1", port)
    for from_addr, to_addr, data in messages:
        connection.sendmail(from_addr, [to_addr], data)
    connection.quit()
    return time.perf_counter() - started


def prebuilt(association) -> list[tuple[str, str, bytes]]:
    from django.conf import settings
    from django.core.mail.message import sanitize_address
    from django_scopes import scope

    from associations.campaigns.outbox import build_message
    from associations.models import OutgoingMail

    messages = []
    with scope(association=association):
        for row in OutgoingMail.objects.filter(association=association).order_by("id"):
            message = build_message(row)
            messages.append((sanitize_address(message.from_email, settings.DEFAULT_CHARSET), row.to_email,
                             message.message().as_bytes(linesep="\r\n")))
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--server", choices=["process", "thread"], default="process",
                        help="aiosmtpd in a separate process (default) or in a thread of this process")
    parser.add_argument("--profile", action="store_true", help="cProfile of the outbox run")
    parser.add_argument("--sort", default="tottime", help="cProfile order with --profile (tottime, cumulative)")
    parser.add_argument("--top", type=int, default=25, help="functions listed with --profile")
    args = parser.parse_args()

    from tests.smtp_server import free_port

    port = free_port()
    tmp, on_server = configure(port)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django_scopes import scope

    settings.DEBUG = False  # like a production worker: no query log
    old_name = None
    server = ServerProcess(port) if args.server == "process" else ServerThread(port)
    try:
        if on_server:  # never touch the real database: a test_<name> copy, dropped at the end
            old_name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        else:
            call_command("migrate", verbosity=0)
        print(f"database: {connection.vendor}; SMTP server: aiosmtpd on 127.0.0.1:{port}, "
              f"{'separate process' if args.server == 'process' else 'thread of this process'}")
        association = build(args.rows)

        with scope(association=association):
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            seconds, sent = send_outbox(association)
            if profiler:
                profiler.disable()
        stats = wait_received(server, sent)
        outbox_rate = sent / seconds
        print(f"outbox: {sent} rows sent in {seconds:.2f} s = {outbox_rate:.0f} msg/s; server received "
              f"{stats['count']} messages for {stats['recipients']} recipients, {stats['doubled']} doubled")

        messages = prebuilt(association)
        server.reset()
        baseline_seconds = plain_loop(messages, port)
        stats = wait_received(server, len(messages))
        baseline_rate = len(messages) / baseline_seconds
        print(f"limit (smtplib loop, one connection, pre-built messages): {len(messages)} in "
              f"{baseline_seconds:.2f} s = {baseline_rate:.0f} msg/s; server received {stats['count']}")
        print(f"\n{'rows':>6} {'seconds':>8} {'msg/s':>7} {'limit msg/s':>12} {'ratio':>6}")
        print(f"{sent:>6} {seconds:>8.2f} {outbox_rate:>7.0f} {baseline_rate:>12.0f} "
              f"{outbox_rate / baseline_rate:>6.2f}   (goal: ratio >= 0.5)")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
    finally:
        server.stop()
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        connection.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
