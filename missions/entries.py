"""What the missions app registers: the ACI capabilities, the *Contrat ACI* navigation section, and (added
with the screens) its audit action types, dashboard block and demo data."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from associations.navigation import NavItem, NavSection, register_section
from associations.permissions import ALL_STAFF, EDITORS, TREASURER
from associations.registries import (
    DashboardBlock,
    register_audit_actions,
    register_capability,
    register_dashboard_block,
)


def register() -> None:
    # Viewers and elected bureau members follow the contract read-only; editors run it.
    register_capability("view_contract", ALL_STAFF | {TREASURER}, _("Consulter le contrat ACI et les indicateurs"))
    register_capability("manage_contract", EDITORS, _("Gérer le contrat ACI, les indicateurs et les actions"))
    register_section(NavSection(
        key="aci", label=_("Contrat ACI"), icon="file-earmark-text", order=40,
        items=(
            NavItem(_("Contrat"), "aci_contract", "view_contract", prefixes=("aci_contract", "aci_avenant")),
            NavItem(_("Missions et échéances"), "aci_missions", "view_contract", prefixes=("aci_mission",)),
            NavItem(_("Indicateurs"), "aci_grid", "view_contract", prefixes=("aci_indicator", "aci_cell")),
            NavItem(_("Livrables"), "aci_evidence", "view_contract", prefixes=("aci_evidence",)),
            NavItem(_("Actions"), "aci_actions", "view_contract", prefixes=("aci_action",)),
            NavItem(_("Calendrier"), "aci_calendar", "view_contract", prefixes=("aci_calendar",)),
        ),
    ))
    register_audit_actions({
        "aci.contract_create": _("Contrat ACI enregistré"),
        "aci.contract_update": _("Contrat ACI modifié"),
        "aci.avenant_create": _("Avenant au contrat ACI enregistré"),
        "aci.mission_update": _("Mission du contrat modifiée (référent, délais)"),
        "aci.mission_status": _("État d'une mission du contrat"),
        "aci.deadline_move": _("Échéance d'une mission reportée"),
    })

    from missions import selectors

    register_dashboard_block(DashboardBlock(
        key="aci_deadlines", title=_("Échéances ACI"), template="missions/blocks/deadlines.html",
        selector=selectors.deadlines_block, capability="view_contract", order=30, width="col-lg-6",
    ))
