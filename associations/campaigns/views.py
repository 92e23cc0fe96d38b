"""The coordinator's campaign screens: list, form (message + audience from the member directory's
filters), campaign page (audience, preview, test send, launch or schedule; after launch the funnel and
the live progress) and the recipients list with its export. Thin views: form → service → redirect.

Every object is fetched through ``request.association``: another association's campaign or member is a 404.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_tables2 import RequestConfig

from associations.campaigns import selectors, services
from associations.campaigns.forms import (
    DEFAULT_AUDIENCE,
    CampaignForm,
    RecipientFilterForm,
    ScheduleForm,
    audience_filter,
    audience_is_valid,
    audience_values,
    placeholders_help,
    prefixed,
)
from associations.campaigns.rendering import PLACEHOLDERS
from associations.campaigns.tables import CampaignTable, RecipientTable, campaign_state
from associations.exports import export_response
from associations.models import Campaign, CampaignKind, CampaignStatus, Member
from associations.permissions import has_capability, require
from associations.services import ServiceError

PER_PAGE = 50
LAUNCHED_ERROR = "Cette campagne est déjà lancée : elle ne peut plus être modifiée."


def _campaign_or_404(request: HttpRequest, pk: int) -> Campaign:
    campaign = get_object_or_404(Campaign.objects.filter(association=request.association).select_related("launched_by"),
                                 pk=pk)
    campaign.association = request.association  # same row: spares services a query
    return campaign


def _member_or_404(request: HttpRequest, value: str) -> Member:
    """A member of this association chosen in a form (an unknown or foreign id is a 404)."""
    if not str(value).isdigit():
        raise Http404
    member = get_object_or_404(Member.objects.filter(association=request.association, anonymized_at=None)
                               .select_related("profession"), pk=int(value))
    member.association = request.association
    return member


def _to_detail(campaign: Campaign) -> HttpResponse:
    return redirect("campaign_detail", association_slug=campaign.association.slug, pk=campaign.pk)


# --- List ----------------------------------------------------------------------------------------


@require_GET
@require("view_campaigns")
def campaign_list(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    table = CampaignTable(selectors.campaign_list(association), association_slug=association.slug)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render(request, "campaigns/campaign_list.html", {
        "table": table, "can_manage": has_capability(request, "manage_campaigns"),
    })


# --- Create and edit -----------------------------------------------------------------------------


def _campaign_form(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    association = request.association
    instance = campaign or Campaign(association=association)
    if request.method == "POST":
        form = CampaignForm(request.POST, association=association, instance=instance)
        audience = audience_filter(request, request.POST)
        audience_ok = audience_is_valid(audience)
        if form.is_valid() and audience_ok:
            stored = _campaign_or_404(request, campaign.pk) if campaign else None  # the form changed ``instance``
            try:
                saved = services.save_campaign(association, request.user, form.service_data(audience_values(audience)),
                                               campaign=stored, request=request)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("La campagne « %(name)s » a été enregistrée.") % {"name": saved.name})
                return redirect("campaign_detail", association_slug=association.slug, pk=saved.pk)
        kind = form.cleaned_data.get("kind") if hasattr(form, "cleaned_data") else None
        stored_audience = audience_values(audience)
    else:
        if campaign is not None:
            form = CampaignForm(association=association, instance=instance)
            kind, stored_audience = campaign.kind, campaign.audience
        else:
            kind = request.GET.get("kind")
            kind = kind if kind in CampaignKind.values else CampaignKind.RENEWAL
            form = CampaignForm(association=association, instance=instance, initial={"kind": kind})
            stored_audience = DEFAULT_AUDIENCE.get(kind, {})
        audience = audience_filter(request, prefixed(stored_audience) or None)
        audience_ok = audience_is_valid(audience)
    summary = None
    if audience_ok:
        summary = services.summarize_audience(association, kind or CampaignKind.RENEWAL, stored_audience)
    return render(request, "campaigns/campaign_form.html", {
        "form": form, "audience": audience, "campaign": campaign, "summary": summary,
        "audience_errors": not audience_ok, "placeholders": PLACEHOLDERS, "placeholders_help": placeholders_help(),
    })


@require("manage_campaigns")
def campaign_create(request: HttpRequest, association_slug: str) -> HttpResponse:
    return _campaign_form(request, None)


@require("manage_campaigns")
def campaign_edit(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    if not campaign.is_editable:
        messages.error(request, LAUNCHED_ERROR)
        return _to_detail(campaign)
    return _campaign_form(request, campaign)


# --- Audience ------------------------------------------------------------------------------------


@require_GET
@require("view_campaigns")
def campaign_audience(request: HttpRequest, association_slug: str) -> HttpResponse:
    """htmx partial: count, exclusions and sample of the audience chosen in the form (nothing stored)."""
    association = request.association
    kind = request.GET.get("kind")
    kind = kind if kind in CampaignKind.values else CampaignKind.RENEWAL
    audience = audience_filter(request, request.GET)
    summary = None
    if audience_is_valid(audience):
        summary = services.summarize_audience(association, kind, audience_values(audience))
    return render(request, "campaigns/_audience.html", {"summary": summary, "audience_errors": summary is None})


# --- Campaign page -------------------------------------------------------------------------------


@require_GET
@require("view_campaigns")
def campaign_detail(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """Before launch: audience (count, exclusions, sample), preview and actions. After: the funnel,
    overall and by profession, with the live progress while rows wait. A fixed number of queries."""
    campaign = _campaign_or_404(request, pk)
    association = request.association
    context = {
        "campaign": campaign, "can_manage": has_capability(request, "manage_campaigns"),
        "audience_description": selectors.describe_audience(association, campaign.audience),
        "launched": campaign.status == CampaignStatus.LAUNCHED,
    }
    if campaign.status == CampaignStatus.LAUNCHED:
        stats = selectors.campaign_stats(campaign)
        campaign.waiting_count = stats.funnel.waiting
        context.update(stats=stats, funnel=stats.funnel, excluded=_excluded_display(campaign.excluded))
    else:
        try:
            context["summary"] = services.summarize_audience(association, campaign.kind, campaign.audience)
        except ServiceError as error:
            context["audience_error"] = str(error)
        context["schedule_form"] = ScheduleForm(auto_id="schedule_%s", initial={
            "scheduled_at": campaign.scheduled_at})
    context["state"] = campaign_state(campaign)
    return render(request, "campaigns/campaign_detail.html", context)


def _excluded_display(excluded: dict) -> list[tuple[str, int]]:
    # In the labels' order: PostgreSQL's jsonb does not keep the keys' order.
    excluded = excluded or {}
    return [(label, excluded[key]) for key, label in services.AudienceSummary.EXCLUSION_LABELS.items()
            if excluded.get(key)]


@require_GET
@require("view_campaigns")
def campaign_progress(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """htmx partial polled every 2 s while rows are queued or sending."""
    campaign = _campaign_or_404(request, pk)
    funnel = selectors.funnel(campaign) if campaign.status == CampaignStatus.LAUNCHED else None
    response = render(request, "campaigns/_progress.html", {"campaign": campaign, "funnel": funnel})
    if getattr(request, "htmx", False) and funnel is not None and not funnel.sending:
        response["HX-Refresh"] = "true"  # sending just ended while the page polled: show the final funnel
    return response


@require_GET
@require("view_campaigns")
def campaign_preview(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    """The message as one member of this association would receive it (``?member=<id>``)."""
    campaign = _campaign_or_404(request, pk)
    association = request.association
    chosen = request.GET.get("member", "")
    member = None
    if chosen:
        member = _member_or_404(request, chosen)
    else:
        with contextlib.suppress(ServiceError):  # invalid stored filters: the campaign page says so
            member = (services.recipients_of(association, campaign.kind, campaign.audience)
                      .select_related("profession").order_by("id").first())
    context = {"campaign": campaign, "member": member, "can_manage": has_capability(request, "manage_campaigns")}
    if member is not None:
        try:
            context["preview"] = services.preview(campaign, member)
        except ServiceError as error:
            context["preview_error"] = str(error)
    template = "campaigns/_preview.html" if getattr(request, "htmx", False) else "campaigns/preview.html"
    return render(request, template, context)


# --- Actions -------------------------------------------------------------------------------------


@require_POST
@require("manage_campaigns")
def campaign_test_send(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    chosen = request.POST.get("member", "")
    member = _member_or_404(request, chosen) if chosen else None
    try:
        row = services.send_test(campaign, request.user, member, request=request)
    except ServiceError as error:
        messages.error(request, _("Envoi de test impossible : %(error)s") % {"error": error})
    else:
        messages.success(request, _("Envoi de test adressé à %(to_email)s (rendu pour %(display_name)s).") % {
            "to_email": row.to_email, "display_name": row.member.display_name})
    return _to_detail(campaign)


@require_POST
@require("manage_campaigns")
def campaign_launch(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    try:
        count = services.launch_campaign(campaign, request.user, request=request)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Campagne lancée : %(count)s e-mail(s) en cours d'envoi.") % {"count": count})
    return _to_detail(campaign)


@require_POST
@require("manage_campaigns")
def campaign_schedule(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Envoi non programmé : %(error)s") % {
            "error": " ".join(form.errors.get("scheduled_at", []))})
        return _to_detail(campaign)
    try:
        campaign = services.schedule_campaign(campaign, request.user, form.cleaned_data["scheduled_at"],
                                              request=request)
    except ServiceError as error:
        messages.error(request, _("Envoi non programmé : %(error)s") % {"error": error})
    else:
        when = campaign_state(campaign)[1]
        messages.success(request, _("Campagne %(when)s.") % {"when": when[0].lower() + when[1:]})
    return _to_detail(campaign)


@require_POST
@require("manage_campaigns")
def campaign_unschedule(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    try:
        services.unschedule_campaign(campaign, request.user, request=request)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("La programmation est annulée : la campagne est revenue en brouillon."))
    return _to_detail(campaign)


# --- Recipients ----------------------------------------------------------------------------------


@require_GET
@require("view_campaigns")
def campaign_recipients(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    association = request.association
    rows = selectors.campaign_mails(association, campaign).select_related("member", "member__profession")
    form = RecipientFilterForm(request.GET or None)
    if form.is_bound:
        if not form.is_valid():
            rows = rows.none()
        elif form.cleaned_data["statut"]:
            rows = rows.filter(progress=form.cleaned_data["statut"])
    table = RecipientTable(rows, association_slug=association.slug)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    if response := export_response(request, table, filename=f"campagne-{campaign.pk}-destinataires",
                                   title="Destinataires"):
        return response
    return render(request, "campaigns/campaign_recipients.html", {
        "campaign": campaign, "table": table, "filter_form": form,
    })
