"""Forms of the indicator screens. Each takes ``association=`` and restricts every choice to it; the value
rules (number, rate ≤ 100 %, oui/non) are the services' (``indicators.services``), whose ``ServiceError``
lands next to the field."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from associations.forms import BootstrapMixin, TenantFormMixin
from indicators.models import EvidenceKind, Feed, Indicator
from indicators.services import accepted_types_help
from missions.models import ActionType, Avenant, Contract, ContractMission, Direction, IndicatorTemplate, Source, Unit

DATE_INVALID = _("Saisissez une date valide (jj/mm/aaaa).")


def _date_field(label, required=True, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, required=required,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                           error_messages={"invalid": DATE_INVALID, "required": _("Indiquez la date.")}, **kwargs)


def _blank(choices) -> list:
    return [("", "—")] + list(choices)


class IndicatorForm(BootstrapMixin, TenantFormMixin, forms.Form):
    """Add or edit an indicator: from a template of the mission (wording, unit, direction filled in) or free."""

    mission = SafeModelChoiceField(queryset=ContractMission.objects.none(), label=_("Mission"),
                                   error_messages={"required": _("Choisissez la mission."),
                                                   "invalid_choice": _("Cette mission n'est pas au contrat.")})
    template = forms.ModelChoiceField(queryset=IndicatorTemplate.objects.none(), required=False,
                                      label=_("Partir d'un modèle"),
                                      help_text=_("Facultatif : le libellé, l'unité, le sens et la source du "
                                                  "modèle remplissent les champs laissés vides."))
    label = forms.CharField(label=_("Libellé"), max_length=255, required=False)
    code = forms.CharField(label=_("Code CPAM"), max_length=30, required=False,
                           help_text=_("Référence utilisée par la CPAM dans ses fichiers (facultatif)."))
    unit = forms.ChoiceField(label=_("Unité"), choices=_blank(Unit.choices), required=False)
    direction = forms.ChoiceField(label=_("Sens"), choices=_blank(Direction.choices), required=False)
    weight = forms.DecimalField(label=_("Poids dans la mission"), min_value=0, max_digits=6, decimal_places=2,
                                initial=1, localize=True,
                                error_messages={"invalid": _("Saisissez un nombre (par exemple 1 ou 1,5)."),
                                                "min_value": _("Le poids doit être positif ou nul."),
                                                "required": _("Indiquez le poids (1 par défaut).")})
    source = forms.ChoiceField(label=_("Source"), choices=_blank(Source.choices), required=False)
    feed = forms.ChoiceField(label=_("Valeur réalisée"), choices=Feed.choices, initial=Feed.MANUAL,
                             help_text=_("« Nombre d'actions » ou « Participants » : la valeur réalisée est "
                                         "calculée chaque année à partir du registre des actions."))
    feed_action_type = forms.ModelChoiceField(queryset=ActionType.objects.all(), required=False,
                                              label=_("Type d'action comptée"))
    order = forms.IntegerField(label=_("Ordre"), min_value=0, required=False)

    def __init__(self, *args, contract: Contract, indicator: Indicator | None = None, **kwargs):
        if indicator is not None:
            kwargs.setdefault("initial", {
                "mission": indicator.mission_id, "template": indicator.template_id, "label": indicator.label,
                "code": indicator.code, "unit": indicator.unit, "direction": indicator.direction,
                "weight": indicator.weight, "source": indicator.source, "feed": indicator.feed,
                "feed_action_type": indicator.feed_action_type_id, "order": indicator.order,
            })
        super().__init__(*args, **kwargs)
        self.fields["mission"].queryset = (self.fields["mission"].queryset.filter(contract=contract)
                                           .select_related("mission_type").order_by("mission_type__order"))
        self.fields["template"].queryset = (IndicatorTemplate.objects
                                            .filter(mission_type__contractmission__contract=contract).distinct()
                                            .select_related("mission_type").order_by("mission_type__order", "order"))
        self.fields["template"].label_from_instance = lambda t: f"{t.mission_type} — {t.label}"
        if indicator is not None:
            self.fields["mission"].disabled = True


class CellForm(BootstrapMixin, forms.Form):
    """One value of the grid, typed as text (the service reads ``12,5``, ``1 200``, ``oui``)."""

    def __init__(self, *args, field: str, label: str, unit: str, initial_value: str = "", measured_on=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.value_field = field
        placeholder = _("oui / non") if unit == Unit.BOOLEAN else ""
        self.fields[field] = forms.CharField(label=label, required=False, max_length=40, initial=initial_value)
        self.fields[field].widget.attrs.update({"autocomplete": "off", "inputmode": "text" if unit == Unit.BOOLEAN
                                                else "decimal", "placeholder": placeholder,
                                                "class": "form-control form-control-sm", "autofocus": True})
        if field == "realised":
            self.fields["measured_on"] = _date_field(_("Mesuré le"), required=False,
                                                     initial=measured_on or timezone.localdate())
            self.fields["measured_on"].widget.attrs["class"] = "form-control form-control-sm"

    @property
    def value_bound_field(self):
        return self[self.value_field]


class RevisionForm(BootstrapMixin, TenantFormMixin, forms.Form):
    target = forms.CharField(label=_("Nouvel objectif"), max_length=40)
    avenant = SafeModelChoiceField(queryset=Avenant.objects.none(), required=False, label=_("Avenant"),
                                   help_text=_("L'avenant qui révise l'objectif (l'ancien objectif est conservé)."),
                                   error_messages={"invalid_choice": _("Cet avenant n'est pas au contrat.")})

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["avenant"].queryset = self.fields["avenant"].queryset.filter(contract=contract)


class EvidenceForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Type de livrable"), choices=EvidenceKind.choices)
    title = forms.CharField(label=_("Titre"), max_length=200,
                            error_messages={"required": _("Donnez un titre au livrable.")})
    date = _date_field(_("Date du document"))
    file = forms.FileField(label=_("Fichier"), help_text=lazy(accepted_types_help, str)(),
                           error_messages={"required": _("Choisissez un fichier."),
                                           "empty": _("Le fichier est vide.")},
                           widget=forms.ClearableFileInput(attrs={
                               "accept": ".pdf,.png,.jpg,.jpeg,.xlsx,.csv,.docx,.odt"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
