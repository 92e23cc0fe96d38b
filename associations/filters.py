"""django-filter filter sets; every choice over tenant rows is limited to ``request.association``."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from associations.models import AuditLog, User
from associations.registries import audit_action_label


def _association_users(request):
    if request is None or request.association is None:
        return User.objects.none()
    return User.objects.filter(roles__association=request.association).order_by("last_name", "email").distinct()


def _actions(request):
    if request is None or request.association is None:
        return []
    actions = AuditLog.objects.filter(association=request.association).values_list("action", flat=True)
    return [(a, audit_action_label(a)) for a in sorted(set(actions))]


class AuditLogFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(label=_("Auteur"), queryset=_association_users, empty_label=_("Tous"))
    action = django_filters.ChoiceFilter(label=_("Action"), choices=[], empty_label=_("Toutes"))
    date_from = django_filters.DateFilter(
        label=_("Du"), field_name="created_at", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label=_("Au"), field_name="created_at", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditLog
        fields = ["actor", "action", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["action"].extra["choices"] = _actions(self.request)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
