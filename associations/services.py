"""Writes of the associations app: one transactional function per write, explicit actor, audit row,
side effects after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from associations import audit, unscoped
from associations.errors import ServiceError
from associations.mail import build_message
from associations.models import Association, Invitation, Role, User, UserRole
from associations.tokens import TokenKind

__all__ = ["ServiceError"]  # re-exported: services of every package raise it

INVITATION_TOKEN = TokenKind("associations.invitation", lambda: timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
                             fields={"i": int})


# --- Invitations -----------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return INVITATION_TOKEN.sign({"i": invitation.pk, "n": invitation.nonce})


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("invitation_accept", kwargs={"token": invitation_token(invitation)})


@dataclass(frozen=True)
class InvitationCheck:
    invitation: Invitation | None
    problem: str | None  # "invalid", "expired", "used", "revoked" or None when usable


def check_invitation_token(token: str) -> InvitationCheck:
    """Decode a link's token. Never raises: tampered, expired, used or revoked links report a problem."""
    result = INVITATION_TOKEN.unsign(token)
    if not result.ok:
        return InvitationCheck(None, result.problem_code)
    data = result.payload
    invitation = unscoped.invitation_by_id(data["i"])
    if invitation is None or invitation.nonce != data.get("n"):
        return InvitationCheck(None, "invalid")
    status = invitation.status
    if status == Invitation.Status.ACCEPTED:
        return InvitationCheck(invitation, "used")
    if status == Invitation.Status.REVOKED:
        return InvitationCheck(invitation, "revoked")
    if status == Invitation.Status.EXPIRED:
        return InvitationCheck(invitation, "expired")
    return InvitationCheck(invitation, None)


def _valid_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ServiceError(_("Adresse e-mail invalide : « %(email)s ».") % {"email": email}) from None
    return email


def invite(
    association: Association, actor: User, email: str, role: str, request: HttpRequest | None = None
) -> Invitation:
    email = _valid_email(email)
    if role not in Role.values:
        raise ServiceError(_("Rôle inconnu."))
    if UserRole.objects.filter(association=association, user__email__iexact=email).exists():
        raise ServiceError(_("Cette personne fait déjà partie de l'équipe de l'association."))
    pending = Invitation.objects.filter(Invitation.pending_q(), association=association, email__iexact=email)
    if pending.exists():
        raise ServiceError(_("Une invitation est déjà en attente pour cette adresse : renvoyez-la plutôt."))
    with transaction.atomic():
        invitation = Invitation.objects.create(
            association=association, email=email, role=role, invited_by=actor,
            expires_at=Invitation.default_expiry(),
        )
        audit.record(association, actor, "invitation.create", invitation,
                     changes={"email": email, "role": role}, request=request)
        _send_after_commit(invitation)
    return invitation


def resend_invitation(
    invitation: Invitation, actor: User, request: HttpRequest | None = None
) -> Invitation:
    """New link (the old one stops working), valid 7 days from now."""
    if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED):
        raise ServiceError(_("Cette invitation a déjà été acceptée ou révoquée : elle ne peut pas être renvoyée."))
    with transaction.atomic():
        invitation.nonce = Invitation._meta.get_field("nonce").get_default()
        invitation.expires_at = Invitation.default_expiry()
        invitation.sent_at = None
        invitation.save(update_fields=["nonce", "expires_at", "sent_at"])
        audit.record(invitation.association, actor, "invitation.resend", invitation, request=request)
        _send_after_commit(invitation)
    return invitation


def _send_after_commit(invitation: Invitation) -> None:
    # Imported here: the tasks module imports this one (its task calls ``send_invitation``).
    from associations.tasks import send_invitation_email

    send_invitation_email.delay_on_commit(invitation.association_id, invitation.pk)


def send_invitation(invitation: Invitation) -> str:
    """E-mail the invitation's link, signed with its current nonce: "sent", or "skipped" when it is no
    longer pending or was already sent (a job delivered twice sends one e-mail; a resend resets sent_at)."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if locked is None or locked.status != Invitation.Status.PENDING or locked.sent_at is not None:
            return "skipped"
        message = build_message(invitation.association, "invitation", {
            "invitation": locked, "url": invitation_url(locked), "inviter": locked.invited_by,
            "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
        }, [locked.email])
        message.send()
        locked.sent_at = timezone.now()
        locked.save(update_fields=["sent_at"])
    return "sent"


def revoke_invitation(invitation: Invitation, actor: User, request: HttpRequest | None = None) -> Invitation:
    if invitation.status == Invitation.Status.ACCEPTED:
        raise ServiceError(_("Cette invitation a déjà été acceptée : retirez plutôt le rôle de la personne."))
    if invitation.revoked_at:
        return invitation
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(invitation.association, actor, "invitation.revoke", invitation, request=request)
    return invitation


def accept_invitation(
    invitation: Invitation, user: User, request: HttpRequest | None = None
) -> UserRole:
    """Grant the invited role to ``user`` (whose e-mail must match) and burn the invitation."""
    if user.email.lower() != invitation.email.lower():
        raise ServiceError(
            _("Cette invitation est destinée à %(email)s. Déconnectez-vous puis ouvrez à nouveau le lien.") % {
                "email": invitation.email}
        )
    association = invitation.association
    with transaction.atomic(), scope(association=association):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != Invitation.Status.PENDING:
            raise ServiceError(_("Cette invitation n'est plus valable."))
        role, created = UserRole.objects.get_or_create(
            association=association, user=user, defaults={"role": locked.role}
        )
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        # The person proved they own the address by following the e-mailed link.
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        audit.record(association, user, "invitation.accept", locked,
                     changes={"role": role.role, "new_role": created}, request=request)
    return role


def create_user_from_invitation(
    invitation: Invitation, *, password: str, first_name: str, last_name: str,
    request: HttpRequest | None = None,
) -> User:
    with transaction.atomic():
        user = User.objects.create_user(
            email=invitation.email, password=password, first_name=first_name, last_name=last_name
        )
        accept_invitation(invitation, user, request=request)
    return user


# --- Roles -----------------------------------------------------------------------------------


def remove_role(user_role: UserRole, actor: User, request: HttpRequest | None = None) -> None:
    association = user_role.association
    with transaction.atomic():
        if user_role.role == Role.COORDINATOR:
            coordinators = UserRole.objects.select_for_update().filter(
                association=association, role=Role.COORDINATOR
            )
            if len(coordinators) <= 1:
                raise ServiceError(
                    _("Impossible de retirer le dernier coordinateur : "
                    "l'association n'aurait plus personne pour la gérer.")
                )
        audit.record(association, actor, "role.remove", user_role,
                     changes={"user": user_role.user.email, "role": user_role.role}, request=request)
        user_role.delete()


def change_role(user_role: UserRole, new_role: str, actor: User, request: HttpRequest | None = None) -> UserRole:
    if new_role not in Role.values:
        raise ServiceError(_("Rôle inconnu."))
    association = user_role.association
    with transaction.atomic():
        if user_role.role == Role.COORDINATOR and new_role != Role.COORDINATOR:
            count = UserRole.objects.select_for_update().filter(
                association=association, role=Role.COORDINATOR
            ).count()
            if count <= 1:
                raise ServiceError(_("L'association doit garder au moins un coordinateur."))
        old = user_role.role
        user_role.role = new_role
        user_role.save(update_fields=["role"])
        audit.record(association, actor, "role.change", user_role, changes={"role": [old, new_role]},
                     request=request)
    return user_role


# --- Associations (operator) -----------------------------------------------------------------


def create_association(
    *, name: str, slug: str, population: int = 0, coordinator_email: str | None = None, actor: User | None = None,
    **fields,
) -> Association:
    """Used by ``manage.py create_association`` and the seed; the admin's save goes through ``record``."""
    association = Association(name=name, slug=slug, population=population, **fields)
    association.full_clean()
    if coordinator_email:
        try:
            coordinator_email = _valid_email(coordinator_email)
        except ServiceError as error:
            raise ValidationError({"coordinator_email": [str(error)]}) from None
    with transaction.atomic(), scope(association=association):
        association.save()
        audit.record(association, actor, "association.create", association,
                     changes={"name": name, "slug": slug, "population": population})
        if coordinator_email:
            invite_or_grant(association, coordinator_email, Role.COORDINATOR, actor)
    return association


def invite_or_grant(association: Association, email: str, role: str, actor: User | None) -> None:
    """Grant the role right away to an existing account, or e-mail an invitation."""
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        _role, created = UserRole.objects.get_or_create(association=association, user=user,
                                                        defaults={"role": role})
        if created:
            audit.record(association, actor, "role.grant", _role, changes={"role": role})
        return
    invite(association, actor, email, role)  # type: ignore[arg-type]
