"""Tenant resolution.

``/a/<slug>/...`` (staff and members with a login) → ``request.association``, ``request.role`` and
``request.capabilities``; the view and template rendering run inside
``django_scopes.scope(association=...)``. An unknown slug and an association where the caller has no
role get the same 404, so nobody can probe which CPTS exist.

``/p/<slug>/...`` (public pages of an association: join form, renewal by personal link) → the same
scope without login; an unknown slug is a 404.

The Django admin (operator only) runs with scopes disabled.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django_scopes import scope, scopes_disabled

from associations.models import Association, Member, UserRole
from associations.permissions import MEMBER, TREASURER, capabilities_for

TENANT_PATH = re.compile(r"^/a/(?P<slug>[-\w]+)/")
PUBLIC_TENANT_PATH = re.compile(r"^/p/(?P<slug>[-\w]+)/")
ADMIN_PATH = "/admin/"


class UserLanguageMiddleware:
    """Activate the language chosen in the user's profile, else ``LANGUAGE_CODE`` (French)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", None) if user is not None and user.is_authenticated else None
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.association = None
        request.role = None
        request.capabilities = frozenset()
        path = request.path_info
        if path.startswith(ADMIN_PATH):
            # The admin is reachable by superusers only (admin's own login check) and works across tenants.
            with scopes_disabled():
                return self.get_response(request)
        public = PUBLIC_TENANT_PATH.match(path)
        if public is not None:
            association = Association.objects.filter(slug=public["slug"]).first()
            if association is None:
                return _not_found(request)
            request.association = association
            with scope(association=association):
                return self.get_response(request)
        match = TENANT_PATH.match(path)
        if match is None:
            # Outside /a/ no scope is active: a query on a tenant model raises ScopeError (fails closed).
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        association = Association.objects.filter(slug=match["slug"]).first()
        if association is None:
            return _not_found(request)
        with scope(association=association):
            role, treasurer = _role_of(request.user)
            if role is None:
                return _not_found(request)
            request.association = association
            request.role = role
            request.capabilities = capabilities_for(role, elected={TREASURER} if treasurer else ())
            return self.get_response(request)


def _role_of(user) -> tuple[str | None, bool]:
    """The caller's staff role (and treasurer flag) in the active association, else ``member`` when a
    member record is linked to their account."""
    staff = UserRole.objects.filter(user=user).values_list("role", "is_treasurer").first()
    if staff is not None:
        return staff[0], staff[1]
    if Member.objects.filter(user=user, anonymized_at__isnull=True).exists():
        return MEMBER, False
    return None, False


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", {"exception": Http404()}, status=404)
