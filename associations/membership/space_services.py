"""Writes about the member space login: linking a member record to a user account.

A professional reaches their space ("Mon adhésion") by logging in with a code e-mailed by allauth; the
member record must be linked to that account (``Member.user``). Two ways, both audited:

- ``link_member_account``: a logged-in user opens their valid renewal link and their account e-mail is
  the member's e-mail → linked (``member.link_account``).
- ``open_member_account``: from the renewal link, the professional asks for access; an account
  without password is created for the member's e-mail if none exists (the login code sent to that
  address proves they own it) and linked (``member.open_account``).
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from associations import audit
from associations.models import Member, User
from associations.services import ServiceError


def _same_email(user: User, member: Member) -> bool:
    return bool(member.email) and user.email.strip().lower() == member.email.strip().lower()


def link_member_account(member: Member, user: User, request: HttpRequest | None = None) -> bool:
    """Link ``member`` to ``user`` when the account's e-mail is the member's. True when linked now.

    Never re-links a member already linked to another account, and never gives one account two member
    records of the same association (the coordination sorts such cases out).
    """
    if not user.is_authenticated or member.user_id is not None or not _same_email(user, member):
        return False
    if Member.objects.filter(association=member.association, user=user, anonymized_at=None).exists():
        return False
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.user_id is not None:
            return False
        locked.user = user
        locked.save(update_fields=["user", "updated_at"])
        audit.record(member.association, user, "member.link_account", locked, changes={"user": user.email},
                     request=request)
    member.user = user
    return True


def open_member_account(member: Member, request: HttpRequest | None = None) -> User:
    """The account the member logs in with (created without password when missing), linked to them."""
    if member.user_id is not None:
        return member.user
    if not member.email or member.email_invalid:
        raise ServiceError(_("Aucune adresse e-mail valide n'est enregistrée : contactez la coordination."))
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.user_id is not None:
            member.user = locked.user
            return locked.user
        user = User.objects.filter(email__iexact=locked.email.strip()).first()
        created = user is None
        if created:
            # No password: the person logs in with a code sent to this address (allauth marks it verified).
            user = User.objects.create_user(email=locked.email.strip(), password=None,
                                            first_name=locked.first_name[:150], last_name=locked.last_name[:150])
            EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
        elif Member.objects.filter(association=member.association, user=user, anonymized_at=None).exists():
            raise ServiceError(_("Un autre dossier d'adhérent est déjà relié à ce compte : contactez la coordination."))
        locked.user = user
        locked.save(update_fields=["user", "updated_at"])
        audit.record(member.association, None, "member.open_account", locked,
                     changes={"user": user.email, "account_created": created}, request=request)
    member.user = user
    return user
