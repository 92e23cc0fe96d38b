"""Tenant resolution: ``/a/<slug>/...`` → ``request.association`` and ``request.role``, view and
template rendering inside ``django_scopes.scope(association=...)``.

An unknown slug and an association where the caller has no role get the same 404, so nobody can
probe which CPTS exist. The Django admin (operator only) runs with scopes disabled.
"""

from __future__ import annotations

import re

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_scopes import scope, scopes_disabled

from associations.models import Association, UserRole

TENANT_PATH = re.compile(r"^/a/(?P<slug>[-\w]+)/")
ADMIN_PATH = "/admin/"


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.association = None
        request.role = None
        path = request.path_info
        if path.startswith(ADMIN_PATH):
            # The admin is reachable by superusers only (admin's own login check) and works across tenants.
            with scopes_disabled():
                return self.get_response(request)
        match = TENANT_PATH.match(path)
        if match is None:
            # Outside /a/ no scope is active: a query on a tenant model raises ScopeError (fails closed).
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        association = Association.objects.filter(slug=match["slug"]).first()
        role = None
        if association is not None:
            with scope(association=association):
                role = (
                    UserRole.objects.filter(user=request.user).values_list("role", flat=True).first()
                )
        if role is None:
            return _not_found(request)
        request.association = association
        request.role = role
        with scope(association=association):
            return self.get_response(request)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", {"exception": Http404()}, status=404)
