"""Background jobs about memberships: thin adapters that load a row and call one service."""

from __future__ import annotations

from associations.membership import services
from associations.membership.attestations import deliver_attestation
from associations.models import Association, Member, Membership
from associations.tasks_base import TenantTask, for_each_association
from cpts.celery import app


@app.task(base=TenantTask, bind=True)
def send_attestation(self, association: Association, membership_id: int) -> str:
    """The attestation d'adhésion of one settled membership: stored once, e-mailed once."""
    membership = Membership.objects.select_related("association").filter(pk=membership_id).first()
    return deliver_attestation(membership) if membership else "skipped"


@app.task(base=TenantTask, bind=True)
def send_renewal_link(self, association: Association, member_id: int) -> str:
    """E-mail one member their personal renewal link (campaigns with outbox tracking come later)."""
    member = Member.objects.select_related("association").filter(pk=member_id, anonymized_at=None).first()
    return services.email_renewal_link(member) if member else "skipped"


@app.task(base=TenantTask, bind=True)
def refresh_member_statuses(self, association: Association) -> dict:
    return services.refresh_all_statuses(association)


@app.task
def refresh_member_statuses_everywhere() -> int:
    """Daily (beat): one tenant task per association."""
    return for_each_association(refresh_member_statuses)
