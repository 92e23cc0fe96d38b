"""Views of the associations app: thin (form → service → redirect). Tenant views receive
``request.association`` and ``request.role`` from the middleware and declare their capability."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_tables2 import RequestConfig

from associations import audit, files, services
from associations.exports import export_response
from associations.filters import AuditLogFilter
from associations.forms import (
    AcceptInvitationForm,
    AssociationSettingsForm,
    InvitationForm,
    ProfileForm,
    RoleChangeForm,
)
from associations.models import Association, AuditLog, Invitation, Role, User, UserRole, WorkerHeartbeat
from associations.permissions import require
from associations.registries import visible_dashboard_blocks
from associations.tables import AuditLogTable

# --- Outside /a/ -----------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """After login: straight to the association when the user has one, a picker when several."""
    # Staff roles first; a health professional whose member record is linked to the account lands
    # in their member space. Joins from Association do not go through the scoped managers.
    staff = list(Association.objects.filter(userrole__user=request.user).distinct())
    member_of = list(
        Association.objects.filter(member__user=request.user, member__anonymized_at__isnull=True)
        .exclude(pk__in=[a.pk for a in staff]).distinct()
    )
    if len(staff) + len(member_of) == 1:
        if staff:
            return redirect("dashboard", association_slug=staff[0].slug)
        return redirect("member_space", association_slug=member_of[0].slug)
    return render(request, "associations/picker.html", {"associations": staff, "member_associations": member_of})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Votre profil a été enregistré."))
        return redirect("profile")
    return render(request, "associations/profile.html", {"form": form})


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    check = services.check_invitation_token(token)
    if check.problem:
        return render(request, "associations/invitation_problem.html", {"problem": check.problem}, status=410
                      if check.problem in ("expired", "used", "revoked") else 404)
    invitation = check.invitation
    assert invitation is not None
    association = invitation.association
    context = {"invitation": invitation, "association_invited": association}
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                services.accept_invitation(invitation, request.user, request=request)
            except services.ServiceError as error:
                messages.error(request, str(error))
                return redirect("invitation_accept", token=token)
            messages.success(request, _("Bienvenue dans l'équipe de %(name)s.") % {"name": association.name})
            return redirect("dashboard", association_slug=association.slug)
        return render(request, "associations/invitation_confirm.html", context)
    if User.objects.filter(email__iexact=invitation.email).exists():
        # The person has an account: log in first, then come back to this link.
        context["login_url"] = f"{reverse('account_login')}?{urlencode({'next': request.path})}"
        return render(request, "associations/invitation_login.html", context)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_user_from_invitation(
                invitation,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                request=request,
            )
        except services.ServiceError as error:
            messages.error(request, str(error))
            return redirect("invitation_accept", token=token)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Votre compte est créé. Bienvenue dans l'équipe de %(name)s.") % {
            "name": association.name})
        return redirect("dashboard", association_slug=association.slug)
    context["form"] = form
    return render(request, "associations/invitation_signup.html", context)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of the database and, when configured, the broker; age of the last worker heartbeat."""
    report: dict = {"status": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - the health page reports any failure
        report["database"] = f"error: {error.__class__.__name__}"
        report["status"] = "error"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
            report["broker"] = "ok"
        except Exception as error:  # noqa: BLE001
            report["broker"] = f"error: {error.__class__.__name__}"
            report["status"] = "error"
    else:
        report["broker"] = "embedded"
    if report["database"] == "ok":
        beat = WorkerHeartbeat.objects.filter(name="worker").first()
        report["worker_last_seen_seconds"] = (
            int((timezone.now() - beat.last_seen).total_seconds()) if beat else None
        )
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


# --- Inside /a/<slug>/ -----------------------------------------------------------------------


@require("view_dashboard")
def dashboard(request: HttpRequest, association_slug: str) -> HttpResponse:
    """The coordinator's dashboard: the blocks every app registers, those the caller may see."""
    return render(request, "associations/dashboard.html", {"blocks": visible_dashboard_blocks(request)})


@require("view_team")
def team(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    user_roles = UserRole.objects.filter(association=association).select_related("user").order_by(
        "user__last_name", "user__first_name", "user__email"
    )
    invitations = Invitation.objects.filter(association=association).select_related("invited_by")[:100]
    form = InvitationForm(association=association)
    return render(
        request,
        "associations/team.html",
        {"user_roles": user_roles, "invitations": invitations, "form": form, "roles": Role.choices},
    )


@require("manage_team")
def invitation_create(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    form = InvitationForm(request.POST or None, association=association)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite(association, request.user, form.cleaned_data["email"], form.cleaned_data["role"],
                            request=request)
        except services.ServiceError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, _("Invitation envoyée à %(email)s.") % {"email": form.cleaned_data['email']})
            return redirect("team", association_slug=association.slug)
    return render(request, "associations/invitation_form.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@require("manage_team")
def invitation_resend(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.filter(association=request.association), pk=pk)
    try:
        services.resend_invitation(invitation, request.user, request=request)
        messages.success(request, _("Invitation renvoyée à %(email)s (nouveau lien valable 7 jours).") % {
            "email": invitation.email})
    except services.ServiceError as error:
        messages.error(request, str(error))
    return redirect("team", association_slug=association_slug)


@require_POST
@require("manage_team")
def invitation_revoke(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.filter(association=request.association), pk=pk)
    try:
        services.revoke_invitation(invitation, request.user, request=request)
        messages.success(request, _("Invitation de %(email)s révoquée : le lien ne fonctionne plus.") % {
            "email": invitation.email})
    except services.ServiceError as error:
        messages.error(request, str(error))
    return redirect("team", association_slug=association_slug)


@require_POST
@require("manage_team")
def role_remove(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    user_role = get_object_or_404(UserRole.objects.filter(association=request.association).select_related("user"),
                                  pk=pk)
    try:
        services.remove_role(user_role, request.user, request=request)
        messages.success(request, _("%(display_name)s n'a plus accès à l'association.") % {
            "display_name": user_role.user.display_name})
    except services.ServiceError as error:
        messages.error(request, str(error))
    if user_role.user_id == request.user.pk and not UserRole.objects.filter(user=request.user).exists():
        return redirect("home")
    return redirect("team", association_slug=association_slug)


@require_POST
@require("manage_team")
def role_change(request: HttpRequest, association_slug: str, pk: int) -> HttpResponse:
    user_role = get_object_or_404(UserRole.objects.filter(association=request.association).select_related("user"),
                                  pk=pk)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Rôle inconnu."))
    else:
        try:
            services.change_role(user_role, form.cleaned_data["role"], request.user, request=request)
            messages.success(request, _("Rôle de %(display_name)s : %(role)s.") % {
                "display_name": user_role.user.display_name, "role": user_role.get_role_display()})
        except services.ServiceError as error:
            messages.error(request, str(error))
    return redirect("team", association_slug=association_slug)


@require("view_audit")
def audit_log(request: HttpRequest, association_slug: str) -> HttpResponse:
    queryset = AuditLog.objects.filter(association=request.association)
    filterset = AuditLogFilter(request.GET or None, queryset=queryset, request=request)
    # An invalid filter (e.g. another association's user id) shows its error and no rows.
    rows = queryset.none() if filterset.is_bound and not filterset.is_valid() else filterset.qs
    table = AuditLogTable(rows.select_related(None))
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    if response := export_response(request, table, filename=f"journal-{request.association.slug}"):
        return response
    return render(request, "associations/audit_log.html", {"filter": filterset, "table": table})


@require("manage_association")
def association_settings(request: HttpRequest, association_slug: str) -> HttpResponse:
    association = request.association
    fields = AssociationSettingsForm.Meta.fields
    before = {name: getattr(association, name) for name in fields}
    form = AssociationSettingsForm(request.POST or None, request.FILES or None, instance=association)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        changes = audit.diff(saved, before, [f for f in fields if f != "logo"])
        if "logo" in form.changed_data:
            changes["logo"] = ["", saved.logo.name if saved.logo else ""]
        audit.record(saved, request.user, "association.update", saved, changes=changes, request=request)
        messages.success(request, _("Les informations de l'association ont été enregistrées."))
        return redirect("association_settings", association_slug=saved.slug)
    return render(request, "associations/settings.html", {"form": form}, status=400 if form.errors else 200)


@require("view_files")
def association_logo(request: HttpRequest, association_slug: str) -> FileResponse:
    """The logo is stored under the association's id and served only through scoped views."""
    return _logo_response(request.association)


def public_logo(request: HttpRequest, association_slug: str) -> FileResponse:
    """Under /p/<slug>/: the logo shown on public pages and to members (not confidential)."""
    return _logo_response(request.association)


def _logo_response(association: Association) -> FileResponse:
    return files.serve(association.logo, cache="private, max-age=3600")
