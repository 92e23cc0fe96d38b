"""Matrix rows of the member space (``/a/<slug>/mon-adhesion/``) and the public renewal and join pages
(``/p/<slug>/``). The ``member`` caller's account is linked to ``objects["self_member"]``."""

from __future__ import annotations

from decimal import Decimal

from django.core.files.base import ContentFile
from django_scopes import scope

from associations.membership import services
from associations.models import AssociationDocument, Member, PaymentMethod
from tests.factories import make_member, set_tariffs
from tests.tenancy.matrix_base import MEMBER, SET, Case, audited, row_is

ONLY_MEMBER = frozenset({MEMBER})


def _paid_membership(association, users) -> dict:
    """A settled membership of the member linked to the ``member`` caller (its attestation is built on
    demand: on-commit jobs do not run in these tests)."""
    set_tariffs(association)
    with scope(association=association):
        member = Member.objects.get(association=association, user=users[MEMBER])
        membership = services.open_membership(member, None)
        services.record_payment(membership, None, amount=Decimal("30.00"), method=PaymentMethod.CHEQUE)
    return {"membership": membership.pk}


def _document(association, users) -> dict:
    with scope(association=association):
        document = AssociationDocument(association=association, kind="statutes")
        document.file.save("statuts.pdf", ContentFile(b"%PDF-1.4 statuts"), save=True)
    return {"document": document.pk}


def _renewal_link(association, users) -> dict:
    set_tariffs(association)
    member = make_member(association, first_name="Lien", last_name="Public", email="lien@example.org",
                         rpps="10000000008")
    with scope(association=association):
        token = services.renewal_token(member)
    return {"token": token, "renewal_member": member.pk, **_document(association, users)}


CASES = {
    "member_space": Case(ONLY_MEMBER),
    "space_renew": Case(ONLY_MEMBER, setup=lambda a, u: set_tariffs(a) or {}),
    "space_profile": Case(ONLY_MEMBER),
    "space_export": Case(ONLY_MEMBER, data={"format": "json"}),
    "space_newsletter": Case(ONLY_MEMBER, "post", (302,), {"consent": "1"},
                             effect=(row_is(Member, "self_member", newsletter_consent=True),
                                     audited("member.newsletter", "self_member"))),
    "member_attestation": Case(ONLY_MEMBER, setup=_paid_membership, kwargs=lambda o: {"pk": o["membership"]}),
}

PUBLIC_CASES = {
    "public_logo": Case(frozenset()),  # the objects fixture gives the association a logo
    "join": Case(frozenset()),
    # Without an application in the session, the thank-you page sends the visitor to the form.
    "join_done": Case(frozenset(), ok=(302,)),
    "public_document": Case(frozenset(), setup=_document, kwargs=lambda o: {"pk": o["document"]}),
    "renewal": Case(frozenset(), setup=_renewal_link, kwargs=lambda o: {"token": o["token"]}),
    "renewal_document": Case(frozenset(), setup=_renewal_link,
                             kwargs=lambda o: {"token": o["token"], "pk": o["document"]}),
    "renewal_account": Case(frozenset(), "post", (302,), setup=_renewal_link, kwargs=lambda o: {"token": o["token"]},
                            effect=(row_is(Member, "renewal_member", user=SET),
                                    audited("member.open_account", "renewal_member"))),
}
