"""Form of the automatic reminders settings. Validation reuses the reminders and rendering modules, so
the messages next to the fields are the ones the services would give."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from associations.campaigns import reminders, rendering
from associations.forms import BootstrapMixin
from associations.models import ReminderSchedule
from associations.services import ServiceError

TEXT_FIELDS = ("subject_before", "body_before", "subject_after", "body_after")


def placeholders_help() -> str:
    return ", ".join(f"{{{name}}}" for name in rendering.PLACEHOLDERS)


class ReminderScheduleForm(BootstrapMixin, forms.Form):
    enabled = forms.BooleanField(label=_("Relances actives"), required=False,
                                 help_text=_("Décochez pour mettre toutes les relances en pause."))
    offsets = forms.CharField(
        label=_("Étapes (en jours par rapport à la fin de l'adhésion)"), max_length=200,
        help_text=_("Séparées par des virgules : un nombre négatif avant l'échéance, 0 le jour même, positif "
                    "après (exemple : -30, 0, 15, 45)."),
    )
    subject_before = forms.CharField(label=_("Objet avant l'échéance (et le jour même)"), max_length=200)
    body_before = forms.CharField(label=_("Message avant l'échéance (et le jour même)"),
                                  widget=forms.Textarea(attrs={"rows": 8}))
    subject_after = forms.CharField(label=_("Objet après l'échéance"), max_length=200)
    body_after = forms.CharField(label=_("Message après l'échéance"), widget=forms.Textarea(attrs={"rows": 8}))
    track_opens = forms.BooleanField(label=_("Suivre les ouvertures"), required=False,
                                     help_text=_("Ajoute une image invisible au message (désactivé par défaut)."))
    track_clicks = forms.BooleanField(label=_("Suivre les clics"), required=False,
                                      help_text=_("Les liens passent par la plateforme (désactivé par défaut)."))

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("body_before", "body_after"):
            self.fields[name].help_text = _("Champs disponibles : %(fields)s.") % {"fields": placeholders_help()}
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    @classmethod
    def initial_for(cls, schedule: ReminderSchedule) -> dict:
        initial = {name: getattr(schedule, name) for name in ("enabled", "track_opens", "track_clicks", *TEXT_FIELDS)}
        initial["offsets"] = ", ".join(str(offset) for offset in sorted(schedule.offsets))
        return initial

    def clean_offsets(self) -> list[int]:
        try:
            return reminders.parse_offsets(self.cleaned_data["offsets"])
        except ServiceError as error:
            raise ValidationError(str(error)) from None

    def _clean_text(self, name: str) -> str:
        text = self.cleaned_data[name]
        try:
            rendering.validate_template(text)
        except rendering.TemplateError as error:
            raise ValidationError(str(error)) from None
        return text

    def clean_subject_before(self) -> str:
        return self._clean_text("subject_before")

    def clean_body_before(self) -> str:
        return self._clean_text("body_before")

    def clean_subject_after(self) -> str:
        return self._clean_text("subject_after")

    def clean_body_after(self) -> str:
        return self._clean_text("body_after")
