"""manage.py record_bounce <slug> <email> [--soft] [--reason …]"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope

from associations.models import AuditLog, MailStatus, Member, OutgoingMail
from tests.factories import make_member

from .conftest import make_mail


def run(*args) -> str:
    out = StringIO()
    call_command("record_bounce", *args, stdout=out)
    return out.getvalue()


def fresh(association, member) -> Member:
    with scope(association=association):
        return Member.objects.get(pk=member.pk)


def test_hard_bounce_marks_the_members_of_that_association_only(association, other_association):
    ours = make_member(association, first_name="Alice", last_name="Martin", email="alice@exemple.fr")
    theirs = make_member(other_association, first_name="Alice", last_name="Ailleurs", email="alice@exemple.fr")
    queued = make_mail(association, ours, subject="En attente")
    output = run("alpha", "Alice@Exemple.fr", "--reason", "550 5.1.1 User unknown")
    assert "1 adhérent(s) de CPTS Alpha marqué(s)" in output
    member = fresh(association, ours)
    assert member.email_invalid and member.email_bounced_at is not None
    assert member.email_bounce_reason == "550 5.1.1 User unknown"
    assert not fresh(other_association, theirs).email_invalid
    with scope(association=association):
        assert OutgoingMail.objects.get(pk=queued.pk).status == MailStatus.CANCELLED
        assert AuditLog.objects.filter(association=association, action="member.bounce").count() == 1


def test_soft_bounce_keeps_the_address_valid(association):
    member = make_member(association, first_name="Bob", last_name="Plein", email="bob@exemple.fr")
    sent = make_mail(association, member, status=MailStatus.SENT)
    output = run("alpha", "bob@exemple.fr", "--soft", "--reason", "452 Mailbox full")
    assert "Rebond temporaire" in output
    assert not fresh(association, member).email_invalid
    with scope(association=association):
        row = OutgoingMail.objects.get(pk=sent.pk)
    assert row.bounced_at is not None and row.last_error == "452 Mailbox full" and row.status == MailStatus.SENT


def test_unknown_address_marks_nobody(association):
    assert "0 adhérent marqué" in run("alpha", "personne@exemple.fr")


def test_unknown_slug_is_refused_in_french(association):
    member = make_member(association, first_name="Alice", last_name="Martin", email="alice@exemple.fr")
    with pytest.raises(CommandError, match="Aucune association n'a l'identifiant « inconnue »"):
        run("inconnue", "alice@exemple.fr")
    assert not fresh(association, member).email_invalid


def test_invalid_address_is_refused(association):
    with pytest.raises(CommandError, match="Adresse e-mail manquante ou invalide"):
        run("alpha", "pas-une-adresse")
