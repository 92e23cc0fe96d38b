"""The outbox sender: each due row sent once, rows no longer wanted cancelled at send time, the rate
limit, SMTP answers (550 → failed, 451 → retried), a server down, the sweep of stuck rows, and a claim
taken over by another worker. The SMTP path runs against an in-process aiosmtpd server on loopback."""

from __future__ import annotations

import email
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import outbox, services
from associations.models import MailKind, MailStatus, MembershipStatus, OutgoingMail
from tests.campaigns.conftest import free_port, make_campaign, make_mail, settle


def send(association, **kwargs) -> outbox.SendReport:
    with scope(association=association):
        return outbox.send_due(association, **kwargs)


def launched(association, actor=None, **kwargs):
    campaign = make_campaign(association, **kwargs)
    with scope(association=association):
        services.launch_campaign(campaign, actor)
    return campaign


def rows(association, **filters) -> list[OutgoingMail]:
    with scope(association=association):
        return list(OutgoingMail.objects.filter(association=association, **filters).select_related("member")
                    .order_by("id"))


def statuses(association) -> dict[str, str]:
    return {row.to_email: row.status for row in rows(association)}


@pytest.fixture
def frozen_clock(monkeypatch):
    """time.time() fixed in the middle of a minute (the rate limit counts per minute); ``advance(s)``."""
    now = [(time.time() // 60) * 60 + 30]
    monkeypatch.setattr(time, "time", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


# --- Non-SMTP back-end (locmem) ----------------------------------------------------------------------


def test_every_due_row_is_sent_once(association, campaign_members):
    launched(association)
    report = send(association)
    assert (report.sent, report.failed, report.retried, report.cancelled) == (3, 0, 0, 0)
    assert report.remaining is False
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@exemple.fr", "bruno@exemple.fr", "msp@exemple.fr"]
    assert set(statuses(association).values()) == {MailStatus.SENT}
    assert all(row.sent_at is not None and row.attempts == 1 and row.claim_token for row in rows(association))
    # A second run (a retried task, a second worker) sends nothing more.
    again = send(association)
    assert again.sent == 0
    assert len(mail.outbox) == 3


def test_rows_not_yet_due_wait(association, campaign_members):
    make_mail(association, campaign_members["alice"], next_attempt_at=timezone.now() + timedelta(minutes=5))
    report = send(association)
    assert report.sent == 0 and mail.outbox == []
    assert report.remaining is True and 200 < report.wait <= 300
    assert statuses(association) == {"alice@exemple.fr": MailStatus.QUEUED}


def test_the_message_carries_the_rendered_row(association, campaign_members):
    launched(association)
    send(association)
    alice = rows(association, to_email="alice@exemple.fr")[0]
    message = next(m for m in mail.outbox if m.to == ["alice@exemple.fr"])
    assert message.subject == alice.subject
    assert message.body == alice.body_text
    assert message.alternatives[0][0] == alice.body_html
    assert message.from_email == "CPTS Alpha <noreply@cpts.localhost>"
    assert message.reply_to == [association.contact_email]
    assert message.extra_headers["Message-ID"] == f"<{alice.uid}.{association.pk}@cpts.localhost>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_opted_out_and_bounced_members_are_cancelled_at_send_time(association, campaign_members):
    launched(association)
    with scope(association=association):
        # Changed behind the services' back (e.g. by another process) after the rows were queued.
        type(campaign_members["alice"]).objects.filter(pk=campaign_members["alice"].pk).update(
            mail_opt_out_at=timezone.now())
        type(campaign_members["bruno"]).objects.filter(pk=campaign_members["bruno"].pk).update(email_invalid=True)
    report = send(association)
    assert (report.sent, report.cancelled) == (1, 2)
    assert [m.to for m in mail.outbox] == [["msp@exemple.fr"]]
    cancelled = rows(association, status=MailStatus.CANCELLED)
    assert {row.to_email for row in cancelled} == {"alice@exemple.fr", "bruno@exemple.fr"}
    assert all(row.last_error == "Désinscrit ou adresse invalide avant l'envoi." for row in cancelled)


def test_departed_members_are_cancelled_at_send_time(association, campaign_members):
    launched(association)
    with scope(association=association):
        type(campaign_members["alice"]).objects.filter(pk=campaign_members["alice"].pk).update(status="struck_off")
    send(association)
    assert rows(association, to_email="alice@exemple.fr")[0].status == MailStatus.CANCELLED
    assert len(mail.outbox) == 2


def test_a_test_row_goes_out_even_for_an_opted_out_member(association, campaign_members):
    make_mail(association, campaign_members["opted_out"], to_email="coordinator@alpha.example.org",
              kind=MailKind.TEST)
    assert send(association).sent == 1


def test_a_reminder_whose_member_renewed_meanwhile_is_cancelled(association, campaign_members):
    end = timezone.localdate() + timedelta(days=30)
    alice, bruno = campaign_members["alice"], campaign_members["bruno"]
    for member in (alice, bruno):
        settle(member, end - timedelta(days=364), end)
        make_mail(association, member, kind=MailKind.REMINDER, reminder_period_end=end, reminder_offset=-30)
    # Alice declared her renewal online (pending payment) after the reminder was queued.
    settle(alice, end + timedelta(days=1), end + timedelta(days=365), status=MembershipStatus.PENDING)
    report = send(association)
    assert (report.sent, report.cancelled) == (1, 1)
    assert statuses(association) == {"alice@exemple.fr": MailStatus.CANCELLED, "bruno@exemple.fr": MailStatus.SENT}
    assert rows(association, to_email="alice@exemple.fr")[0].last_error == "Adhésion renouvelée avant la relance."


def test_rate_limit_per_association(association, other_association, campaign_members, frozen_clock):
    association.mail_rate_per_minute = 5
    association.save()
    for index in range(12):
        make_mail(association, to_email=f"dest{index}@exemple.fr")
    make_mail(other_association, to_email="ailleurs@exemple.fr")
    report = send(association, batch_size=100)
    assert report.sent == 5
    assert report.remaining is True
    assert 0 < report.wait <= 60
    assert len(rows(association, status=MailStatus.QUEUED)) == 7
    # The same minute: nothing more.
    assert send(association).sent == 0
    # The other association has its own limit.
    assert send(other_association).sent == 1
    # The next minute: five more.
    frozen_clock(60)
    assert send(association).sent == 5
    frozen_clock(60)
    last = send(association)
    assert last.sent == 2 and last.remaining is False
    assert len(mail.outbox) == 13


# --- SMTP (aiosmtpd on loopback) ---------------------------------------------------------------------


def received(handler) -> dict[str, email.message.Message]:
    return {envelope.rcpt_tos[0]: email.message_from_bytes(envelope.content) for envelope in handler.messages}


def parts(message: email.message.Message) -> dict[str, str]:
    return {part.get_content_type(): part.get_payload(decode=True).decode().replace("\r\n", "\n")
            for part in message.walk() if not part.is_multipart()}


def test_smtp_sends_every_row_once_with_its_headers(association, campaign_members, smtp_server):
    association.contact_email = "contact@cpts-alpha.fr"
    association.save()
    launched(association)
    report = send(association)
    assert report.sent == 3 and report.errors == []
    messages = received(smtp_server)
    assert set(messages) == {"alice@exemple.fr", "bruno@exemple.fr", "msp@exemple.fr"}
    assert len(smtp_server.messages) == 3
    for row in rows(association):
        message = messages[row.to_email]
        assert row.status == MailStatus.SENT
        assert row.uid in message["Message-ID"]
        assert message["Message-ID"] == row.headers["Message-ID"]
        assert message["From"] == "CPTS Alpha <noreply@cpts.localhost>"
        assert message["Reply-To"] == "contact@cpts-alpha.fr"
        assert message["List-Id"] == f"CPTS Alpha <alpha.{association.pk}.cpts>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert " ".join(message["List-Unsubscribe"].split()) == row.headers["List-Unsubscribe"]
        assert message["Subject"] is not None
        assert parts(message) == {"text/plain": row.body_text, "text/html": row.body_html}
    assert send(association).sent == 0
    assert len(smtp_server.messages) == 3


def test_a_line_starting_with_a_dot_is_not_truncated(association, campaign_members, smtp_server):
    make_mail(association, campaign_members["alice"], body_text="Début\n.\n.fin cachée\nSuite")
    assert send(association).sent == 1
    assert parts(received(smtp_server)["alice@exemple.fr"])["text/plain"] == "Début\n.\n.fin cachée\nSuite"


def test_550_at_rcpt_fails_the_row_with_the_answer(association, campaign_members, smtp_server):
    smtp_server.refuse["bruno@exemple.fr"] = "550 5.1.1 Mailbox unknown"
    launched(association)
    report = send(association)
    assert (report.sent, report.failed) == (2, 1)
    bruno = rows(association, to_email="bruno@exemple.fr")[0]
    assert bruno.status == MailStatus.FAILED
    assert bruno.last_error == "550 5.1.1 Mailbox unknown"
    assert set(received(smtp_server)) == {"alice@exemple.fr", "msp@exemple.fr"}
    assert send(association).sent == 0  # a failed row is not retried


def test_451_at_rcpt_queues_the_row_again_later(association, campaign_members, smtp_server):
    smtp_server.refuse["bruno@exemple.fr"] = "451 4.3.0 Try again later"
    launched(association)
    before = timezone.now()
    report = send(association)
    assert (report.sent, report.retried, report.failed) == (2, 1, 0)
    bruno = rows(association, to_email="bruno@exemple.fr")[0]
    assert bruno.status == MailStatus.QUEUED
    assert bruno.attempts == 1
    assert bruno.last_error == "451 4.3.0 Try again later"
    assert bruno.next_attempt_at >= before + timedelta(seconds=59)
    assert bruno.claim_token == ""
    assert report.remaining is True and report.wait > 0
    # Not due yet: nothing happens; once due and accepted, it goes out once.
    assert send(association).sent == 0
    del smtp_server.refuse["bruno@exemple.fr"]
    with scope(association=association):
        OutgoingMail.objects.filter(pk=bruno.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert send(association).sent == 1
    bruno = rows(association, to_email="bruno@exemple.fr")[0]
    assert bruno.status == MailStatus.SENT and bruno.attempts == 2
    assert len(smtp_server.messages) == 3


def test_backoff_doubles(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 8)] == [60, 120, 240, 3600, 3600]


def test_server_down_keeps_rows_queued_with_a_french_error(association, campaign_members, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nobody listens there
    settings.EMAIL_TIMEOUT = 5
    launched(association)
    report = send(association)
    assert report.sent == 0 and report.retried == 3
    assert report.remaining is True and report.wait > 0
    assert report.errors[0].startswith("Serveur d'e-mails injoignable")
    for row in rows(association):
        assert row.status == MailStatus.QUEUED
        assert row.attempts == 1
        assert row.last_error.startswith("Serveur d'e-mails injoignable")
        assert row.next_attempt_at > timezone.now()


def test_rows_wait_while_the_server_is_down_and_go_out_when_it_is_back(association, campaign_members, settings):
    from aiosmtpd.controller import Controller

    from tests.campaigns.conftest import RecordingHandler

    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    launched(association)
    assert send(association).retried == 3
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with scope(association=association):
            OutgoingMail.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert send(association).sent == 3
    finally:
        controller.stop()
    assert len(handler.messages) == 3
    assert set(statuses(association).values()) == {MailStatus.SENT}


def test_max_attempts_reached_fails_the_row(association, campaign_members, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    last_try = make_mail(association, campaign_members["alice"], attempts=outbox.MAX_ATTEMPTS - 1)
    early = make_mail(association, campaign_members["bruno"], attempts=1)
    send(association)
    last_try.refresh_from_db()
    early.refresh_from_db()
    assert last_try.status == MailStatus.FAILED
    assert last_try.attempts == outbox.MAX_ATTEMPTS
    assert last_try.last_error.startswith(f"Abandon après {outbox.MAX_ATTEMPTS} tentatives : Serveur d'e-mails")
    assert early.status == MailStatus.QUEUED and early.attempts == 2


def test_requeue_stuck_takes_back_old_claims_only(association, campaign_members, settings):
    settings.OUTBOX_STUCK_SECONDS = 600
    now = timezone.now()
    stuck = make_mail(association, campaign_members["alice"], status=MailStatus.SENDING, claim_token="dead",
                      claimed_at=now - timedelta(seconds=601), attempts=1)
    fresh = make_mail(association, campaign_members["bruno"], status=MailStatus.SENDING, claim_token="alive",
                      claimed_at=now - timedelta(seconds=30), attempts=1)
    sent = make_mail(association, campaign_members["msp"], status=MailStatus.SENT, claim_token="done",
                     claimed_at=now - timedelta(hours=2))
    with scope(association=association):
        assert outbox.requeue_stuck(association, now=now) == 1
    for row in (stuck, fresh, sent):
        row.refresh_from_db()
    assert stuck.status == MailStatus.QUEUED and stuck.claim_token == "" and stuck.next_attempt_at == now
    assert "remis en file" in stuck.last_error
    assert fresh.status == MailStatus.SENDING and fresh.claim_token == "alive"
    assert sent.status == MailStatus.SENT
    # The requeued row then goes out once.
    assert send(association).sent == 1
    assert [m.to for m in mail.outbox] == [["alice@exemple.fr"]]


def test_a_claim_taken_over_is_not_marked_sent_and_the_message_is_not_delivered(association, campaign_members,
                                                                                 smtp_server):
    row = make_mail(association, campaign_members["alice"])
    with scope(association=association):
        token, claimed = outbox.claim(association, 10)
        assert [r.pk for r in claimed] == [row.pk]
        # Meanwhile the sweep took the row back and another worker claimed it.
        OutgoingMail.objects.filter(pk=row.pk).update(claim_token="other-worker")
        report = outbox.SendReport()
        outbox._deliver_batch(claimed, token, report)
    row.refresh_from_db()
    assert report.sent == 0 and report.retried == 1
    assert row.status == MailStatus.SENDING and row.claim_token == "other-worker"  # untouched by the old claim
    assert row.sent_at is None
    time.sleep(0.2)  # let the server notice the connection closed without the final dot
    assert smtp_server.messages == []


def test_a_connection_lost_after_the_final_dot_does_not_send_twice(association, campaign_members, smtp_server):
    original = smtp_server.handle_DATA

    async def accept_then_hang_up(server, session, envelope):
        await original(server, session, envelope)
        server.transport.close()  # the message is accepted; the answer never reaches the sender
        return "250 OK"

    smtp_server.handle_DATA = accept_then_hang_up
    row = make_mail(association, campaign_members["alice"])
    send(association)
    assert len(smtp_server.messages) == 1
    row.refresh_from_db()
    # The row was marked sent before the dot: it must stay so (at worst noted as uncertain), never be requeued.
    assert row.status == MailStatus.SENT


def test_mark_sent_with_an_old_token_does_nothing(association, campaign_members):
    row = make_mail(association, campaign_members["alice"])
    with scope(association=association):
        token, (claimed,) = outbox.claim(association, 10)
        OutgoingMail.objects.filter(pk=row.pk).update(claim_token="new")
        assert outbox._mark_sent(claimed, token) is False
        assert outbox._mark_sent(claimed, "new") is True
    row.refresh_from_db()
    assert row.status == MailStatus.SENT


def test_claim_is_exclusive(association, campaign_members):
    for member in ("alice", "bruno", "msp"):
        make_mail(association, campaign_members[member])
    with scope(association=association):
        first_token, first = outbox.claim(association, 2)
        second_token, second = outbox.claim(association, 10)
        third_token, third = outbox.claim(association, 10)
    assert len(first) == 2 and len(second) == 1 and third == []
    assert {r.pk for r in first}.isdisjoint({r.pk for r in second})
    assert all(r.status == MailStatus.SENDING and r.attempts == 1 for r in first + second)


def test_only_the_associations_own_rows_are_sent(association, other_association, campaign_members):
    make_mail(association, campaign_members["alice"])
    make_mail(other_association, campaign_members["foreign"])
    assert send(association).sent == 1
    assert [m.to for m in mail.outbox] == [["alice@exemple.fr"]]
    assert rows(other_association)[0].status == MailStatus.QUEUED



# --- Through the Celery tasks (eager) --------------------------------------------------------------


def test_launch_sends_after_commit_through_the_task(association, campaign_members,
                                                    django_capture_on_commit_callbacks):
    campaign = make_campaign(association)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, scope(association=association):
        services.launch_campaign(campaign, None)
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert len(mail.outbox) == 3
    assert set(statuses(association).values()) == {MailStatus.SENT}


def test_sweep_requeues_a_dead_workers_rows_and_sends_them(association, campaign_members, settings):
    from associations.campaigns.tasks import sweep_association

    settings.OUTBOX_STUCK_SECONDS = 600
    make_mail(association, campaign_members["alice"], status=MailStatus.SENDING, claim_token="dead",
              claimed_at=timezone.now() - timedelta(hours=1), attempts=1)
    result = sweep_association.delay(association.pk).get()
    assert result == {"requeued": 1, "launched": 0}
    assert [m.to for m in mail.outbox] == [["alice@exemple.fr"]]
    (row,) = rows(association)
    assert row.status == MailStatus.SENT and row.attempts == 2
