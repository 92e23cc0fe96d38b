"""Fixtures of the campaign, outbox, reminder, public link and bounce tests."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from associations.models import (
    Campaign,
    College,
    MailKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    OutgoingMail,
    Profession,
)
from tests.factories import make_member, set_tariffs


@pytest.fixture
def campaign_members(association, other_association):
    """A small directory of ``association`` covering every reason to be left out, and a member of
    ``other_association`` with the same address as one of ours."""
    set_tariffs(association, person="30.00", structure="100.00", student="10.00")
    set_tariffs(other_association)
    nurse = Profession.objects.get(code="infirmier")
    with scope(association=association):
        liberal = College.objects.create(association=association, name="PS libéraux")
        users_college = College.objects.create(association=association, name="Usagers")
    people = {
        "alice": make_member(association, first_name="Alice", last_name="Martin", email="alice@exemple.fr",
                             city="Tours", college=liberal, newsletter_consent=True),
        "bruno": make_member(association, first_name="Bruno", last_name="Petit", email="bruno@exemple.fr",
                             city="Amboise", profession=nurse, college=liberal),
        "msp": make_member(association, kind="structure", first_name="", last_name="", structure_name="MSP du Lac",
                           structure_type="msp", city="Tours", email="msp@exemple.fr", college=users_college,
                           newsletter_consent=True),
        "no_email": make_member(association, first_name="Sans", last_name="Adresse", email="", city="Tours"),
        "invalid": make_member(association, first_name="Ina", last_name="Valide", email="ina@exemple.fr",
                               city="Tours", email_invalid=True, newsletter_consent=True),
        "opted_out": make_member(association, first_name="Oscar", last_name="Parti", email="oscar@exemple.fr",
                                 city="Tours", mail_opt_out_at=timezone.now(), newsletter_consent=True),
        "resigned": make_member(association, first_name="Rémi", last_name="Démission", email="remi@exemple.fr",
                                city="Tours", status=MemberStatus.RESIGNED),
    }
    people["foreign"] = make_member(other_association, first_name="Alice", last_name="Ailleurs",
                                    email="alice@exemple.fr", city="Tours")
    people["liberal"] = liberal
    people["users_college"] = users_college
    people["nurse"] = nurse
    return people


def make_campaign(association, **kwargs) -> Campaign:
    kwargs.setdefault("name", "Renouvellement 2026")
    kwargs.setdefault("kind", "renewal")
    kwargs.setdefault("subject", "Votre adhésion à {association}")
    kwargs.setdefault("body", "Bonjour {prenom} {nom},\n\nRenouvelez ici : {lien_renouvellement}\n\n"
                              "Cotisation : {montant}.")
    kwargs.setdefault("audience", {})
    with scope(association=association):
        return Campaign.objects.create(association=association, **kwargs)


def make_mail(association, member=None, **kwargs) -> OutgoingMail:
    """A queued outbox row, due now."""
    kwargs.setdefault("kind", MailKind.CAMPAIGN if kwargs.get("campaign") else MailKind.TEST)
    kwargs.setdefault("to_email", member.email if member is not None else "someone@exemple.fr")
    kwargs.setdefault("subject", "Objet")
    kwargs.setdefault("body_text", "Texte")
    kwargs.setdefault("body_html", "<p>Texte</p>")
    kwargs.setdefault("next_attempt_at", timezone.now() - timedelta(seconds=1))
    with scope(association=association):
        row = OutgoingMail(association=association, member=member, **kwargs)
        row.headers = {"From": f"{association.name} <noreply@cpts.localhost>", "Reply-To": "contact@exemple.fr",
                       "Message-ID": f"<{row.uid}.{association.pk}@cpts.localhost>",
                       "List-Id": f"{association.name} <{association.slug}.{association.pk}.cpts>",
                       **kwargs.pop("headers", {})}
        row.save()
        return row


def settle(member, start: date, end: date, status: str = MembershipStatus.PAID) -> Membership:
    """A membership of ``member`` over [start, end] with the given status (no payment bookkeeping)."""
    association = member.association
    with scope(association=association):
        return Membership.objects.create(association=association, member=member, period_label=f"{start:%Y}",
                                         start_date=start, end_date=end, amount_due=Decimal("30.00"),
                                         amount_paid=Decimal("30.00") if status == MembershipStatus.PAID
                                         else Decimal("0"), status=status)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """An SMTP peer that keeps every message and can refuse recipients (``refuse[address] = "550 …"``)."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """An in-process aiosmtpd server on a free loopback port, with Django's SMTP back-end pointed at it."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()
