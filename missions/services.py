"""Writes of the ACI contract: the contract and its missions, avenants, mission status and deadline moves.

Every function runs in one transaction, takes an explicit ``actor``, writes an audit row and raises
``ServiceError(message, field=...)`` (French message, the form field it belongs to) when a business rule
refuses the operation: nothing is then saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from associations.audit import diff, record
from associations.errors import ServiceError
from associations.models import Association, Member, User, UserRole
from missions.models import (
    ACIVersion,
    Avenant,
    Contract,
    ContractMission,
    DeadlineChange,
    DeadlineKind,
    MissionKind,
    MissionStatus,
    MissionType,
)
from missions.selectors import current_due_dates

CONTRACT_FIELDS = ["version", "number", "signed_on", "size_override", "size_override_reason", "cpts_signatory",
                   "cpam_name", "ars_name", "achievement_cap"]
MISSION_FIELDS = ["referent", "owner", "start_months", "deployment_months"]


def _today() -> date:
    return timezone.localdate()


def _check_contract(association: Association, data: dict[str, Any], *, contract: Contract | None = None) -> None:
    signed_on = data.get("signed_on")
    if signed_on and signed_on > _today():
        raise ServiceError(_("La date de signature ne peut pas être dans le futur."), field="signed_on",
                           code="signed_in_future")
    if data.get("size_override") and not (data.get("size_override_reason") or "").strip():
        raise ServiceError(_("Indiquez le motif de la taille retenue : elle diffère de celle qui découle de la "
                             "population couverte."), field="size_override_reason", code="size_reason_missing")
    cap = data.get("achievement_cap")
    if cap is not None and not 0 < cap <= 200:
        raise ServiceError(_("Le plafond d'atteinte doit être compris entre 1 et 200 %."),
                           field="achievement_cap", code="cap_range")
    others = Contract.objects.filter(association=association, signed_on=signed_on)
    if contract is not None:
        others = others.exclude(pk=contract.pk)
    if signed_on and others.exists():
        raise ServiceError(_("Un contrat signé à cette date existe déjà."), field="signed_on",
                           code="duplicate_contract")
    if contract is not None and signed_on:
        first_avenant = contract.avenants.order_by("signed_on").first()
        if first_avenant is not None and first_avenant.signed_on < signed_on:
            raise ServiceError(
                _("L'avenant n° %(number)s est signé le %(date)s, avant cette date de signature du contrat.")
                % {"number": first_avenant.number, "date": f"{first_avenant.signed_on:%d/%m/%Y}"},
                field="signed_on", code="avenant_before_contract")
        for mission in contract.missions.all():
            for day in (mission.started_on, mission.deployed_on):
                if day and day < signed_on:
                    raise ServiceError(
                        _("La mission « %(mission)s » est démarrée ou déployée avant cette date de signature.")
                        % {"mission": mission.mission_type.label}, field="signed_on", code="mission_before_contract")


def _complementary_types(version: ACIVersion, chosen: Iterable[MissionType]) -> list[MissionType]:
    chosen = list(chosen)
    for mission_type in chosen:
        if mission_type.version_id != version.pk or mission_type.kind != MissionKind.COMPLEMENTARY:
            raise ServiceError(
                _("« %(mission)s » n'est pas une mission complémentaire de la version %(version)s.")
                % {"mission": mission_type.label, "version": version.label},
                field="complementary", code="wrong_complementary")
    return chosen


@transaction.atomic
def create_contract(association: Association, actor: User, data: dict[str, Any], *,
                    complementary: Iterable[MissionType] = (), document: UploadedFile | None = None,
                    request: HttpRequest | None = None) -> Contract:
    """Create the contract with every socle mission of its version and the chosen complémentaires."""
    version = data.get("version")
    if version is None:
        raise ServiceError(_("Choisissez la version de l'ACI du contrat."), field="version", code="version_missing")
    _check_contract(association, data)
    chosen = _complementary_types(version, complementary)
    contract = Contract(association=association, **{k: v for k, v in data.items() if k in CONTRACT_FIELDS})
    contract.full_clean(exclude=["association", "document"])
    if document:
        contract.document.save(document.name, document, save=False)
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        raise ServiceError(_("Un contrat signé à cette date existe déjà."), field="signed_on",
                           code="duplicate_contract") from None
    socle = list(version.mission_types.filter(kind=MissionKind.SOCLE))
    for mission_type in sorted({*socle, *chosen}, key=lambda m: (m.order, m.pk)):
        ContractMission.objects.create(association=association, contract=contract, mission_type=mission_type)
    record(association, actor, "aci.contract_create", contract, request=request, changes={
        "version": version.code, "signed_on": f"{contract.signed_on:%Y-%m-%d}",
        "missions": [m.code for m in sorted({*socle, *chosen}, key=lambda m: (m.order, m.pk))],
    })
    return contract


@transaction.atomic
def update_contract(contract: Contract, actor: User, data: dict[str, Any], *,
                    add_complementary: Iterable[MissionType] = (), document: UploadedFile | None = None,
                    request: HttpRequest | None = None) -> Contract:
    """Change the contract's fields; complémentaires can be added (removing one goes through an avenant and
    the operator, since indicators and actions hang on it). The version cannot change once missions exist."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk, association=contract.association)
    if data.get("version") is not None and data["version"].pk != contract.version_id:
        raise ServiceError(_("La version de l'ACI ne peut plus changer : les missions du contrat en dépendent."),
                           field="version", code="version_locked")
    _check_contract(contract.association, {**{f: getattr(contract, f) for f in CONTRACT_FIELDS}, **data},
                    contract=contract)
    before = {name: getattr(contract, name) for name in CONTRACT_FIELDS}
    for name in CONTRACT_FIELDS:
        if name in data and name != "version":
            setattr(contract, name, data[name])
    contract.full_clean(exclude=["association", "document"])
    if document:
        contract.document.save(document.name, document, save=False)
    contract.save()
    added = []
    present = set(contract.missions.values_list("mission_type_id", flat=True))
    for mission_type in _complementary_types(contract.version, add_complementary):
        if mission_type.pk not in present:
            ContractMission.objects.create(association=contract.association, contract=contract,
                                           mission_type=mission_type)
            added.append(mission_type.code)
    changes = diff(contract, before, CONTRACT_FIELDS)
    if added:
        changes["missions_added"] = added
    if document:
        changes["document"] = [None, contract.document.name]
    record(contract.association, actor, "aci.contract_update", contract, changes=changes, request=request)
    return contract


@transaction.atomic
def add_avenant(contract: Contract, actor: User, *, signed_on: date, summary: str, number: int | None = None,
                document: UploadedFile | None = None, request: HttpRequest | None = None) -> Avenant:
    """Record an avenant (numbered after the last one unless given)."""
    if signed_on < contract.signed_on:
        raise ServiceError(_("L'avenant ne peut pas être signé avant le contrat (signé le %(date)s).")
                           % {"date": f"{contract.signed_on:%d/%m/%Y}"}, field="signed_on", code="date_order")
    if signed_on > _today():
        raise ServiceError(_("La date de signature ne peut pas être dans le futur."), field="signed_on",
                           code="signed_in_future")
    if not (summary or "").strip():
        raise ServiceError(_("Décrivez ce que l'avenant modifie."), field="summary", code="summary_missing")
    existing = list(Avenant.objects.filter(contract=contract).values_list("number", flat=True))
    if number is None:
        number = max(existing, default=0) + 1
    elif number in existing:
        raise ServiceError(_("L'avenant n° %(number)s existe déjà.") % {"number": number}, field="number",
                           code="duplicate_avenant")
    avenant = Avenant(association=contract.association, contract=contract, number=number, signed_on=signed_on,
                      summary=summary.strip())
    if document:
        avenant.document.save(document.name, document, save=False)
    avenant.save()
    record(contract.association, actor, "aci.avenant_create", avenant, request=request,
           changes={"number": number, "signed_on": f"{signed_on:%Y-%m-%d}"})
    return avenant


def _check_people(mission: ContractMission, referent: Member | None, owner: User | None) -> None:
    association = mission.association
    if referent is not None and (referent.association_id != association.pk or referent.anonymized_at):
        raise ServiceError(_("Ce référent n'est pas un adhérent de l'association."), field="referent",
                           code="wrong_referent")
    if owner is not None and not UserRole.objects.filter(association=association, user=owner).exists():
        raise ServiceError(_("Cette personne n'a pas de rôle dans l'association."), field="owner",
                           code="wrong_owner")


@transaction.atomic
def update_mission(mission: ContractMission, actor: User, data: dict[str, Any], *,
                   request: HttpRequest | None = None) -> ContractMission:
    """Set the référent PS, the staff owner and the month overrides of the catalogue's delays."""
    _check_people(mission, data.get("referent", mission.referent), data.get("owner", mission.owner))
    for name in ("start_months", "deployment_months"):
        if data.get(name) is not None and not 0 <= data[name] <= 60:
            raise ServiceError(_("Le délai doit être compris entre 0 et 60 mois."), field=name, code="months_range")
    start = data.get("start_months", mission.start_months)
    deployment = data.get("deployment_months", mission.deployment_months)
    start = start if start is not None else mission.mission_type.start_months
    deployment = deployment if deployment is not None else mission.mission_type.deployment_months
    if start is not None and deployment is not None and deployment < start:
        raise ServiceError(_("Le déploiement complet ne peut pas être prévu avant le démarrage."),
                           field="deployment_months", code="date_order")
    before = {name: getattr(mission, name) for name in MISSION_FIELDS}
    for name in MISSION_FIELDS:
        if name in data:
            setattr(mission, name, data[name])
    mission.save()
    record(mission.association, actor, "aci.mission_update", mission, request=request,
           changes=diff(mission, before, MISSION_FIELDS))
    return mission


@transaction.atomic
def set_mission_status(mission: ContractMission, actor: User, status: str, *, started_on: date | None = None,
                       deployed_on: date | None = None, request: HttpRequest | None = None) -> ContractMission:
    """Set the status with the dates it was reached (dates after the signature, not in the future, in order)."""
    if status not in MissionStatus.values:
        raise ServiceError(_("État inconnu."), field="status", code="unknown_status")
    if status == MissionStatus.NOT_STARTED:
        started_on = deployed_on = None
    elif status == MissionStatus.STARTED:
        deployed_on = None
        if started_on is None:
            raise ServiceError(_("Indiquez la date de démarrage de la mission."), field="started_on",
                               code="started_on_missing")
    else:
        if started_on is None:
            raise ServiceError(_("Indiquez la date de démarrage de la mission."), field="started_on",
                               code="started_on_missing")
        if deployed_on is None:
            raise ServiceError(_("Indiquez la date de déploiement complet de la mission."), field="deployed_on",
                               code="deployed_on_missing")
    signed_on = mission.contract.signed_on
    today = _today()
    for name, day in (("started_on", started_on), ("deployed_on", deployed_on)):
        if day is None:
            continue
        if day < signed_on:
            raise ServiceError(_("Cette date est antérieure à la signature du contrat (%(date)s).")
                               % {"date": f"{signed_on:%d/%m/%Y}"}, field=name, code="before_signature")
        if day > today:
            raise ServiceError(_("Cette date est dans le futur."), field=name, code="in_future")
    if started_on and deployed_on and deployed_on < started_on:
        raise ServiceError(_("Le déploiement complet ne peut pas précéder le démarrage (%(date)s).")
                           % {"date": f"{started_on:%d/%m/%Y}"}, field="deployed_on", code="date_order")
    before = {"status": mission.status, "started_on": mission.started_on, "deployed_on": mission.deployed_on}
    mission.status, mission.started_on, mission.deployed_on = status, started_on, deployed_on
    mission.save(update_fields=["status", "started_on", "deployed_on"])
    record(mission.association, actor, "aci.mission_status", mission, request=request,
           changes=diff(mission, before, ["status", "started_on", "deployed_on"]))
    return mission


@transaction.atomic
def move_deadline(mission: ContractMission, actor: User, kind: str, due_on: date, *, avenant: Avenant | None = None,
                  reason: str = "", request: HttpRequest | None = None) -> DeadlineChange:
    """Move the start or full-deployment deadline; earlier changes stay as history (the latest wins)."""
    if kind not in DeadlineKind.values:
        raise ServiceError(_("Échéance inconnue."), field="kind", code="unknown_kind")
    contract = mission.contract
    if due_on <= contract.signed_on:
        raise ServiceError(_("La nouvelle échéance doit suivre la signature du contrat (%(date)s).")
                           % {"date": f"{contract.signed_on:%d/%m/%Y}"}, field="due_on", code="date_order")
    if avenant is not None and (avenant.contract_id != contract.pk or avenant.association_id != mission.association_id):
        raise ServiceError(_("Cet avenant n'appartient pas à ce contrat."), field="avenant", code="wrong_avenant")
    if avenant is None and not (reason or "").strip():
        raise ServiceError(_("Indiquez l'avenant qui reporte l'échéance, ou à défaut le motif du report."),
                           field="reason", code="reason_missing")
    # The other deadline of the mission, as it currently stands, must stay in order.
    dues = current_due_dates(mission)
    if kind == DeadlineKind.DEPLOYMENT and dues[DeadlineKind.START] and due_on < dues[DeadlineKind.START]:
        raise ServiceError(_("Le déploiement complet ne peut pas être prévu avant le démarrage (%(date)s).")
                           % {"date": f"{dues[DeadlineKind.START]:%d/%m/%Y}"}, field="due_on", code="date_order")
    if kind == DeadlineKind.START and dues[DeadlineKind.DEPLOYMENT] and due_on > dues[DeadlineKind.DEPLOYMENT]:
        raise ServiceError(_("Le démarrage ne peut pas être prévu après le déploiement complet (%(date)s).")
                           % {"date": f"{dues[DeadlineKind.DEPLOYMENT]:%d/%m/%Y}"}, field="due_on",
                           code="date_order")
    change = DeadlineChange.objects.create(association=mission.association, mission=mission, kind=kind,
                                           due_on=due_on, avenant=avenant, reason=(reason or "").strip(),
                                           created_by=actor if actor and actor.is_authenticated else None)
    record(mission.association, actor, "aci.deadline_move", mission, request=request, changes={
        "kind": kind, "due_on": [f"{dues[kind]:%Y-%m-%d}" if dues[kind] else None, f"{due_on:%Y-%m-%d}"],
        "avenant": avenant.number if avenant else None,
    })
    return change
