"""Screens of the members import: upload → column mapping → preview → confirmation → progress.

Thin views: the reading, classification and writes live in ``imports`` (services) and the
background task in ``import_tasks``. Every view needs the ``import_members`` capability.
"""

from __future__ import annotations

import string

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from associations.forms import BootstrapMixin
from associations.membership import imports
from associations.models import ImportJob
from associations.permissions import require
from associations.services import ServiceError

Status = ImportJob.Status
# Multipart overhead allowed above the file size limit before refusing from the Content-Length alone.
UPLOAD_OVERHEAD = 64 * 1024


class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label="Fichier des adhérents (CSV ou Excel .xlsx)",
        help_text="10 Mo au maximum. La première ligne contient les intitulés des colonnes (Nom, Prénom, "
                  "Profession, RPPS, E-mail…). CSV : séparateur point-virgule ou virgule, UTF-8 ou Windows-1252.",
        error_messages={"required": "Choisissez le fichier à importer.", "empty": "Le fichier est vide."},
        widget=forms.ClearableFileInput(attrs={
            "accept": ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        # The size is known before reading: a large file is refused without being read.
        if uploaded.size > imports.MAX_BYTES:
            raise forms.ValidationError(imports.too_big_message(uploaded.size))
        data = uploaded.read(imports.MAX_BYTES + 1)
        try:
            self.table = imports.read_table(data, uploaded.name)
        except imports.ImportFileError as error:
            raise forms.ValidationError(str(error)) from None
        self.data_bytes = data
        return uploaded


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return letters


class MappingFormBase(BootstrapMixin, forms.Form):
    """One <select> per column of the file; ``clean`` checks a field is not chosen twice and that the
    name (or raison sociale) is mapped."""

    columns: list[str] = []

    def clean(self):
        cleaned = super().clean()
        chosen: dict[str, str] = {}
        for index in range(len(self.columns)):
            name = f"col_{index}"
            value = cleaned.get(name)
            if not value:
                continue
            if value in chosen:
                self.add_error(name, f"« {imports.FIELDS[value]} » est déjà choisi pour la colonne "
                                     f"« {chosen[value]} » : ignorez l'une des deux.")
            else:
                chosen[value] = self.columns[index]
        problem = imports.mapping_problem({str(i): cleaned.get(f"col_{i}") or "" for i in range(len(self.columns))})
        if problem and self.columns:
            self.add_error("col_0", problem)
        return cleaned

    def mapping(self) -> dict[str, str]:
        return {str(i): self.cleaned_data.get(f"col_{i}") or "" for i in range(len(self.columns))}


def mapping_form(table: imports.Table, mapping: dict[str, str], data=None) -> MappingFormBase:
    choices = [("", "— Ignorer cette colonne —"), *imports.FIELDS.items()]
    attrs: dict = {"columns": table.headers}
    for index, header in enumerate(table.headers):
        samples = table.samples(index)
        attrs[f"col_{index}"] = forms.ChoiceField(
            label=f"Colonne {_column_letter(index)} « {header} »", choices=choices, required=False,
            initial=mapping.get(str(index), ""),
            help_text=("Exemples : " + ", ".join(f"« {s[:40]} »" for s in samples)) if samples else
            "Colonne vide dans le fichier.",
            widget=forms.Select(attrs={"aria-describedby": f"id_col_{index}_helptext"}),
        )
    form_class = type("MappingForm", (MappingFormBase,), attrs)
    return form_class(data)


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.filter(association=request.association).select_related("created_by"),
                             pk=pk)


@require_GET
@require("import_members")
def import_list(request: HttpRequest, association_slug: str) -> HttpResponse:
    # One query (jobs with their author), whatever the number of imports.
    jobs = ImportJob.objects.filter(association=request.association).select_related("created_by").defer(
        "summary", "mapping")[:100]
    return render(request, "imports/list.html", {"jobs": jobs})


@require_http_methods(["GET", "POST"])
@require("import_members")
@csrf_exempt  # checked below, after refusing an oversized body from its Content-Length without reading it
def import_upload(request: HttpRequest, association_slug: str) -> HttpResponse:
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > imports.MAX_BYTES + UPLOAD_OVERHEAD:
            form = UploadForm(data={})
            form.is_valid()
            form.errors["file"] = form.error_class([imports.too_big_message(length)])
            return render(request, "imports/upload.html", {"form": form}, status=400)
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            job = imports.create_job(request.association, request.user, uploaded.name, form.data_bytes,
                                     request=request, table=form.table)
        except imports.ImportFileError as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, f"Fichier « {job.original_name} » déposé : {job.total_rows} ligne(s). "
                                      "Vérifiez la correspondance des colonnes.")
            return redirect("import_mapping", association_slug=request.association.slug, pk=job.pk)
    return render(request, "imports/upload.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require("import_members")
def import_mapping(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status not in (Status.UPLOADED, Status.PREVIEWED):
        messages.info(request, "Cet import a déjà été lancé : la correspondance des colonnes ne peut plus changer.")
        return redirect("import_preview", association_slug=association_slug, pk=job.pk)
    try:
        table = imports.load_table(job)
    except (imports.ImportFileError, OSError):
        messages.error(request, "Le fichier de cet import n'est plus lisible : déposez-le à nouveau.")
        return redirect("import_upload", association_slug=association_slug)
    form = mapping_form(table, job.mapping, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            imports.save_mapping(job, form.mapping(), table)
        except ServiceError as error:  # confirmed meanwhile in another tab
            messages.error(request, str(error))
        return redirect("import_preview", association_slug=association_slug, pk=job.pk)
    return render(request, "imports/mapping.html", {"job": job, "form": form, "rows": len(table.rows)},
                  status=400 if form.errors else 200)


SECTIONS = [
    (imports.ERROR, "Lignes en erreur", "danger"),
    (imports.CREATE, "Adhérents à créer", "success"),
    (imports.UPDATE, "Adhérents à mettre à jour", "primary"),
    (imports.UNCHANGED, "Lignes sans changement", "secondary"),
]


@require_GET
@require("import_members")
def import_preview(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status == Status.UPLOADED:
        return redirect("import_mapping", association_slug=association_slug, pk=job.pk)
    summary = job.summary or {}
    counts = summary.get("counts") or {}
    hidden = summary.get("hidden") or {}
    rows = summary.get("rows") or []
    sections = [
        {"action": action, "title": title, "color": color, "count": counts.get(action, 0),
         "hidden": hidden.get(action, 0), "rows": [r for r in rows if r["action"] == action]}
        for action, title, color in SECTIONS
    ]
    for section in sections:
        section["warnings"] = sum(1 for r in section["rows"] if r["warnings"])
        # Open what needs reading: errors, rows with a warning, and the updates when nothing is in error.
        section["open"] = (section["action"] == imports.ERROR or section["warnings"] > 0
                           or (section["action"] == imports.UPDATE and not counts.get(imports.ERROR)))
    return render(request, "imports/preview.html", {
        "job": job, "counts": counts, "sections": sections, "warnings": summary.get("warnings", 0),
        "errors": counts.get(imports.ERROR, 0), "shown": imports.SHOWN_ROWS,
    })


@require_POST
@require("import_members")
def import_confirm(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        imports.queue_import(job, request.user)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Import lancé : les adhérents sont enregistrés en arrière-plan.")
    return redirect("import_preview", association_slug=association_slug, pk=job.pk)


@require_GET
@require("import_members")
def import_status(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """Progress of the job: an htmx partial polled every second while queued or running."""
    job = _job(request, pk)
    template = "imports/_status.html" if getattr(request, "htmx", False) else "imports/status.html"
    return render(request, template, {"job": job})
