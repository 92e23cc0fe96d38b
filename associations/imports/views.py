"""Screens of an import: upload → column mapping → preview → confirmation → progress.

Thin views: reading, classification and writes live in ``services`` and the background task in
``tasks``. Every view serves one import kind, given by its URL (``urls.kind_urlpatterns``), and needs
that kind's capability; a job is looked up within the association and the kind.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from associations.errors import ServiceError
from associations.forms import BootstrapMixin
from associations.imports import reader, services
from associations.imports.classification import CREATE, ERROR, SHOWN_ROWS, UNCHANGED, UPDATE
from associations.imports.reader import ImportFileError, Table
from associations.imports.schema import ImportKind, import_kinds
from associations.models import ImportJob
from associations.permissions import has_capability

Status = ImportJob.Status
# Multipart overhead allowed above the file size limit before refusing from the Content-Length alone.
UPLOAD_OVERHEAD = 64 * 1024
STEPS = ("list", "upload", "mapping", "preview", "confirm", "status")


@dataclass(frozen=True)
class Screen:
    """The import kind a URL serves and the names of its URLs (``<prefix>_<step>``)."""

    kind: ImportKind
    prefix: str

    def url(self, step: str) -> str:
        return f"{self.prefix}_{step}"

    def context(self, **extra: Any) -> dict[str, Any]:
        urls = {step: self.url(step) for step in STEPS}
        return {"kind": self.kind, "wording": self.kind.wording, "urls": urls, **extra}


def kind_view(view: Callable) -> Callable:
    """Resolve the URL's import kind, then 403 unless the caller holds its capability."""

    @wraps(view)
    def wrapper(request: HttpRequest, association_slug: str, *, import_kind: str, url_prefix: str, **kwargs):
        kind = import_kinds.get(import_kind)
        if kind is None:
            raise Http404
        if not has_capability(request, kind.capability):
            raise PermissionDenied
        return view(request, Screen(kind, url_prefix), **kwargs)

    return wrapper


class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        error_messages={"required": gettext_lazy("Choisissez le fichier à importer."),
                        "empty": gettext_lazy("Le fichier est vide.")},
        widget=forms.ClearableFileInput(attrs={
            "accept": ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }),
    )

    def __init__(self, *args, kind: ImportKind, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["file"].label = kind.wording.file_label
        self.fields["file"].help_text = kind.wording.file_help

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        # The size is known before reading: a large file is refused without being read.
        if uploaded.size > reader.MAX_BYTES:
            raise forms.ValidationError(reader.too_big_message(uploaded.size))
        data = uploaded.read(reader.MAX_BYTES + 1)
        try:
            self.table = services.read_table(data, uploaded.name, self.kind.key)
        except ImportFileError as error:
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
    required ones are mapped."""

    kind: ImportKind
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
                self.add_error(name, _("« %(field)s » est déjà choisi pour la colonne « %(column)s » : ignorez l'une "
                                       "des deux.") % {"field": self.kind.fields_by_key[value].label,
                                                      "column": chosen[value]})
            else:
                chosen[value] = self.columns[index]
        problem = self.kind.mapping_problem(self.mapping())
        if problem and self.columns:
            self.add_error("col_0", problem)
        return cleaned

    def mapping(self) -> dict[str, str]:
        return {str(i): self.cleaned_data.get(f"col_{i}") or "" for i in range(len(self.columns))}


def mapping_form(kind: ImportKind, table: Table, mapping: dict[str, str], data=None) -> MappingFormBase:
    choices = [("", _("— Ignorer cette colonne —")), *kind.choices()]
    attrs: dict = {"kind": kind, "columns": table.headers}
    for index, header in enumerate(table.headers):
        samples = table.samples(index)
        attrs[f"col_{index}"] = forms.ChoiceField(
            label=_("Colonne %(letter)s « %(header)s »") % {"letter": _column_letter(index), "header": header},
            choices=choices, required=False, initial=mapping.get(str(index), ""),
            help_text=_("Exemples : %(samples)s") % {"samples": ", ".join(f"« {s[:40]} »" for s in samples)}
            if samples else _("Colonne vide dans le fichier."),
            widget=forms.Select(attrs={"aria-describedby": f"id_col_{index}_helptext"}),
        )
    form_class = type("MappingForm", (MappingFormBase,), attrs)
    return form_class(data)


def _job(request: HttpRequest, screen: Screen, pk: int) -> ImportJob:
    jobs = ImportJob.objects.filter(association=request.association, kind=screen.kind.key)
    return get_object_or_404(jobs.select_related("created_by"), pk=pk)


@require_GET
@kind_view
def import_list(request: HttpRequest, screen: Screen) -> HttpResponse:
    # One query (jobs with their author), whatever the number of imports.
    jobs = (ImportJob.objects.filter(association=request.association, kind=screen.kind.key)
            .select_related("created_by").defer("summary", "mapping")[:100])
    return render(request, "imports/list.html", screen.context(jobs=jobs))


@require_http_methods(["GET", "POST"])
@kind_view
@csrf_exempt  # checked below, after refusing an oversized body from its Content-Length without reading it
def import_upload(request: HttpRequest, screen: Screen) -> HttpResponse:
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > reader.MAX_BYTES + UPLOAD_OVERHEAD:
            form = UploadForm(data={}, kind=screen.kind)
            form.is_valid()
            form.errors["file"] = form.error_class([reader.too_big_message(length)])
            return render(request, "imports/upload.html", screen.context(form=form), status=400)
    return _upload(request, screen)


@csrf_protect
def _upload(request: HttpRequest, screen: Screen) -> HttpResponse:
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None, kind=screen.kind)
    if posted and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            job = services.create_job(request.association, request.user, uploaded.name, form.data_bytes,
                                      kind=screen.kind.key, request=request, table=form.table)
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, _("Fichier « %(name)s » déposé : %(count)s ligne(s). Vérifiez la "
                                        "correspondance des colonnes.") % {"name": job.original_name,
                                                                           "count": job.total_rows})
            return redirect(screen.url("mapping"), association_slug=request.association.slug, pk=job.pk)
    return render(request, "imports/upload.html", screen.context(form=form), status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@kind_view
def import_mapping(request: HttpRequest, screen: Screen, pk: int) -> HttpResponse:
    job = _job(request, screen, pk)
    slug = request.association.slug
    if job.status not in (Status.UPLOADED, Status.PREVIEWED):
        messages.info(request, _("Cet import a déjà été lancé : la correspondance des colonnes ne peut plus changer."))
        return redirect(screen.url("preview"), association_slug=slug, pk=job.pk)
    try:
        table = services.load_table(job)
    except (ImportFileError, OSError):
        messages.error(request, _("Le fichier de cet import n'est plus lisible : déposez-le à nouveau."))
        return redirect(screen.url("upload"), association_slug=slug)
    form = mapping_form(screen.kind, table, job.mapping, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_mapping(job, form.mapping(), table)
        except ServiceError as error:  # confirmed meanwhile in another tab
            messages.error(request, error.message)
        return redirect(screen.url("preview"), association_slug=slug, pk=job.pk)
    return render(request, "imports/mapping.html", screen.context(job=job, form=form, rows=len(table.rows)),
                  status=400 if form.errors else 200)


def _sections(screen: Screen, summary: dict) -> list[dict]:
    wording = screen.kind.wording
    counts = summary.get("counts") or {}
    hidden = summary.get("hidden") or {}
    rows = summary.get("rows") or []
    titles = [(ERROR, _("Lignes en erreur"), "danger"), (CREATE, wording.create_section, "success"),
              (UPDATE, wording.update_section, "primary"), (UNCHANGED, _("Lignes sans changement"), "secondary")]
    sections = []
    for action, title, color in titles:
        section = {"action": action, "title": title, "color": color, "count": counts.get(action, 0),
                   "hidden": hidden.get(action, 0), "rows": [r for r in rows if r["action"] == action]}
        section["warnings"] = sum(1 for r in section["rows"] if r["warnings"])
        # Open what needs reading: errors, rows with a warning, and the updates when nothing is in error.
        section["open"] = (action == ERROR or section["warnings"] > 0
                           or (action == UPDATE and not counts.get(ERROR)))
        sections.append(section)
    return sections


@require_GET
@kind_view
def import_preview(request: HttpRequest, screen: Screen, pk: int) -> HttpResponse:
    job = _job(request, screen, pk)
    if job.status == Status.UPLOADED:
        return redirect(screen.url("mapping"), association_slug=request.association.slug, pk=job.pk)
    summary = job.summary or {}
    counts = summary.get("counts") or {}
    confirm = screen.kind.wording.confirm % {"c": counts.get(CREATE, 0), "u": counts.get(UPDATE, 0)}
    return render(request, "imports/preview.html", screen.context(
        job=job, counts=counts, sections=_sections(screen, summary), warnings=summary.get("warnings", 0),
        errors=counts.get(ERROR, 0), shown=SHOWN_ROWS, confirm_text=confirm,
    ))


@require_POST
@kind_view
def import_confirm(request: HttpRequest, screen: Screen, pk: int) -> HttpResponse:
    job = _job(request, screen, pk)
    try:
        services.queue_import(job, request.user)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, screen.kind.wording.queued)
    return redirect(screen.url("preview"), association_slug=request.association.slug, pk=job.pk)


@require_GET
@kind_view
def import_status(request: HttpRequest, screen: Screen, pk: int) -> HttpResponse:
    """Progress of the job: an htmx partial polled every second while queued or running."""
    job = _job(request, screen, pk)
    template = "imports/_status.html" if getattr(request, "htmx", False) else "imports/status.html"
    return render(request, template, screen.context(job=job))
