"""Forms of the campaign screens. The audience is the member directory's own FilterSet, rendered with the
``audience`` prefix and stored as a dict of its raw values; writes go through ``campaigns.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from associations.campaigns import rendering
from associations.campaigns.selectors import Progress
from associations.forms import BootstrapMixin, TenantFormMixin
from associations.membership.filters import MemberFilter
from associations.models import Campaign, CampaignKind, Member, MemberStatus

AUDIENCE_PREFIX = "audience"
AUDIENCE_FIELDS = list(MemberFilter.Meta.fields)
DEFAULT_AUDIENCE = {CampaignKind.RENEWAL: {"status": MemberStatus.TO_RENEW}}


def placeholders_help() -> str:
    names = ", ".join(f"{{{name}}}" for name in rendering.PLACEHOLDERS)
    return str(_("Champs remplacés pour chaque destinataire : %(names)s. Mise en forme : **gras**, *italique*, "
                 "listes avec « - » en début de ligne, adresses web en liens.")) % {"names": names}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class CampaignForm(BootstrapMixin, TenantFormMixin, forms.ModelForm):
    """Name, kind, message and tracking options; the audience comes from the FilterSet next to it."""

    class Meta:
        model = Campaign
        fields = ["name", "kind", "subject", "body", "deadline", "track_opens", "track_clicks"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12}),
            "deadline": DateInput,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = placeholders_help()
        self.fields["subject"].help_text = _("Les mêmes champs sont possibles, par exemple {prenom}.")
        self.fields["kind"].help_text = _("« Information » ne va qu'aux adhérents qui acceptent les lettres "
                                          "d'information.")

    def _template(self, name: str) -> str:
        text = self.cleaned_data.get(name, "")
        try:
            rendering.validate_template(text)
        except rendering.TemplateError as error:
            raise ValidationError(str(error)) from None
        return text

    def clean_subject(self) -> str:
        return self._template("subject")

    def clean_body(self) -> str:
        return self._template("body")

    def clean(self):
        cleaned = super().clean()
        texts = [cleaned.get("subject") or "", cleaned.get("body") or ""]
        if not cleaned.get("deadline") and any(_uses(text, "date_limite") for text in texts):
            self.add_error("deadline", _("Le message utilise {date_limite} : indiquez la date limite."))
        return cleaned

    def service_data(self, audience: dict[str, str]) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["audience"] = audience
        return data


def _uses(text: str, name: str) -> bool:
    try:
        return rendering.uses(text, name)
    except rendering.TemplateError:
        return False


# --- Audience ------------------------------------------------------------------------------------


def prefixed(audience: dict[str, Any] | None) -> dict[str, str]:
    """A stored audience as the prefixed form data of the audience FilterSet."""
    return {f"{AUDIENCE_PREFIX}-{name}": str(value) for name, value in (audience or {}).items()
            if name in AUDIENCE_FIELDS and value not in (None, "")}


def audience_filter(request: HttpRequest, data=None) -> MemberFilter:
    """The member directory's FilterSet, prefixed, over the association's members (choices limited to it)."""
    queryset = Member.objects.filter(association=request.association)
    return MemberFilter(data, queryset=queryset, request=request, prefix=AUDIENCE_PREFIX)


def audience_values(filterset: MemberFilter) -> dict[str, str]:
    """The submitted filter values, unprefixed, as strings (empty values left out)."""
    data = filterset.data or {}
    values = {}
    for name in AUDIENCE_FIELDS:
        value = data.get(filterset.form.add_prefix(name), "")
        value = str(value).strip()
        if value:
            values[name] = value
    return values


def audience_is_valid(filterset: MemberFilter) -> bool:
    return not filterset.is_bound or filterset.form.is_valid()


# --- Actions -------------------------------------------------------------------------------------


class ScheduleForm(BootstrapMixin, forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Date et heure d'envoi"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": _("Indiquez la date et l'heure de l'envoi."),
                        "invalid": _("Date et heure invalides : choisissez-les dans le calendrier.")},
    )


class RecipientFilterForm(BootstrapMixin, forms.Form):
    statut = forms.ChoiceField(label=_("Statut"), required=False, choices=[("", _("Tous")), *Progress.choices],
                               error_messages={"invalid_choice": _("Statut inconnu : choisissez-le dans la liste.")})
