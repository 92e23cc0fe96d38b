"""Background jobs about memberships: the attestation d'adhésion (PDF) generated and e-mailed."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from associations.mail import build_message
from associations.models import Association, Membership
from associations.pdf import logo_data_uri, render_pdf
from associations.tasks_base import TenantTask, for_each_association
from cpts.celery import app


def attestation_pdf(association: Association, membership: Membership) -> bytes:
    return render_pdf("pdf/attestation.html", {
        "association": association, "membership": membership, "member": membership.member,
        "logo": logo_data_uri(association), "today": timezone.localdate(),
    })


@app.task(base=TenantTask, bind=True)
def send_attestation(self, association: Association, membership_id: int) -> str:
    """Generate the attestation once, store it with the membership, e-mail it once to the member."""
    with transaction.atomic():
        membership = (Membership.objects.select_for_update(of=("self",)).select_related("member", "member__profession")
                      .filter(pk=membership_id).first())
        if membership is None or not membership.is_settled:
            return "skipped"
        if not membership.attestation:
            pdf = attestation_pdf(association, membership)
            membership.attestation.save(f"attestation-{membership.number}.pdf", ContentFile(pdf), save=False)
            membership.save(update_fields=["attestation"])
        member = membership.member
        if membership.attestation_sent_at or not member.email or member.email_invalid:
            return "stored"
        message = build_message(association, "attestation", {"membership": membership, "member": member},
                                [member.email])
        with membership.attestation.open("rb") as handle:
            message.attach(f"attestation-adhesion-{membership.number}.pdf", handle.read(), "application/pdf")
        message.send()
        membership.attestation_sent_at = timezone.now()
        membership.save(update_fields=["attestation_sent_at"])
    return "sent"


@app.task(base=TenantTask, bind=True)
def send_renewal_link(self, association: Association, member_id: int) -> str:
    """E-mail one member their personal renewal link (campaigns with outbox tracking come later)."""
    from associations.membership.services import current_period, renewal_url
    from associations.models import Member

    member = Member.objects.filter(pk=member_id, anonymized_at=None).first()
    if member is None or not member.email or member.email_invalid:
        return "skipped"
    message = build_message(association, "renewal_link", {
        "member": member, "url": renewal_url(member), "period": current_period(association),
    }, [member.email])
    message.send()
    return "sent"


@app.task(base=TenantTask, bind=True)
def refresh_member_statuses(self, association: Association) -> dict:
    from associations.membership.services import refresh_all_statuses

    return refresh_all_statuses(association)


@app.task
def refresh_member_statuses_everywhere() -> int:
    """Daily (beat): one tenant task per association."""
    return for_each_association(refresh_member_statuses)
