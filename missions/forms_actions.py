"""Forms of the actions registry: the action form (one number field per profession, plus "autres") and
the filters of the actions list. Choices are limited to the association's contract in force."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from associations.errors import ServiceError
from associations.forms import BootstrapMixin, TenantFormMixin
from associations.models import Profession
from missions.models import Action, ActionType, Contract, ContractMission
from missions.services_actions import check_date

OTHERS_FIELD = "participants_autres"
PROFESSION_PREFIX = "participants_"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActionForm(BootstrapMixin, TenantFormMixin, forms.ModelForm):
    """An action and its participants per profession (counts only: the form asks no name)."""

    mission = SafeModelChoiceField(label=_("Mission"), queryset=ContractMission.objects.none(),
                                   empty_label=_("Choisissez une mission"))
    action_type = forms.ModelChoiceField(label=_("Type d'action"), queryset=ActionType.objects.all(),
                                         empty_label=_("Choisissez un type"))
    date = forms.DateField(label=_("Date"), widget=_date_input(),
                           error_messages={"invalid": _("Saisissez une date valide, par exemple 14/03/2025.")})

    class Meta:
        model = Action
        fields = ["title", "mission", "action_type", "date", "place", "partners", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"partners": _("Structures et partenaires associés (hôpital, mairie, associations…).")}

    def __init__(self, *args, association, contract: Contract | None, **kwargs):
        super().__init__(*args, association=association, **kwargs)
        self.contract = contract
        missions = self.fields["mission"].queryset.select_related("mission_type").order_by("mission_type__order")
        # The contract in force, and the action's own mission when editing an older contract's action.
        own = Q(pk=self.instance.mission_id) if self.instance.pk else Q(pk__in=[])
        self.fields["mission"].queryset = missions.filter((Q(contract=contract) | own) if contract else own)
        if contract is not None:
            years = "; ".join(year.label for year in contract.years)
            self.fields["date"].help_text = _("Dans l'une des années du contrat : %(years)s.") % {"years": years}
        current = {}
        if self.instance.pk:
            current = {p.profession_id: p.count for p in self.instance.participations.all()}
        professions = Profession.objects.filter(Q(active=True) | Q(pk__in=[k for k in current if k]))
        self.professions = list(professions.order_by("order", "label"))
        for profession in self.professions:
            self.fields[f"{PROFESSION_PREFIX}{profession.pk}"] = forms.IntegerField(
                label=profession.label, min_value=0, max_value=100_000, required=False,
                initial=current.get(profession.pk) or None,
                widget=forms.NumberInput(attrs={"class": "form-control", "min": 0, "step": 1, "inputmode": "numeric"}),
                error_messages={"invalid": _("Saisissez un nombre entier."),
                                "min_value": _("Le nombre ne peut pas être négatif.")},
            )
        self.fields[OTHERS_FIELD] = forms.IntegerField(
            label=_("Autres participants"), min_value=0, max_value=100_000, required=False,
            initial=current.get(None) or None,
            help_text=_("Participants sans profession de santé (élus, usagers, partenaires…)."),
            widget=forms.NumberInput(attrs={"class": "form-control", "min": 0, "step": 1, "inputmode": "numeric"}),
            error_messages={"invalid": _("Saisissez un nombre entier."),
                            "min_value": _("Le nombre ne peut pas être négatif.")},
        )

    def clean(self):
        cleaned = super().clean()
        mission, day = cleaned.get("mission"), cleaned.get("date")
        if mission is not None and day is not None:
            # Said next to the date at once, with the other errors (the service checks it again).
            try:
                check_date(mission, day)
            except ServiceError as error:
                error.add_to_form(self)
        return cleaned

    @property
    def participant_fields(self):
        return [self[f"{PROFESSION_PREFIX}{p.pk}"] for p in self.professions] + [self[OTHERS_FIELD]]

    @property
    def action_fields(self):
        return [self[name] for name in self.Meta.fields]

    def participations(self) -> dict[int | None, int]:
        """Counts per profession id (None: others) from the cleaned data."""
        counts: dict[int | None, int] = {}
        for profession in self.professions:
            counts[profession.pk] = self.cleaned_data.get(f"{PROFESSION_PREFIX}{profession.pk}") or 0
        counts[None] = self.cleaned_data.get(OTHERS_FIELD) or 0
        return counts

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


# --- Filters of the list -----------------------------------------------------------------------------


class ActionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Rechercher"), method="filter_q",
                                  widget=forms.TextInput(attrs={"type": "search",
                                                                "placeholder": _("Intitulé, lieu, partenaire")}))
    mission = django_filters.ModelChoiceFilter(label=_("Mission"), queryset=ContractMission.objects.none(),
                                               empty_label=_("Toutes"))
    action_type = django_filters.ModelChoiceFilter(label=_("Type"), queryset=ActionType.objects.all(),
                                                   empty_label=_("Tous"))
    year = django_filters.ChoiceFilter(label=_("Année du contrat"), choices=[], method="filter_year",
                                       empty_label=_("Toutes"))

    class Meta:
        model = Action
        fields = ["q", "mission", "action_type", "year"]

    def __init__(self, *args, contract: Contract | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        if contract is not None:
            self.filters["mission"].queryset = (
                ContractMission.objects.filter(association=contract.association_id, contract=contract)
                .select_related("mission_type").order_by("mission_type__order"))
            self.filters["year"].extra["choices"] = [(y.number, _("Année %(label)s") % {"label": y.label})
                                                     for y in contract.years]
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def filter_q(self, queryset, name, value):
        for word in value.split()[:6]:
            queryset = queryset.filter(Q(title__icontains=word) | Q(place__icontains=word)
                                       | Q(partners__icontains=word))
        return queryset

    def filter_year(self, queryset, name, value):
        if self.contract is None or not value:
            return queryset
        year = next((y for y in self.contract.years if str(y.number) == str(value)), None)
        if year is None:
            return queryset.none()
        return queryset.filter(date__range=(year.start, year.end), mission__contract=self.contract)
