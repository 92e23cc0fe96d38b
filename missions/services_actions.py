"""Writes of the actions registry: record, edit and delete an action with its participants per profession.

Participants are **counts** per profession (plus "autres"), never names. An action belongs to a mission of
the association's contract and is dated inside one of that contract's five years: otherwise a French
``ServiceError`` on the field, and nothing is written. Every write is one transaction with an audit row.

Documents of an action (sign-in sheets, minutes…) are the ``indicators`` app's evidence (``Evidence.action``):
this module never imports it; it only refuses to delete an action that still has documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from associations import audit
from associations.errors import ServiceError
from associations.models import Association, Profession, User
from missions.models import Action, ActionParticipation, ActionType, ContractMission

# Fields of an action a form may set (participants come apart, as counts per profession id).
ACTION_FIELDS = ("mission", "action_type", "title", "date", "place", "partners", "description")
MAX_PARTICIPANTS = 100_000  # per profession and action: beyond it, a typo

# ``participations`` maps a profession id (None: other participants) to a count.
Participations = Mapping[int | None, int]


def _format(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def contract_years_text(mission: ContractMission) -> str:
    """"année 1 : du 15/03/2021 au 14/03/2022 ; année 2 : …" for the mission's contract."""
    return " ; ".join(
        _("année %(number)s : du %(start)s au %(end)s") % {
            "number": year.number, "start": _format(year.start), "end": _format(year.end)}
        for year in mission.contract.years
    )


def check_date(mission: ContractMission, day: date) -> None:
    """ServiceError (on ``date``) unless ``day`` falls in one of the five years of the mission's contract."""
    contract = mission.contract
    if contract.year_of(day) is None:
        raise ServiceError(
            _("Le %(date)s est en dehors des cinq années du contrat signé le %(signed)s (%(years)s) : "
              "une action doit être datée dans l'une d'elles.") % {
                "date": _format(day), "signed": _format(contract.signed_on), "years": contract_years_text(mission)},
            field="date", code="date_outside_contract",
        )


def _check(association: Association, data: Mapping[str, Any], participations: Participations) -> dict[int | None, int]:
    """Validate everything before any write; return the non-zero counts to store."""
    mission = data.get("mission")
    if not isinstance(mission, ContractMission) or mission.association_id != association.pk:
        raise ServiceError(_("Choisissez une mission du contrat de l'association."), field="mission",
                           code="mission_not_ours")
    if not isinstance(data.get("action_type"), ActionType):
        raise ServiceError(_("Choisissez le type de l'action."), field="action_type", code="type_missing")
    if not (data.get("title") or "").strip():
        raise ServiceError(_("Donnez un intitulé à l'action."), field="title", code="title_missing")
    day = data.get("date")
    if not isinstance(day, date):
        raise ServiceError(_("Indiquez la date de l'action."), field="date", code="date_missing")
    check_date(mission, day)
    counts: dict[int | None, int] = {}
    for profession_id, count in participations.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ServiceError(_("Un nombre de participants doit être un entier positif ou nul."),
                               field="participants", code="count_invalid")
        if count > MAX_PARTICIPANTS:
            raise ServiceError(_("%(count)s participants pour une seule profession : vérifiez le nombre saisi.")
                               % {"count": count}, field="participants", code="count_too_large")
        if count:
            counts[profession_id] = count
    known = set(Profession.objects.filter(pk__in=[pk for pk in counts if pk is not None]).values_list("pk", flat=True))
    if any(pk is not None and pk not in known for pk in counts):
        raise ServiceError(_("Une des professions saisies n'existe pas."), field="participants",
                           code="profession_unknown")
    return counts


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The action's fields from checked ``data`` (optional texts default to empty, texts stripped)."""
    values = {name: data.get(name) for name in ACTION_FIELDS}
    for name in ("title", "place", "partners", "description"):
        values[name] = (values[name] or "").strip()
    return values


def _store_participations(action: Action, counts: dict[int | None, int]) -> None:
    ActionParticipation.objects.bulk_create([
        ActionParticipation(association_id=action.association_id, action=action, profession_id=profession_id,
                            count=count)
        for profession_id, count in counts.items()
    ])


def _participation_summary(counts: Mapping[int | None, int]) -> dict[str, int]:
    return {("autres" if pk is None else str(pk)): n for pk, n in sorted(counts.items(), key=lambda i: i[0] or 0)}


@transaction.atomic
def create_action(association: Association, actor: User, data: Mapping[str, Any], participations: Participations,
                  *, request: HttpRequest | None = None) -> Action:
    """Record an action of one of the contract's missions with its participants per profession."""
    counts = _check(association, data, participations)
    action = Action(association=association, created_by=actor if actor and actor.is_authenticated else None,
                    **_values(data))
    action.save()
    _store_participations(action, counts)
    audit.record(association, actor, "aci_action.create", action, request=request,
                 changes={"participants": _participation_summary(counts)})
    return action


@transaction.atomic
def update_action(action: Action, actor: User, data: Mapping[str, Any], participations: Participations,
                  *, request: HttpRequest | None = None) -> Action:
    """Edit an action; its participants are replaced by the counts given."""
    association = action.association
    counts = _check(association, data, participations)
    before = {name: getattr(action, name) for name in ACTION_FIELDS}
    old_counts = dict(action.participations.values_list("profession_id", "count"))
    for name, value in _values(data).items():
        setattr(action, name, value)
    action.save()
    changes = audit.diff(action, before, list(ACTION_FIELDS))
    if old_counts != counts:
        action.participations.all().delete()
        _store_participations(action, counts)
        changes["participants"] = [_participation_summary(old_counts), _participation_summary(counts)]
    audit.record(association, actor, "aci_action.update", action, request=request, changes=changes)
    return action


@transaction.atomic
def delete_action(action: Action, actor: User, *, request: HttpRequest | None = None) -> None:
    """Delete an action and its participations; refused while documents (livrables) are attached to it."""
    # ``evidence`` is the reverse accessor of indicators' Evidence.action (no import of that app).
    related = getattr(action, "evidence", None)
    if related is not None and related.exists():
        raise ServiceError(_("Cette action a des documents (livrables) : supprimez-les d'abord, ils peuvent "
                             "servir de preuve auprès de la CPAM."), code="has_documents")
    label = str(action)
    pk = action.pk
    audit.record(action.association, actor, "aci_action.delete", action, request=request, target_label=label,
                 changes={"mission": str(action.mission), "type": str(action.action_type)})
    action.participations.all().delete()
    action.delete()
    action.pk = pk
