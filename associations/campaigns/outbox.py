"""Sending the outbox: claimed in batches, one SMTP connection per batch, a per-association rate limit,
retries with backoff, permanent failures recorded with the server's answer.

Never twice. A row is marked *sent* in the database after the message's content has been written to
the SMTP server but **before** the final ``.`` that ends the DATA command. A server discards a message
whose DATA never ended (RFC 5321 §4.1.1.4), so:

* a worker killed before that commit leaves the row claimed; the sweep puts it back in the queue and
  the server never had it: sending it again cannot double it;
* a worker killed after it leaves the row *sent*, and the ``.`` is the next thing written to the socket,
  so the server has the message.

What remains is the time between the database committing the mark and the worker writing ``.``: a crash
exactly there loses one message while it shows as sent (it cannot double it). With a synchronous UPDATE
that gap is a database round trip plus the worker being scheduled again: about 0.2 ms idle, up to 20 ms
under load (measured on PostgreSQL on loopback), and a SIGKILL timed on the SMTP server's progress landed
in it in about one run in five. On PostgreSQL the mark is therefore pipelined (``_PipelinedMark``): the
UPDATE is handed to the database without waiting and the ``.`` is written right after, so the gap is two
consecutive system calls (the same random kill then lost one message in 24 runs, and never doubled one).
tests/services/test_campaign_delivery.py kills the worker at the two moments the server can name
(transaction open at RCPT; message accepted, answer not yet sent) and expects exactly one copy each.
A row whose claim was taken back by the sweep (its worker looked dead) is not marked sent by the old
worker, which then abandons that message before its ``.`` (on PostgreSQL, where the answer comes after the
``.``, that case is logged; claims are refreshed during a batch so that a live worker keeps its rows).
With the non-SMTP back-ends of development (files, console, memory) the row is marked then handed to the
back-end.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import secrets
import select
import smtplib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from psycopg import pq

from associations.campaigns import mime
from associations.models import (
    Association,
    MailKind,
    MailStatus,
    Membership,
    MembershipStatus,
    MemberStatus,
    OutgoingMail,
)

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


class EndNotWritten(ConnectionLost):
    """The row was marked sent but the final ``.`` could not be written: the server dropped the message."""


def _answer(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def _classify(code: int, message: bytes | str) -> Exception:
    answer = _answer(code, message)
    return Permanent(answer) if 500 <= code < 600 else Transient(answer)


_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


def smtp_send(conn: smtplib.SMTP, from_addr: str, to_addr: str, data: bytes,
              before_end: Callable[[], bool], while_waiting: Callable[[], None] | None = None) -> str:
    """One SMTP transaction on an open connection; ``before_end`` runs after the content and before the
    final ``.``: when it returns False the transaction is abandoned (the connection is closed unfinished).
    ``while_waiting`` runs after the ``.`` is written, while the server handles the message (the sender
    prepares the next message meanwhile instead of waiting idle); it must not raise."""
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
        try:
            conn.send(b".\r\n")
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise EndNotWritten(f"Connexion au serveur d'e-mails perdue : {error}") from None
        if while_waiting is not None:
            while_waiting()
        code, reply = conn.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as error:
        raise ConnectionLost(f"Connexion au serveur d'e-mails perdue : {error}") from None
    if code != 250:
        raise _classify(code, reply)
    return _answer(code, reply)


def _no_delay(conn: smtplib.SMTP) -> None:
    """Send each write at once. The final ``.`` is written apart from the content (the row is marked sent in
    between): with Nagle's algorithm it would wait for the server to acknowledge the content, which the
    server delays (delayed ACK, 40 ms on Linux) as it has nothing to answer before the ``.``."""
    sock = getattr(conn, "sock", None)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


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


_MARK_SQL = "UPDATE {t} SET {s} = %s, {d} = %s, {e} = '' WHERE {i} = %s AND {a} = %s AND {c} = %s AND {s} = %s"


@functools.cache
def _mark_sql() -> str:
    quote = connection.ops.quote_name  # our own table and columns: no outside input in this statement
    return _MARK_SQL.format(t=quote(OutgoingMail._meta.db_table), s=quote("status"), d=quote("sent_at"),
                            e=quote("last_error"), i=quote("id"), a=quote("association_id"), c=quote("claim_token"))


def _mark_sent(row: OutgoingMail, token: str) -> bool:
    """The row is sent, if it is still ours. Once per message: one prepared UPDATE, not an ORM query
    (building the query cost as much as running it). It names the association like a scoped query."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_mark_sql(), [MailStatus.SENT.value, now, row.pk, row.association_id, token,
                                     MailStatus.SENDING.value])
        return cursor.rowcount == 1


class _PipelinedMark:
    """PostgreSQL: the UPDATE that marks a row sent is handed to the database without waiting for its
    answer, the final ``.`` is written right after, and the answer is read while the SMTP server handles
    the message. Both writes leave the process back to back: once the query is in the socket the database
    executes (and, in autocommit, commits) it even if the worker dies, so the gap where a crash could lose
    a message shrinks from a database round trip (0.2 ms idle, up to 20 ms under load, measured) to the
    few microseconds between two system calls. The WHERE clause names the association like a scoped query.

    Price: when the answer says the row was not ours any more (the sweep took it back from a worker stalled
    for OUTBOX_STUCK_SECONDS, which the claim refresh prevents) or the database failed at that instant, the
    message has already gone; that is logged.
    """

    TIMEOUT = 30.0

    def __init__(self) -> None:
        connection.ensure_connection()
        self.pgconn = connection.connection.pgconn
        table = OutgoingMail._meta.db_table  # our own model's table: no outside input in this statement
        sql = ('UPDATE "{}" SET "status" = $1, "sent_at" = $2, "last_error" = \'\' WHERE "id" = $3 '
               'AND "association_id" = $4 AND "claim_token" = $5 AND "status" = $6')
        self.sql = sql.format(table).encode()
        self.pending: OutgoingMail | None = None

    def send(self, row: OutgoingMail, token: str) -> bool:
        params = [MailStatus.SENT.encode(), timezone.now().isoformat().encode(), str(row.pk).encode(),
                  str(row.association_id).encode(), token.encode(), MailStatus.SENDING.encode()]
        self.pgconn.send_query_params(self.sql, params)
        deadline = time.monotonic() + self.TIMEOUT
        while self.pgconn.flush():  # non-blocking connection: push the whole query out now
            if time.monotonic() > deadline:
                raise ConnectionLost("La base de données ne répond pas.")
            select.select([], [self.pgconn.socket], [], 1.0)
        self.pending = row
        return True

    def answer(self) -> bool:
        """Read the pending UPDATE's answer: True when the row was ours and is now marked sent."""
        row, self.pending = self.pending, None
        if row is None:
            return True
        results = []
        deadline = time.monotonic() + self.TIMEOUT
        while True:
            self.pgconn.consume_input()
            if self.pgconn.is_busy():
                if time.monotonic() > deadline:
                    raise DatabaseError("La base de données ne répond pas.")
                select.select([self.pgconn.socket], [], [], 1.0)
                continue
            result = self.pgconn.get_result()
            if result is None:
                break
            results.append(result)
        last = results[-1] if results else None
        if last is None or last.status != pq.ExecStatus.COMMAND_OK:
            message = last.error_message.decode("utf-8", "replace") if last is not None else "no result"
            logger.error("outbox row %s went out but could not be marked sent: %s", row.pk, message)
            return False
        if last.command_tuples != 1:
            logger.warning("outbox row %s went out after its claim was taken over", row.pk)
            return False
        return True


def _pipelined_marks() -> _PipelinedMark | None:
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    return _PipelinedMark()


def _unmark(row: OutgoingMail, token: str) -> None:
    """The row was marked sent but its message never ended: back to ``sending`` so that it is released."""
    OutgoingMail.objects.filter(pk=row.pk, claim_token=token, status=MailStatus.SENT).update(
        status=MailStatus.SENDING, sent_at=None)


def _touch(rows: list[OutgoingMail], token: str) -> None:
    OutgoingMail.objects.filter(pk__in=[row.pk for row in rows], claim_token=token,
                                status=MailStatus.SENDING).update(claimed_at=timezone.now())


def _release(rows: list[OutgoingMail], token: str, error: str) -> None:
    """Back to the queue with backoff (or failed after MAX_ATTEMPTS). Only rows still being sent: a row
    already marked sent (its final ``.`` was written, then the connection broke) stays sent."""
    now = timezone.now()
    for row in rows:
        if row.attempts >= MAX_ATTEMPTS:
            update = {"status": MailStatus.FAILED, "last_error": f"Abandon après {row.attempts} tentatives : {error}"}
        else:
            update = {"status": MailStatus.QUEUED, "next_attempt_at": now + retry_delay(row.attempts),
                      "last_error": error}
        OutgoingMail.objects.filter(pk=row.pk, claim_token=token, status=MailStatus.SENDING).update(
            claim_token="", **update)


def _fail(row: OutgoingMail, token: str, answer: str) -> None:
    OutgoingMail.objects.filter(pk=row.pk, claim_token=token).update(
        status=MailStatus.FAILED, last_error=answer, claim_token="")


def _cancel(row: OutgoingMail, token: str, reason: str) -> None:
    OutgoingMail.objects.filter(pk=row.pk, claim_token=token).update(
        status=MailStatus.CANCELLED, last_error=reason, claim_token="")


def _no_longer_wanted(rows: list[OutgoingMail]) -> dict[int, str]:
    """Rows that must not go out any more (checked at send time, two queries per batch): the member
    unsubscribed, their address bounced, they left; a reminder whose member has renewed meanwhile."""
    from associations.models import Member

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


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


@functools.lru_cache(maxsize=256)
def _envelope_address(address: str, charset: str) -> str:
    return sanitize_address(address, charset)


KNOWN_HEADERS = {"From", "Reply-To", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"}


def _envelope(row: OutgoingMail) -> tuple[str, str, bytes]:
    """(sender, recipient, bytes of the message) as written to the SMTP server.

    The hot path of a campaign: the message is written by ``mime.compose`` (headers shared by the
    association encoded once); an unusual row (non-ASCII recipient address, other headers) goes through
    Django's ``EmailMultiAlternatives`` instead."""
    headers = row.headers
    if _PLAIN_ADDRESS.fullmatch(row.to_email) and "From" in headers and "Message-ID" in headers \
            and set(headers) <= KNOWN_HEADERS:
        data = mime.compose(headers=headers, to=row.to_email, subject=row.subject, text=row.body_text,
                            html=row.body_html, boundary=f"=_cpts_{row.uid}")
        return _envelope_address(headers["From"], settings.DEFAULT_CHARSET), row.to_email, data
    message = build_message(row)
    charset = message.encoding or settings.DEFAULT_CHARSET
    to_addr = sanitize_address(row.to_email, charset)
    mime_message = message.message()
    mime_message.set_boundary(f"=_cpts_{row.uid}")
    return _envelope_address(message.from_email, charset), to_addr, mime_message.as_bytes(linesep="\r\n")


def _prepare(row: OutgoingMail | None, prepared: dict[int, tuple[str, str, bytes]]) -> None:
    """Build the next row's message while the server handles the current one (an error is left for that
    row's own turn, where it is raised and handled as usual)."""
    if row is not None:
        try:
            prepared[row.pk] = _envelope(row)
        except Exception:  # noqa: BLE001 - raised again when the row itself is sent
            logger.debug("preparing the message of outbox row %s failed", row.pk, exc_info=True)


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
    if smtp:
        _no_delay(backend.connection)
    # Keep the claim fresh while the batch goes out, so that the sweep takes back only a dead worker's rows
    # (a slow but live batch would otherwise lose its remaining rows to another task after STUCK seconds).
    touch_every = max(settings.OUTBOX_STUCK_SECONDS / 3, 0.5)
    touched = time.monotonic()
    prepared: dict[int, tuple[str, str, bytes]] = {}
    marks = _pipelined_marks() if smtp else None
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - touched > touch_every:
                _touch(rows[index:], token)
                touched = time.monotonic()
            if row.pk in skipped:
                _cancel(row, token, skipped[row.pk])
                report.cancelled += 1
                continue
            try:
                if smtp:
                    from_addr, to_addr, data = prepared.pop(row.pk, None) or _envelope(row)
                    following = next((later for later in rows[index + 1:] if later.pk not in skipped), None)

                    def mark(row=row) -> bool:
                        return marks.send(row, token) if marks is not None else _mark_sent(row, token)

                    def meanwhile(following=following) -> None:
                        if marks is not None:
                            marks.answer()
                        _prepare(following, prepared)

                    try:
                        smtp_send(backend.connection, from_addr, to_addr, data, mark, while_waiting=meanwhile)
                    finally:
                        if marks is not None and marks.pending is not None:  # the database answer is read
                            marks.answer()                                    # before any other query
                else:
                    message = build_message(row)
                    if _mark_sent(row, token):
                        backend.send_messages([message])
                report.sent += 1
            except Permanent as error:
                _fail(row, token, str(error))
                report.failed += 1
            except ConnectionLost as error:
                if isinstance(error, EndNotWritten):
                    _unmark(row, token)
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
