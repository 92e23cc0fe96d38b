"""Public rows of the links carried by e-mails (``/p/<slug>/e/``): unsubscribe, open pixel, click."""

from __future__ import annotations

from django_scopes import scope

from associations.campaigns import tokens
from associations.models import MailKind, MailStatus, OutgoingMail
from tests.factories import make_member
from tests.tenancy.matrix_base import Case

CASES: dict = {}


def _mail(association, users) -> dict:
    member = make_member(association, first_name="Lien", last_name="Courriel", email="courriel@example.org")
    with scope(association=association):
        row = OutgoingMail.objects.create(association=association, kind=MailKind.CAMPAIGN, member=member,
                                          to_email=member.email, subject="Objet", body_text="Texte",
                                          body_html="<p>Texte</p>", status=MailStatus.SENT)
    return {
        "unsubscribe": tokens.unsubscribe_token(association.pk, member.pk),
        "open": tokens.tracking_token(association.pk, row.uid),
        "click": tokens.tracking_token(association.pk, row.uid, "https://exemple.fr/page"),
    }


PUBLIC_CASES = {
    "mail_unsubscribe": Case(frozenset(), setup=_mail, kwargs=lambda o: {"token": o["unsubscribe"]}),
    "mail_open": Case(frozenset(), setup=_mail, kwargs=lambda o: {"token": o["open"]}),
    "mail_click": Case(frozenset(), ok=(302,), setup=_mail, kwargs=lambda o: {"token": o["click"]}),
}
