"""Matrix rows of the actions registry and its calendar (``/a/<slug>/aci/actions/``)."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from django_scopes import scope

from missions.models import Action, ActionType
from tests.aci.conftest import make_contract
from tests.factories import ensure_professions
from tests.tenancy.matrix_base import ALL, EDITORS, Case, audited, deleted, exists, row_is


def action_objects(association, users) -> dict:
    """A contract signed 4 years and 3 months ago and one action (3 participants) of its first mission."""
    from missions import services_actions as services

    ensure_professions()
    contract = make_contract(association)
    with scope(association=association):
        mission = contract.missions.order_by("mission_type__order").first()
        action_type = ActionType.objects.order_by("order").first()
        action = services.create_action(association, users["coordinator"], {
            "mission": mission, "action_type": action_type, "title": "Soirée de formation",
            "date": date.today() - relativedelta(months=6), "place": "Salle des fêtes",
        }, {None: 3})
    return {"action": action.pk, "mission": mission.pk, "action_type": action_type.pk}


SETUP = action_objects


def _action(o) -> dict:
    return {"pk": o["action"]}


def _new(o) -> dict:
    return {"title": "Journée de prévention", "mission": o["mission"], "action_type": o["action_type"],
            "date": (date.today() - relativedelta(months=2)).isoformat(), "participants_autres": "12"}


def _edited(o) -> dict:
    return {**_new(o), "title": "Soirée de formation (modifiée)"}


CASES = {
    "aci_actions": Case(ALL, setup=SETUP),
    "aci_action_create": Case(EDITORS, "post", (302,), _new, setup=SETUP,
                              effect=(exists(Action, title="Journée de prévention"), audited("aci_action.create"))),
    "aci_action_detail": Case(ALL, kwargs=_action, setup=SETUP),
    "aci_action_edit": Case(EDITORS, "post", (302,), _edited, kwargs=_action, setup=SETUP,
                            effect=(row_is(Action, "action", title="Soirée de formation (modifiée)"),
                                    audited("aci_action.update", "action"))),
    "aci_action_delete": Case(EDITORS, "post", (302,), kwargs=_action, setup=SETUP,
                              effect=(deleted(Action, "action"), audited("aci_action.delete", "action"))),
    "aci_calendar": Case(ALL, setup=SETUP),
    "aci_calendar_ics": Case(ALL, setup=SETUP),
}
