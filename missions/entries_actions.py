"""What the actions registry registers: its audit action types (capabilities and navigation items are
the contract's, see ``missions.entries``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from associations.registries import register_audit_actions


def register() -> None:
    register_audit_actions({
        "aci_action.create": _("Action ACI enregistrée"),
        "aci_action.update": _("Action ACI modifiée"),
        "aci_action.delete": _("Action ACI supprimée"),
    })
