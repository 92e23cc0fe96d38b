"""Demo campaigns for ``manage.py seed_demo``: a finished renewal campaign with realistic delivery,
open, click and renewal figures, and an information campaign scheduled a few days ahead.

Rows are rendered by the same ``Renderer`` as a real launch, then given the statuses a real send would
have left (``random.Random`` seeded: two fresh databases get the same figures). Nothing is sent.
Written only when the association has no campaign, so a second run changes nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from associations import audit
from associations.campaigns.reminders import schedule_for
from associations.campaigns.services import Renderer, recipients_of, summarize_audience
from associations.membership.services import previous_period
from associations.models import (
    Association,
    Campaign,
    CampaignKind,
    CampaignStatus,
    MailKind,
    MailStatus,
    Member,
    OutgoingMail,
    User,
)

SEED = 2027
BOUNCE_ANSWER = "550 5.1.1 <{email}>: Recipient address rejected: User unknown in virtual mailbox table"

RENEWAL_BODY = (
    "Bonjour {prenom} {nom},\n\n"
    "La nouvelle année commence : c'est le moment de renouveler votre adhésion à {association}. "
    "Votre cotisation ({montant}) finance la coordination des parcours, le guichet des soins non "
    "programmés et les soirées de formation.\n\n"
    "Vos informations sont déjà remplies, cela prend une minute :\n\n"
    "{lien_renouvellement}\n\n"
    "Merci de le faire avant le {date_limite}, pour pouvoir voter à l'assemblée générale.\n\n"
    "**À noter cette année :**\n"
    "- la soirée « Insuffisance cardiaque » en mars\n"
    "- le nouveau protocole de soins non programmés\n\n"
    "Bien cordialement,\nCamille Martin, coordinatrice"
)
INFO_BODY = (
    "Bonjour {prenom} {nom},\n\n"
    "{association} vous invite à sa soirée pluriprofessionnelle **« Insuffisance cardiaque : "
    "repérer la décompensation »**, animée par un cardiologue et une infirmière Asalée.\n\n"
    "- Jeudi, de 20 h à 22 h, salle polyvalente de Joué-lès-Tours\n"
    "- Temps indemnisé pour les libéraux (décret 2022-375)\n\n"
    "Inscription avant le {date_limite} en répondant à ce message.\n\n"
    "La coordination"
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def seed_campaigns(association: Association, *, actor: User | None, today: date | None = None) -> int:
    """Demo campaigns of one association (inside its scope and a transaction). Returns campaigns written."""
    schedule_for(association)
    if Campaign.objects.filter(association=association).exists():
        return 0
    today = today or timezone.localdate()
    rng = random.Random(SEED + association.pk)
    previous = previous_period(association, today)
    launch_day = min(previous.end + timedelta(days=13), today - timedelta(days=30))
    launched_at = _at(launch_day, 9, 30)

    finished = Campaign.objects.create(
        association=association, name=f"Renouvellement des adhésions {previous.end.year + 1}",
        kind=CampaignKind.RENEWAL, audience={"period": str(previous.end.year)},
        subject="Votre adhésion {association} : renouvelez-la en une minute", body=RENEWAL_BODY,
        deadline=launch_day + timedelta(days=60), track_opens=True, track_clicks=True,
        status=CampaignStatus.LAUNCHED, launched_at=launched_at, launched_by=actor, created_by=actor,
    )
    audit.record(association, actor, "campaign.create", finished, changes={"source": "seed_demo"})
    # The audience as it was at launch: last period's members (today some of them have renewed).
    filters = {"period": str(previous.end.year)}
    excluded = summarize_audience(association, finished.kind, filters, sample=0).excluded
    audience = recipients_of(association, finished.kind, filters).order_by("id")
    renderer = Renderer(association, subject=finished.subject, body=finished.body, kind_label="campagne",
                        deadline=finished.deadline, track_opens=True, track_clicks=True)
    rows, bounced = [], []
    for index, member in enumerate(audience):
        row = OutgoingMail(association=association, kind=MailKind.CAMPAIGN, campaign=finished, member=member,
                           created_at=launched_at, next_attempt_at=launched_at, attempts=1,
                           **renderer.render(member, f"demo{association.pk}x{member.pk}"))
        roll = rng.random()
        if roll < 0.015:
            row.status = MailStatus.FAILED
            row.last_error = BOUNCE_ANSWER.format(email=member.email)
            bounced.append(member)
        else:
            row.status = MailStatus.SENT
            row.sent_at = launched_at + timedelta(seconds=index // 10)
            if rng.random() < 0.58:
                row.opened_at = row.sent_at + timedelta(minutes=rng.randint(3, 60 * 72))
                row.open_count = rng.randint(1, 4)
                if rng.random() < 0.45:
                    row.clicked_at = row.opened_at + timedelta(seconds=rng.randint(5, 300))
                    row.click_count = 1
        rows.append(row)
    OutgoingMail.objects.bulk_create(rows)
    for member in bounced:
        Member.objects.filter(pk=member.pk).update(
            email_invalid=True, email_bounced_at=launched_at + timedelta(minutes=2),
            email_bounce_reason=BOUNCE_ANSWER.format(email=member.email)[:255])
    finished.targeted_count = len(rows)
    finished.excluded = excluded
    finished.save(update_fields=["targeted_count", "excluded"])
    audit.record(association, actor, "campaign.launch", finished, changes={"recipients": len(rows),
                                                                           "source": "seed_demo"})

    evening = today + timedelta(days=10)
    scheduled = Campaign.objects.create(
        association=association, name="Invitation : soirée insuffisance cardiaque", kind=CampaignKind.INFO,
        audience={}, subject="Soirée pluriprofessionnelle « Insuffisance cardiaque » — inscrivez-vous",
        body=INFO_BODY, deadline=evening - timedelta(days=3), status=CampaignStatus.SCHEDULED,
        scheduled_at=_at(today + timedelta(days=3), 9), created_by=actor,
    )
    audit.record(association, actor, "campaign.create", scheduled, changes={"source": "seed_demo"})
    audit.record(association, actor, "campaign.schedule", scheduled,
                 changes={"scheduled_at": timezone.localtime(scheduled.scheduled_at).strftime("%d/%m/%Y %H:%M")})
    return 2
