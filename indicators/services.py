"""Writes of the indicators app: indicators of a mission, the grid's values per contract year, target
revisions and evidence (livrables).

Every function runs in one transaction with an explicit ``actor`` and leaves an audit row; a refused
operation raises ``ServiceError`` (French message, ``field`` naming the form field) and saves nothing.
Value rules live here, not in the forms, so the CPAM import can reuse them: a realised value must be a
number (``12``, ``12,5``, ``1 200``), a rate cannot exceed 100 %, a yes/no deliverable is 0 or 1
(« oui » / « non »), no value is negative. A target equal to the baseline is accepted: the achievement
then says "non définie" and why (``indicators.achievement``).
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from associations import audit
from associations.errors import ServiceError
from associations.models import Association, User
from indicators.models import Evidence, EvidenceKind, Feed, Indicator, IndicatorValue, TargetRevision
from missions.calendar import CONTRACT_YEARS
from missions.models import Avenant, ContractMission, IndicatorTemplate, Unit

VALUE_FIELDS = ("baseline", "target", "realised")
INDICATOR_FIELDS = ["code", "label", "unit", "direction", "weight", "source", "feed", "feed_action_type_id", "order",
                    "template_id"]
MAX_VALUE = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
YES = {"oui", "o", "yes", "y", "vrai", "true", "x", "1"}
NO = {"non", "n", "no", "faux", "false", "0"}


# --- Indicators ----------------------------------------------------------------------------------


def _check_indicator(indicator: Indicator) -> None:
    if indicator.template_id and indicator.template.mission_type_id != indicator.mission.mission_type_id:
        raise ServiceError(_("Ce modèle d'indicateur appartient à une autre mission."), field="template",
                           code="template_mission")
    if not (indicator.label or "").strip():
        raise ServiceError(_("Donnez un libellé à l'indicateur (ou choisissez un modèle)."), field="label",
                           code="label")
    if indicator.weight is None or indicator.weight < 0:
        raise ServiceError(_("Le poids doit être un nombre positif ou nul."), field="weight", code="weight")
    if indicator.feed == Feed.MANUAL:
        indicator.feed_action_type = None
    else:
        if indicator.feed_action_type_id is None:
            raise ServiceError(_("Choisissez le type d'action qui alimente cet indicateur."),
                               field="feed_action_type", code="feed_type")
        if indicator.unit != Unit.COUNT:
            raise ServiceError(_("Un indicateur alimenté par les actions est un nombre : choisissez l'unité "
                                 "« Nombre »."), field="unit", code="feed_unit")


def _from_template(indicator: Indicator) -> None:
    """Fill what the coordinator left empty from the chosen template (wording, unit, direction, source)."""
    template = indicator.template
    if template is None:
        return
    indicator.label = (indicator.label or "").strip() or template.label
    indicator.unit = indicator.unit or template.unit
    indicator.direction = indicator.direction or template.direction
    indicator.source = indicator.source or template.source


def create_indicator(mission: ContractMission, actor: User, data: dict[str, Any], *,
                     request: HttpRequest | None = None) -> Indicator:
    """Add an indicator to a mission of the contract, from a template (``data["template"]``) or free."""
    template: IndicatorTemplate | None = data.get("template")
    indicator = Indicator(association=mission.association, mission=mission, template=template,
                          code=data.get("code") or "", label=data.get("label") or "", unit=data.get("unit") or "",
                          direction=data.get("direction") or "", weight=data.get("weight", Decimal(1)),
                          source=data.get("source") or "", feed=data.get("feed") or Feed.MANUAL,
                          feed_action_type=data.get("feed_action_type"), order=data.get("order") or 0)
    _from_template(indicator)
    if not indicator.unit:
        raise ServiceError(_("Choisissez l'unité de l'indicateur (ou un modèle)."), field="unit", code="unit")
    if not indicator.direction:
        raise ServiceError(_("Choisissez le sens de l'indicateur (ou un modèle)."), field="direction",
                           code="direction")
    indicator.source = indicator.source or "cpts"
    _check_indicator(indicator)
    with transaction.atomic():
        if not indicator.order:
            indicator.order = Indicator.objects.filter(mission=mission).count() + 1
        indicator.save()
        audit.record(mission.association, actor, "indicator.create", indicator,
                     changes={"mission": str(mission), "template": template.pk if template else None},
                     request=request)
    return indicator


def update_indicator(indicator: Indicator, actor: User, data: dict[str, Any], *,
                     request: HttpRequest | None = None) -> Indicator:
    """Change an indicator's wording, unit, direction, weight, source or feed."""
    before = {name: getattr(indicator, name) for name in INDICATOR_FIELDS}
    for name in ("code", "label", "unit", "direction", "weight", "source", "feed", "feed_action_type", "order",
                 "template"):
        if name in data:
            setattr(indicator, name, data[name])
    indicator.code = indicator.code or ""
    indicator.order = indicator.order or 0
    _from_template(indicator)
    _check_indicator(indicator)
    changes = audit.diff(indicator, before, INDICATOR_FIELDS)
    if not changes:
        return indicator
    with transaction.atomic():
        indicator.save()
        audit.record(indicator.association, actor, "indicator.update", indicator, changes=changes, request=request)
    return indicator


def delete_indicator(indicator: Indicator, actor: User, *, request: HttpRequest | None = None) -> None:
    """Remove an indicator with its values and their evidence (the files go after the commit)."""
    files = list(Evidence.objects.filter(value__indicator=indicator).values_list("file", flat=True))
    storage = Evidence._meta.get_field("file").storage
    with transaction.atomic():
        values = IndicatorValue.objects.filter(indicator=indicator).count()
        audit.record(indicator.association, actor, "indicator.delete", indicator,
                     changes={"values": values, "evidence": len(files)}, request=request)
        indicator.delete()
        transaction.on_commit(lambda: [storage.delete(name) for name in files if name])


# --- Values --------------------------------------------------------------------------------------


def parse_number(raw: Any, unit: str, *, field: str = "realised") -> Decimal | None:
    """A value typed in the grid (``12``, ``12,5``, ``1 200``, ``62,89 %``, « oui ») as a Decimal, None when
    empty; ``ServiceError`` when it is not a number."""
    if raw is None:
        return None
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int | float):
        return Decimal(str(raw))
    text = str(raw).strip().lower()
    if not text:
        return None
    if unit == Unit.BOOLEAN:
        if text in YES:
            return Decimal(1)
        if text in NO:
            return Decimal(0)
    text = re.sub(r"[\s\u00a0\u202f]", "", text).rstrip("%€").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        if unit == Unit.BOOLEAN:
            raise ServiceError(_("Répondez « oui » ou « non » (ou 1 / 0)."), field=field, code="not_boolean")
        raise ServiceError(_("« %(value)s » n'est pas un nombre : saisissez par exemple 12 ou 12,5.")
                           % {"value": str(raw).strip()[:40]}, field=field, code="not_a_number")
    return value


def check_value(value: Decimal | None, unit: str, *, field: str = "realised") -> Decimal | None:
    """The rules every baseline, target and realised value obeys (``ServiceError`` otherwise)."""
    if value is None:
        return None
    if unit == Unit.BOOLEAN:
        if value not in (0, 1):
            raise ServiceError(_("Un livrable vaut « oui » (1) ou « non » (0)."), field=field, code="not_boolean")
        return value
    if value < 0:
        raise ServiceError(_("La valeur ne peut pas être négative."), field=field, code="negative")
    if unit == Unit.RATE and value > 100:
        raise ServiceError(_("Un taux ne peut pas dépasser 100 %."), field=field, code="rate_above_100")
    if abs(value) > MAX_VALUE:
        raise ServiceError(_("La valeur est trop grande."), field=field, code="too_big")
    if value != value.quantize(Decimal("0.01")):
        raise ServiceError(_("Deux décimales au plus."), field=field, code="decimals")
    return value


def _check_year(year: int) -> None:
    if not 1 <= int(year) <= CONTRACT_YEARS:
        raise ServiceError(_("Le contrat compte les années 1 à %(n)s.") % {"n": CONTRACT_YEARS}, field="year",
                           code="year")


def _value_row(indicator: Indicator, year: int) -> IndicatorValue:
    value = (IndicatorValue.objects.select_for_update().filter(indicator=indicator, year=year).first())
    if value is None:
        value = IndicatorValue(association=indicator.association, indicator=indicator, year=year)
    value.indicator = indicator  # same row: spares the parent check a query
    return value


def save_value(indicator: Indicator, year: int, field: str, raw: Any, actor: User | None, *,
               measured_on: date | None = None, avenant: Avenant | None = None,
               request: HttpRequest | None = None) -> IndicatorValue:
    """Save one cell of the grid: the baseline, target or realised value of ``indicator`` for contract year
    ``year``. Empty clears it. A realised value records when it was measured (today by default) and who
    entered it; a changed target keeps the old one in a ``TargetRevision`` (with the avenant, if any).
    The realised value of an indicator fed by actions is computed, never typed."""
    if field not in VALUE_FIELDS:
        raise ServiceError(_("Valeur inconnue."), field="field", code="field")
    _check_year(year)
    if field == "realised" and indicator.feed != Feed.MANUAL:
        raise ServiceError(_("La valeur réalisée de cet indicateur est calculée à partir des actions."),
                           field=field, code="computed")
    number = check_value(parse_number(raw, indicator.unit, field=field), indicator.unit, field=field)
    if avenant is not None and avenant.association_id != indicator.association_id:
        raise ServiceError(_("Avenant inconnu."), field="avenant", code="avenant")
    with transaction.atomic():
        value = _value_row(indicator, year)
        old = getattr(value, field)
        old_measured = value.measured_on
        if field == "realised":
            value.measured_on = (measured_on or timezone.localdate()) if number is not None else None
        if old == number and (field != "realised" or old_measured == value.measured_on):
            return value
        setattr(value, field, number)
        value.entered_by = actor if actor is not None and actor.is_authenticated else None
        value.entered_at = timezone.now()
        value.save()
        changes = {field: [None if old is None else str(old), None if number is None else str(number)]}
        if field == "realised" and value.measured_on:
            changes["measured_on"] = value.measured_on.isoformat()
        if field == "target" and (old is not None or avenant is not None):
            revision = TargetRevision(association=indicator.association, value=value, old_target=old,
                                      new_target=number, avenant=avenant, created_by=value.entered_by)
            revision.value = value
            revision.save()
            if avenant is not None:
                changes["avenant"] = avenant.number
        audit.record(indicator.association, actor, f"indicator_value.{field}", value,
                     target_label=f"{indicator.label} — {_('année')} {year}", changes=changes, request=request)
    return value


def revise_target(indicator: Indicator, year: int, raw: Any, actor: User, *, avenant: Avenant | None,
                  request: HttpRequest | None = None) -> IndicatorValue:
    """A target changed by an avenant: the old value stays in the revisions."""
    return save_value(indicator, year, "target", raw, actor, avenant=avenant, request=request)


# --- Evidence ------------------------------------------------------------------------------------

MAX_EVIDENCE_SIZE = 10 * 1024 * 1024

# Accepted types: extension → (what the content must be, label for messages).
ACCEPTED = {
    "pdf": "pdf", "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "xlsx": "xlsx", "csv": "csv", "docx": "docx",
    "odt": "odt",
}
CONTENT_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}


def accepted_types_help() -> str:
    return _("PDF, PNG, JPEG, Excel (.xlsx), CSV, Word (.docx) ou OpenDocument (.odt), 10 Mo au maximum.")


def _zip_kind(data: UploadedFile) -> str | None:
    try:
        with zipfile.ZipFile(data) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and archive.read("mimetype").strip() == b"application/vnd.oasis.opendocument.text":
                return "odt"
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(ord(char) < 32 and char not in "\t\r\n" for char in text)
    # A multi-byte character cut at the end of the sample: retry without the last bytes.
    try:
        head[:-3].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_kind(uploaded: UploadedFile) -> str | None:
    """What the file's content is (``pdf``, ``png``, ``jpeg``, ``xlsx``, ``docx``, ``odt``, ``csv``) or None."""
    uploaded.seek(0)
    head = uploaded.read(8192)
    uploaded.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(uploaded)
        uploaded.seek(0)
        return kind
    if _is_text(head):
        return "csv"
    return None


def check_evidence_file(uploaded: UploadedFile) -> str:
    """The file's type when we accept it (by extension and by content); ``ServiceError`` otherwise."""
    if uploaded is None:
        raise ServiceError(_("Choisissez un fichier."), field="file", code="no_file")
    if uploaded.size is not None and uploaded.size > MAX_EVIDENCE_SIZE:
        raise ServiceError(_("Le fichier est trop volumineux (%(size)s Mo) : 10 Mo au maximum.")
                           % {"size": f"{uploaded.size / 1024 / 1024:.1f}".replace(".", ",")},
                           field="file", code="too_big")
    if not uploaded.size:
        raise ServiceError(_("Le fichier est vide."), field="file", code="empty")
    extension = Path(uploaded.name or "").suffix.lower().lstrip(".")
    expected = ACCEPTED.get(extension)
    if expected is None:
        raise ServiceError(_("Ce type de fichier n'est pas accepté : déposez un %(types)s")
                           % {"types": accepted_types_help()}, field="file", code="type")
    found = detect_kind(uploaded)
    if found != expected:
        raise ServiceError(_("Le contenu de ce fichier ne correspond pas à son extension .%(ext)s : déposez un "
                             "%(types)s") % {"ext": extension, "types": accepted_types_help()},
                           field="file", code="content")
    return found


def _stored_name(original: str, kind: str) -> str:
    path = Path(original or "")
    try:
        stem = get_valid_filename(path.stem)[:80].strip("._-")
    except SuspiciousFileOperation:
        stem = ""
    extension = path.suffix.lower().lstrip(".") or kind
    return f"{stem or 'livrable'}.{extension}"


def add_evidence(association: Association, actor: User, uploaded: UploadedFile, *, kind: str, title: str,
                 on: date, indicator: Indicator | None = None, year: int | None = None,
                 action: Any = None, request: HttpRequest | None = None) -> Evidence:
    """Attach a file to an indicator-year (the value row is created if needed) or to an action."""
    if kind not in EvidenceKind.values:
        raise ServiceError(_("Type de livrable inconnu."), field="kind", code="kind")
    if not (title or "").strip():
        raise ServiceError(_("Donnez un titre au livrable."), field="title", code="title")
    if (indicator is None) == (action is None):
        raise ServiceError(_("Un livrable porte sur une valeur d'indicateur ou sur une action."), code="subject")
    for subject in (indicator, action):
        if subject is not None and subject.association_id != association.pk:
            raise ServiceError(_("Objet inconnu."), code="subject")
    if indicator is not None:
        _check_year(year or 0)
    detected = check_evidence_file(uploaded)
    evidence = Evidence(association=association, action=action, kind=kind, title=title.strip()[:200], date=on,
                        uploaded_by=actor)
    evidence.file.save(_stored_name(uploaded.name, detected), uploaded, save=False)
    try:
        with transaction.atomic():
            if indicator is not None:
                value = _value_row(indicator, year)
                if value.pk is None:
                    value.save()
                evidence.value = value
            evidence.save()
            audit.record(association, actor, "evidence.add", evidence,
                         changes={"file": evidence.file.name, "size": uploaded.size, "kind": kind,
                                  "type": detected, "subject": str(evidence.value or action)},
                         request=request)
    except Exception:
        evidence.file.storage.delete(evidence.file.name)  # nothing saved: do not leave the file behind
        raise
    return evidence


def delete_evidence(evidence: Evidence, actor: User, *, request: HttpRequest | None = None) -> None:
    name = evidence.file.name
    storage = evidence.file.storage
    with transaction.atomic():
        audit.record(evidence.association, actor, "evidence.delete", evidence, changes={"file": name},
                     request=request)
        evidence.delete()
        transaction.on_commit(lambda: storage.delete(name) if name else None)
