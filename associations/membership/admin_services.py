"""Writes of the membership administration screens (settings, tariffs, collèges, documents, exports).

One transactional function per write, explicit actor, one audit row (DESIGN.md §Where code goes).
Business refusals raise ``ServiceError`` with a French message shown next to the field.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from associations import audit
from associations.models import (
    Association,
    AssociationDocument,
    College,
    DocumentKind,
    Member,
    Tariff,
    TariffCategory,
    User,
)
from associations.services import ServiceError

CENT = Decimal("0.01")
SETTINGS_FIELDS = ["membership_period", "iban", "bic", "cheque_payee", "cheque_address", "lapsed_review_years"]


def update_membership_settings(association: Association, actor: User, data: dict[str, Any],
                               request: HttpRequest | None = None) -> Association:
    """Period rule, bank details for transfers, cheque payee and address, RGPD review delay."""
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Unknown settings fields: {sorted(unknown)}")
    before = {name: getattr(association, name) for name in data}
    with transaction.atomic():
        for name, value in data.items():
            setattr(association, name, value)
        changes = audit.diff(association, before, list(data))
        if changes:
            association.save(update_fields=list(changes))
            audit.record(association, actor, "membership.settings", association, changes=changes, request=request)
    return association


def save_tariffs(association: Association, actor: User, amounts: dict[str, Decimal],
                 request: HttpRequest | None = None) -> dict[str, Tariff]:
    """Create or update the yearly amount of each category (Decimal ≥ 0)."""
    for category, amount in amounts.items():
        if category not in TariffCategory.values:
            raise ServiceError(_("Catégorie de tarif inconnue."))
        if amount is None or amount < Decimal("0"):
            raise ServiceError(_("Le montant ne peut pas être négatif."))
    amounts = {category: amount.quantize(CENT) for category, amount in amounts.items()}
    with transaction.atomic():
        existing = {t.category: t for t in Tariff.objects.select_for_update().filter(association=association)}
        changes: dict[str, list[str | None]] = {}
        saved: dict[str, Tariff] = {}
        for category, amount in amounts.items():
            tariff = existing.get(category)
            if tariff is None:
                tariff = Tariff.objects.create(association=association, category=category, amount=amount)
                changes[category] = [None, str(amount)]
            elif tariff.amount != amount:
                changes[category] = [str(tariff.amount), str(amount)]
                tariff.amount = amount
                tariff.save(update_fields=["amount"])
            saved[category] = tariff
        if changes:
            audit.record(association, actor, "tariff.save", None, changes=changes, request=request,
                         target_label="Tarifs des cotisations")
    return saved


def _check_college_name(association: Association, name: str, exclude_pk: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Indiquez le nom du collège."))
    others = College.objects.filter(association=association, name__iexact=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ServiceError(_("Un collège porte déjà ce nom."))
    return name


def create_college(association: Association, actor: User, name: str,
                   request: HttpRequest | None = None) -> College:
    name = _check_college_name(association, name)
    try:
        with transaction.atomic():
            college = College.objects.create(association=association, name=name)
            audit.record(association, actor, "college.create", college, changes={"name": name}, request=request)
    except IntegrityError:  # a concurrent creation with the same name
        raise ServiceError(_("Un collège porte déjà ce nom.")) from None
    return college


def rename_college(college: College, actor: User, name: str, request: HttpRequest | None = None) -> College:
    name = _check_college_name(college.association, name, exclude_pk=college.pk)
    if name == college.name:
        return college
    old = college.name
    try:
        with transaction.atomic():
            college.name = name
            college.save(update_fields=["name"])
            audit.record(college.association, actor, "college.rename", college, changes={"name": [old, name]},
                         request=request)
    except IntegrityError:
        college.name = old
        raise ServiceError(_("Un collège porte déjà ce nom.")) from None
    return college


def delete_college(college: College, actor: User, request: HttpRequest | None = None) -> None:
    """Delete a collège no member belongs to (anonymised members included: their rows stay)."""
    with transaction.atomic():
        used = Member.objects.filter(association=college.association, college=college).count()
        if used:
            raise ServiceError(
                _("Ce collège ne peut pas être supprimé : %(used)s adhérent(s) y sont rattachés. "
                  "Changez d'abord leur collège.") % {"used": used}
            )
        audit.record(college.association, actor, "college.delete", college, changes={"name": college.name},
                     request=request)
        college.delete()


MAX_DOCUMENT_SIZE = 10 * 1024 * 1024


def check_pdf(uploaded: UploadedFile) -> None:
    """A PDF (by name and by content) of at most 10 Mo; ``ServiceError`` otherwise."""
    if uploaded.size is not None and uploaded.size > MAX_DOCUMENT_SIZE:
        raise ServiceError(_("Le fichier ne doit pas dépasser 10 Mo."))
    if not uploaded.size:
        raise ServiceError(_("Le fichier est vide."))
    if not (uploaded.name or "").lower().endswith(".pdf"):
        raise ServiceError(_("Seuls les fichiers PDF sont acceptés."))
    uploaded.seek(0)
    header = uploaded.read(5)
    uploaded.seek(0)
    if header != b"%PDF-":
        raise ServiceError(_("Ce fichier n'est pas un PDF valide."))


def _pdf_name(original: str, kind: str) -> str:
    try:
        stem = get_valid_filename(Path(original or "").stem)[:60].strip("._-")
    except SuspiciousFileOperation:  # nothing usable left in the name
        stem = ""
    return f"{stem or kind}.pdf"


def upload_document(association: Association, actor: User, kind: str, uploaded: UploadedFile,
                    request: HttpRequest | None = None) -> AssociationDocument:
    """Store a new version of the statutes, the règlement intérieur or the RGPD notice (the latest applies).

    The file lands under ``associations/<id>/documents/<kind>/`` (the model's ``upload_to``).
    """
    if kind not in DocumentKind.values:
        raise ServiceError(_("Type de document inconnu."))
    check_pdf(uploaded)
    document = AssociationDocument(association=association, kind=kind, uploaded_by=actor)
    document.file.save(_pdf_name(uploaded.name, kind), uploaded, save=False)
    try:
        with transaction.atomic():
            document.save()
            audit.record(association, actor, "document.upload", document,
                         changes={"kind": kind, "file": document.file.name, "size": uploaded.size},
                         request=request)
    except Exception:
        # Nothing was written to the database: do not leave the stored file behind.
        document.file.storage.delete(document.file.name)
        raise
    return document


def latest_documents(association: Association) -> list[AssociationDocument]:
    """The latest document of each kind, in the order of ``DocumentKind`` (one query)."""
    latest: dict[str, AssociationDocument] = {}
    for document in (AssociationDocument.objects.filter(association=association)
                     .select_related("uploaded_by").order_by("kind", "-uploaded_at", "-id")):
        latest.setdefault(document.kind, document)
    return [latest[kind] for kind in DocumentKind.values if kind in latest]


def record_member_export(member: Member, actor: User, export_format: str,
                         request: HttpRequest | None = None) -> None:
    """Leave a trace when staff download a member's personal data (RGPD access/portability)."""
    with transaction.atomic():
        audit.record(member.association, actor, "member.export", member, changes={"format": export_format},
                     request=request)
