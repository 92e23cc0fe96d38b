"""What the campaigns package registers: capabilities and audit action types."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from associations.permissions import ALL_STAFF, EDITORS
from associations.registries import register_audit_actions, register_capability


def register() -> None:
    register_capability("view_campaigns", ALL_STAFF, _("Consulter les campagnes et relances"))
    register_capability("manage_campaigns", EDITORS, _("Écrire et lancer des campagnes"))

    register_audit_actions({
        "campaign.create": _("Campagne créée"),
        "campaign.update": _("Campagne modifiée"),
        "campaign.schedule": _("Campagne programmée"),
        "campaign.unschedule": _("Programmation annulée"),
        "campaign.launch": _("Campagne lancée"),
        "campaign.launch_failed": _("Lancement programmé impossible"),
        "campaign.test_send": _("Envoi de test d'une campagne"),
        "reminders.settings": _("Relances automatiques modifiées"),
        "reminders.queue": _("Relances automatiques mises en file"),
        "mail.retry": _("E-mails en échec remis en file"),
        "member.unsubscribe": _("Désinscription des e-mails"),
        "member.resubscribe": _("Réinscription aux e-mails"),
        "member.bounce": _("Rebond d'e-mail enregistré"),
    })
