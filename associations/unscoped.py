"""The few reads that must cross tenants, gathered in one place (DESIGN.md §Tenancy rule 8).

Every function here returns rows of *one* association decided by something else than the URL
(a signed token), and callers enter that association's scope before doing anything with them.
"""

from __future__ import annotations

from associations.models import Invitation


def invitation_by_id(pk: int) -> Invitation | None:
    """An invitation named by a signed link, before we know which association it belongs to."""
    return Invitation._base_manager.select_related("association", "invited_by").filter(pk=pk).first()


def associations_with_mail_work(now, stuck_before) -> list[int]:
    """Associations that have e-mails due, e-mails stuck in a dead worker, or campaigns due to launch:
    the periodic sweep then works on each inside its own scope."""
    from django.db.models import Q

    from associations.models import Campaign, OutgoingMail

    mails = OutgoingMail._base_manager.filter(
        Q(status="queued", next_attempt_at__lte=now) | Q(status="sending", claimed_at__lt=stuck_before)
    ).values_list("association_id", flat=True).distinct()
    campaigns = Campaign._base_manager.filter(status="scheduled", scheduled_at__lte=now).values_list(
        "association_id", flat=True).distinct()
    return sorted(set(mails) | set(campaigns))


def associations_of_address(email: str) -> list[int]:
    """Associations that e-mailed this address or have a member with it (a bounce names only the address)."""
    from associations.models import Member, OutgoingMail

    sent = OutgoingMail._base_manager.filter(to_email__iexact=email).values_list("association_id", flat=True)
    members = Member._base_manager.filter(email__iexact=email).values_list("association_id", flat=True)
    return sorted(set(sent.distinct()) | set(members.distinct()))


def association_of_mail(uid: str) -> int | None:
    """The association of an outbox row named by its public uid (in a bounce report's Message-ID)."""
    from associations.models import OutgoingMail

    return OutgoingMail._base_manager.filter(uid=uid).values_list("association_id", flat=True).first()
