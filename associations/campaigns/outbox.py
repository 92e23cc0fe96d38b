"""Sending the outbox: claimed in batches, one SMTP connection per batch, a per-association rate limit,
retries with backoff, permanent failures recorded with the server's answer.

Never twice. A row is marked *sent* in the database after the message's content has been written to
the SMTP server but **before** the final ``.`` that ends the DATA command. A server discards a message
whose DATA never ended (RFC 5321 §4.1.1.4), so:

* a worker killed before that commit leaves the row claimed; the sweep puts it back in the queue and
  the server never had it: sending it again cannot double it;
* a worker killed after it leaves the row *sent*, and the ``.`` is the next thing written to the socket,
  so the server has the message.

What remains is the few microseconds between the commit and writing ``.``: a crash exactly there loses
one message while it shows as sent (it cannot double it). A row whose claim was taken back by the sweep
(its worker looked dead) is not marked sent by the old worker, which then abandons that message before
its ``.``. With the non-SMTP back-ends of development (files, console, memory) the row is marked then
handed to the back-end.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from associations.campaigns.models import MailKind, MailStatus, OutgoingMail
from associations.membership.models import Membership, MembershipStatus, MemberStatus
from associations.models import Association

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    """Backoff after ``attempts`` failed tries: base × 2^(n-1), at most an hour."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


class Transient(Exception):
    """Try again later (server busy, connection lost, 4xx answer)."""


class Permanent(Exception):
    """The server refused this message for good (5xx answer)."""


class ConnectionLost(Transient):
    """The connection itself is gone: the rest of the batch waits too."""


def _answer(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def _classify(code: int, message: bytes | str) -> Exception:
    answer = _answer(code, message)
    return Permanent(answer) if 500 <= code < 600 else Transient(answer)


_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


def smtp_send(conn: smtplib.SMTP, from_addr: str, to_addr: str, data: bytes,
              before_end: Callable[[], bool]) -> str:
    """One SMTP transaction on an open connection; ``before_end`` runs after the content and before the
    final ``.``: when it returns False the transaction is abandoned (the connection is closed unfinished)."""
    try:
        conn.ehlo_or_helo_if_needed()
        code, reply = conn.mail(from_addr)
        if code != 250:
            conn.rset()
            raise _classify(code, reply)
        code, reply = conn.rcpt(to_addr)
        if code not in (250, 251):
            conn.rset()
            raise _classify(code, reply)
        code, reply = conn.docmd("DATA")
        if code != 354:
            conn.rset()
            raise _classify(code, reply)
        content = _DOT_AT_LINE_START.sub(b"..", data)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        conn.send(content)
        if not before_end():
            conn.close()  # no final dot: the server drops the message
            raise ConnectionLost("Envoi abandonné : la ligne a été reprise par une autre tâche.")
        conn.send(b".\r\n")
        code, reply = conn.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as error:
        raise ConnectionLost(f"Connexion au serveur d'e-mails perdue : {error}") from None
    if code != 250:
        raise _classify(code, reply)
    return _answer(code, reply)


def build_message(row: OutgoingMail) -> EmailMultiAlternatives:
    headers = dict(row.headers)
    from_email = headers.pop("From", settings.DEFAULT_FROM_EMAIL)
    reply_to = headers.pop("Reply-To", "")
    message = EmailMultiAlternatives(subject=row.subject, body=row.body_text, from_email=from_email,
                                     to=[row.to_email], reply_to=[reply_to] if reply_to else None, headers=headers)
    message.attach_alternative(row.body_html, "text/html")
    return message


# --- Rate limit -------------------------------------------------------------------------------------


def reserve(association: Association, wanted: int, now: float | None = None) -> tuple[int, float]:
    """How many messages the association may send now (fixed one-minute window shared by every worker
    through the cache), and the seconds until the next window."""
    limit = association.mail_rate_per_minute
    now = time.time() if now is None else now
    wait = 60 - now % 60
    if not limit:
        return wanted, wait
    key = f"outbox-rate:{association.pk}:{int(now // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key, wanted)
    except ValueError:  # the key expired between add and incr
        cache.set(key, wanted, timeout=120)
        used = wanted
    granted = max(0, min(wanted, limit - (used - wanted)))
    if granted < wanted:
        cache.decr(key, wanted - granted)
    return granted, wait


def give_back(association: Association, count: int, now: float | None = None) -> None:
    if count and association.mail_rate_per_minute:
        now = time.time() if now is None else now
        with contextlib.suppress(ValueError):
            cache.decr(f"outbox-rate:{association.pk}:{int(now // 60)}", count)


# --- Claiming and sending ---------------------------------------------------------------------------


def due_rows(association: Association, now: datetime | None = None):
    return OutgoingMail.objects.filter(association=association, status=MailStatus.QUEUED,
                                       next_attempt_at__lte=now or timezone.now())


def claim(association: Association, limit: int) -> tuple[str, list[OutgoingMail]]:
    """Take up to ``limit`` due rows for this worker (``sending``, with a claim token)."""
    token = secrets.token_hex(8)
    now = timezone.now()
    with transaction.atomic():
        queryset = due_rows(association, now).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            queryset = queryset.select_for_update(skip_locked=True)
        ids = list(queryset.values_list("id", flat=True)[:limit])
        if ids:
            OutgoingMail.objects.filter(id__in=ids, status=MailStatus.QUEUED).update(
                status=MailStatus.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1)
    rows = list(OutgoingMail.objects.filter(association=association, claim_token=token,
                                            status=MailStatus.SENDING).order_by("id")) if ids else []
    return token, rows


def _mark_sent(row: OutgoingMail, token: str) -> bool:
    return OutgoingMail.objects.filter(pk=row.pk, claim_token=token, status=MailStatus.SENDING).update(
        status=MailStatus.SENT, sent_at=timezone.now(), last_error="") == 1


def _release(rows: list[OutgoingMail], token: str, error: str) -> None:
    """Back to the queue with backoff (or failed after MAX_ATTEMPTS)."""
    now = timezone.now()
    for row in rows:
        if row.attempts >= MAX_ATTEMPTS:
            update = {"status": MailStatus.FAILED, "last_error": f"Abandon après {row.attempts} tentatives : {error}"}
        else:
            update = {"status": MailStatus.QUEUED, "next_attempt_at": now + retry_delay(row.attempts),
                      "last_error": error}
        OutgoingMail.objects.filter(pk=row.pk, claim_token=token).update(claim_token="", **update)


def _fail(row: OutgoingMail, token: str, answer: str) -> None:
    OutgoingMail.objects.filter(pk=row.pk, claim_token=token).update(
        status=MailStatus.FAILED, last_error=answer, claim_token="")


def _cancel(row: OutgoingMail, token: str, reason: str) -> None:
    OutgoingMail.objects.filter(pk=row.pk, claim_token=token).update(
        status=MailStatus.CANCELLED, last_error=reason, claim_token="")


def _no_longer_wanted(rows: list[OutgoingMail]) -> dict[int, str]:
    """Rows that must not go out any more (checked at send time, two queries per batch): the member
    unsubscribed, their address bounced, they left; a reminder whose member has renewed meanwhile."""
    from associations.membership.models import Member

    member_ids = {row.member_id for row in rows if row.member_id and row.kind != MailKind.TEST}
    if not member_ids:
        return {}
    reasons = {}
    for member in Member.objects.filter(pk__in=member_ids).only(
            "id", "mail_opt_out_at", "email_invalid", "status", "anonymized_at"):
        if member.mail_opt_out_at or member.email_invalid or member.anonymized_at:
            reasons[member.pk] = "Désinscrit ou adresse invalide avant l'envoi."
        elif member.status in (MemberStatus.RESIGNED, MemberStatus.STRUCK_OFF):
            reasons[member.pk] = "Adhérent parti avant l'envoi."
    reminders = [row for row in rows if row.kind == MailKind.REMINDER and row.member_id not in reasons]
    if reminders:
        oldest = min(row.reminder_period_end for row in reminders)
        renewed = Membership.objects.filter(
            member_id__in={row.member_id for row in reminders}, end_date__gt=oldest,
            status__in=[MembershipStatus.PAID, MembershipStatus.EXEMPT, MembershipStatus.PENDING],
        ).values_list("member_id", "end_date")
        latest: dict[int, object] = {}
        for member_id, end in renewed:
            latest[member_id] = max(end, latest.get(member_id, end))
        for row in reminders:
            if row.member_id in latest and latest[row.member_id] > row.reminder_period_end:
                reasons[row.member_id] = "Adhésion renouvelée avant la relance."
    return {row.pk: reasons[row.member_id] for row in rows if row.member_id in reasons}


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    remaining: bool = False        # due rows are left (time budget or rate limit reached)
    wait: float = 0.0              # seconds before trying again
    errors: list[str] = field(default_factory=list)


def _deliver_batch(rows: list[OutgoingMail], token: str, report: SendReport) -> None:
    skipped = _no_longer_wanted(rows)
    backend = get_connection()
    smtp = isinstance(backend, SMTPBackend)
    try:
        backend.open()
    except (OSError, smtplib.SMTPException) as error:
        message = f"Serveur d'e-mails injoignable : {error}"
        _release(rows, token, message)
        report.retried += len(rows)
        report.errors.append(message)
        return
    try:
        for index, row in enumerate(rows):
            if row.pk in skipped:
                _cancel(row, token, skipped[row.pk])
                report.cancelled += 1
                continue
            message = build_message(row)
            try:
                if smtp:
                    from_addr = sanitize_address(message.from_email, message.encoding or settings.DEFAULT_CHARSET)
                    to_addr = sanitize_address(row.to_email, message.encoding or settings.DEFAULT_CHARSET)
                    smtp_send(backend.connection, from_addr, to_addr, message.message().as_bytes(linesep="\r\n"),
                              lambda row=row: _mark_sent(row, token))
                else:
                    if _mark_sent(row, token):
                        backend.send_messages([message])
                report.sent += 1
            except Permanent as error:
                _fail(row, token, str(error))
                report.failed += 1
            except ConnectionLost as error:
                _release(rows[index:], token, str(error))
                report.retried += len(rows) - index
                report.errors.append(str(error))
                return
            except Transient as error:
                _release([row], token, str(error))
                report.retried += 1
    finally:
        try:
            backend.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must not hide the report
            logger.debug("closing the SMTP connection failed", exc_info=True)


def send_due(association: Association, *, budget_seconds: float = 50.0, batch_size: int = BATCH_SIZE) -> SendReport:
    """Send due rows in batches until none is left, the rate limit is reached or the time budget is spent."""
    report = SendReport()
    started = time.monotonic()
    relaxed = _relax_commit()
    try:
        while True:
            if time.monotonic() - started > budget_seconds:
                report.remaining = due_rows(association).exists()
                report.wait = 0
                break
            granted, wait = reserve(association, batch_size)
            if granted == 0:
                report.remaining = due_rows(association).exists()
                report.wait = wait
                break
            token, rows = claim(association, granted)
            give_back(association, granted - len(rows))
            if not rows:
                break
            _deliver_batch(rows, token, report)
            if report.errors and report.retried:
                # The server is unreachable: stop here, the rows wait for their next attempt.
                report.remaining = True
                report.wait = settings.OUTBOX_RETRY_BASE_SECONDS
                break
    finally:
        if relaxed:
            _restore_commit()
    if not report.remaining:
        later = (OutgoingMail.objects.filter(association=association, status=MailStatus.QUEUED)
                 .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())
        if later is not None:
            report.remaining = True
            report.wait = max((later - timezone.now()).total_seconds(), 1.0)
    return report


def _relax_commit() -> bool:
    """PostgreSQL: the per-message commits need not wait for the disk (a worker crash loses nothing:
    the commit is visible once acknowledged; only a database crash could forget the last marks)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    return True


def _restore_commit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO DEFAULT")


# --- Sweep ---------------------------------------------------------------------------------------


def requeue_stuck(association: Association, now: datetime | None = None) -> int:
    """Rows claimed by a worker that died: back to the queue (their message never ended, see above)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_STUCK_SECONDS)
    return OutgoingMail.objects.filter(association=association, status=MailStatus.SENDING).filter(
        Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True)
    ).update(status=MailStatus.QUEUED, claim_token="", next_attempt_at=now,
             last_error="Envoi interrompu (travailleur arrêté) : remis en file.")
