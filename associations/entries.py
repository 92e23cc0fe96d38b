"""What the core of ``associations`` registers: capabilities, audit action types, dashboard blocks.

Called from ``AssociationsConfig.ready()``; the membership and campaigns packages have their own
``entries`` modules, and so will ``missions``, ``finance`` and ``indicators``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from associations.permissions import ALL_STAFF, COORDINATOR_ONLY, EDITORS
from associations.registries import (
    DashboardBlock,
    register_audit_actions,
    register_capability,
    register_dashboard_block,
)


def register() -> None:
    register_capability("view_dashboard", ALL_STAFF, _("Voir le tableau de bord"))
    register_capability("view_team", EDITORS, _("Voir l'équipe"))
    register_capability("manage_team", COORDINATOR_ONLY, _("Gérer l'équipe et les invitations"))
    register_capability("view_audit", COORDINATOR_ONLY, _("Consulter le journal"))
    register_capability("view_files", ALL_STAFF, _("Télécharger les fichiers de l'association"))
    register_capability("manage_association", COORDINATOR_ONLY, _("Modifier les paramètres de l'association"))

    register_audit_actions({
        "association.create": _("Création de l'association"),
        "association.update": _("Modification de l'association"),
        "invitation.create": _("Invitation envoyée"),
        "invitation.resend": _("Invitation renvoyée"),
        "invitation.revoke": _("Invitation révoquée"),
        "invitation.accept": _("Invitation acceptée"),
        "role.grant": _("Rôle attribué"),
        "role.change": _("Rôle modifié"),
        "role.remove": _("Rôle retiré"),
    })

    from associations import selectors

    register_dashboard_block(DashboardBlock(
        key="overview", title=_("En bref"), template="associations/blocks/overview.html",
        selector=selectors.overview_block, order=10,
    ))
    register_dashboard_block(DashboardBlock(
        key="recent", title=_("Dernières actions"), template="associations/blocks/recent.html",
        selector=selectors.recent_actions_block, order=90, width="col-lg-7",
    ))
    register_dashboard_block(DashboardBlock(
        key="about", title=_("Ce que la plateforme fait aujourd'hui"), template="associations/blocks/about.html",
        selector=selectors.no_data, order=95, width="col-lg-5",
    ))
