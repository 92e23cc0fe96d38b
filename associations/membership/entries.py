"""What the membership package registers: capabilities, audit action types, the members dashboard block."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from associations.permissions import ALL_STAFF, COORDINATOR_ONLY, EDITORS, MEMBER, TREASURER
from associations.registries import (
    DashboardBlock,
    register_audit_actions,
    register_capability,
    register_dashboard_block,
)


def register() -> None:
    register_capability("view_members", ALL_STAFF | {TREASURER}, _("Consulter l'annuaire des adhérents"))
    register_capability("manage_members", EDITORS, _("Modifier les adhérents et les adhésions"))
    register_capability("import_members", EDITORS, _("Importer des adhérents"))
    register_capability("validate_payments", COORDINATOR_ONLY | {TREASURER}, _("Valider les paiements"))
    register_capability("erase_members", COORDINATOR_ONLY, _("Anonymiser des adhérents (RGPD)"))
    register_capability("member_space", {MEMBER}, _("Espace adhérent"))

    register_audit_actions({
        "member.create": _("Adhérent créé"),
        "member.update": _("Adhérent modifié"),
        "member.self_update": _("Données corrigées par l'adhérent"),
        "member.departure": _("Départ (démission ou radiation)"),
        "member.reinstate": _("Adhérent réintégré"),
        "member.apply": _("Demande d'adhésion en ligne"),
        "member.application_accept": _("Demande d'adhésion acceptée"),
        "member.application_refuse": _("Demande d'adhésion refusée"),
        "member.erase": _("Adhérent anonymisé (RGPD)"),
        "member.export": _("Export des données d'un adhérent"),
        "member.renewal_links": _("Liens de renouvellement envoyés"),
        "member.import": _("Import d'adhérents"),
        "member.import_upload": _("Fichier d'import d'adhérents déposé"),
        "member.link_account": _("Compte relié à l'adhérent"),
        "member.open_account": _("Accès à l'espace adhérent ouvert"),
        "member.newsletter": _("Choix des lettres d'information"),
        "membership.create": _("Adhésion ouverte"),
        "membership.status": _("Statut d'adhésion modifié"),
        "membership.renew_online": _("Renouvellement en ligne"),
        "membership.settings": _("Règles d'adhésion modifiées"),
        "payment.record": _("Paiement enregistré"),
        "payment.validate": _("Paiement validé"),
        "tariff.save": _("Tarif enregistré"),
        "college.create": _("Collège créé"),
        "college.rename": _("Collège renommé"),
        "college.delete": _("Collège supprimé"),
        "document.upload": _("Document déposé"),
    })

    from associations.membership import selectors

    register_dashboard_block(DashboardBlock(
        key="members", title=_("Adhérents"), template="associations/blocks/members.html",
        selector=selectors.members_block, capability="view_members", order=20,
    ))
