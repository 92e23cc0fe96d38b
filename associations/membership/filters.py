"""Filters of the member directory (django-filter). Every choice over tenant rows is limited to
``request.association``; the choice lists cost one query each, whatever the number of members."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from associations.models import (
    College,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    Profession,
)

ANONYMIZED = "anonymized"
STATUS_CHOICES = [*MemberStatus.choices, (ANONYMIZED, _("Adhérents anonymisés"))]


def _colleges(request):
    if request is None or getattr(request, "association", None) is None:
        return College.objects.none()
    return College.objects.filter(association=request.association)


def _cities(request) -> list[tuple[str, str]]:
    if request is None or getattr(request, "association", None) is None:
        return []
    cities = (Member.objects.filter(association=request.association, anonymized_at=None).exclude(city="")
              .values_list("city", flat=True).distinct().order_by("city"))
    return [(city, city) for city in cities]


def search_q(text: str) -> Q:
    """Every word must match a name, the structure name or the e-mail (contains), or the RPPS (exact)."""
    query = Q()
    for word in text.split()[:6]:
        query &= (Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(structure_name__icontains=word)
                  | Q(email__icontains=word) | Q(rpps=word))
    return query


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Rechercher"), method="filter_q",
                                  widget=forms.TextInput(attrs={"type": "search",
                                                                "placeholder": _("Nom, structure, RPPS, e-mail")}))
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=MemberKind.choices, empty_label=_("Tous"))
    profession = django_filters.ModelChoiceFilter(label=_("Profession"), queryset=Profession.objects.all(),
                                                  empty_label=_("Toutes"))
    college = django_filters.ModelChoiceFilter(label=_("Collège"), queryset=_colleges, empty_label=_("Tous"))
    city = django_filters.ChoiceFilter(label=_("Commune"), choices=[], empty_label=_("Toutes"))
    status = django_filters.ChoiceFilter(label=_("Statut"), choices=STATUS_CHOICES, method="filter_status",
                                         empty_label=_("Tous (hors anonymisés)"))
    period = django_filters.NumberFilter(label=_("Adhésion de l'année"), method="filter_period",
                                         widget=forms.NumberInput(attrs={"min": 2000, "max": 2100, "step": 1,
                                                                         "placeholder": _("ex. 2026")}))

    class Meta:
        model = Member
        fields = ["q", "kind", "profession", "college", "city", "status", "period"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["city"].extra["choices"] = _cities(self.request)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.form.fields["period"].error_messages["invalid"] = _("Saisissez une année, par exemple 2026.")

    @property
    def qs(self):
        queryset = super().qs
        # Anonymised members are left out unless the status filter asks for them.
        if not (self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("status") == ANONYMIZED):
            queryset = queryset.filter(anonymized_at=None)
        return queryset

    def filter_q(self, queryset, name, value):
        return queryset.filter(search_q(value)) if value.strip() else queryset

    def filter_status(self, queryset, name, value):
        if value == ANONYMIZED:
            return queryset.exclude(anonymized_at=None)
        return queryset.filter(status=value)

    def filter_period(self, queryset, name, value):
        year = int(value)
        if year != value or not 1900 <= year <= 2200:
            return queryset.none()
        memberships = Membership.objects.filter(
            association=self.request.association, member=OuterRef("pk"), start_date__year=year,
        ).exclude(status=MembershipStatus.CANCELLED)
        return queryset.filter(Exists(memberships))
