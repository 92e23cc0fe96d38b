"""What the indicators app registers: its audit action types."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from associations.registries import register_audit_actions


def register() -> None:
    register_audit_actions({
        "indicator.create": _("Indicateur ajouté"),
        "indicator.update": _("Indicateur modifié"),
        "indicator.delete": _("Indicateur supprimé"),
        "indicator_value.baseline": _("Valeur initiale d'un indicateur saisie"),
        "indicator_value.target": _("Objectif d'un indicateur saisi ou révisé"),
        "indicator_value.realised": _("Valeur réalisée d'un indicateur saisie"),
        "evidence.add": _("Livrable déposé"),
        "evidence.delete": _("Livrable supprimé"),
    })

    from indicators.cpam_import import register_cpam_import
    from indicators.demo import register_demo

    register_cpam_import()  # the CPAM indicator values import kind and its audit actions (cpam_import.py)
    register_demo()  # demo contract, indicators and actions of the T3 demo association (demo.py)
