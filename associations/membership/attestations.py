"""The attestation d'adhésion: a PDF built once per settled membership, stored with it and e-mailed
once to the member (the job ``membership.tasks.send_attestation`` calls :func:`deliver_attestation`)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from associations.mail import build_message
from associations.models import Association, Membership
from associations.pdf import logo_data_uri, render_pdf


def attestation_pdf(association: Association, membership: Membership) -> bytes:
    return render_pdf("pdf/attestation.html", {
        "association": association, "membership": membership, "member": membership.member,
        "logo": logo_data_uri(association), "today": timezone.localdate(),
    })


def deliver_attestation(membership: Membership) -> str:
    """Generate the attestation once, store it with the membership, e-mail it once to the member.

    Returns "skipped" (not settled, or gone), "stored" (no usable address, or already e-mailed) or "sent".
    The row is locked: a job run twice stores one file and sends one e-mail."""
    association = membership.association
    with transaction.atomic():
        locked = (Membership.objects.select_for_update(of=("self",)).select_related("member", "member__profession")
                  .filter(pk=membership.pk).first())
        if locked is None or not locked.is_settled:
            return "skipped"
        if not locked.attestation:
            pdf = attestation_pdf(association, locked)
            locked.attestation.save(f"attestation-{locked.number}.pdf", ContentFile(pdf), save=False)
            locked.save(update_fields=["attestation"])
        member = locked.member
        if locked.attestation_sent_at or not member.email or member.email_invalid:
            return "stored"
        message = build_message(association, "attestation", {"membership": locked, "member": member},
                                [member.email])
        with locked.attestation.open("rb") as handle:
            message.attach(f"attestation-adhesion-{locked.number}.pdf", handle.read(), "application/pdf")
        message.send()
        locked.attestation_sent_at = timezone.now()
        locked.save(update_fields=["attestation_sent_at"])
    return "sent"
