"""Forms of the contract screens. Each takes ``association=`` and restricts every choice to it; writes go
through ``missions.services``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from associations.forms import BootstrapMixin, TenantFormMixin
from associations.membership.admin_services import check_pdf
from associations.models import ACISize, Member, User
from associations.services import ServiceError
from missions.models import ACIVersion, Avenant, Contract, DeadlineKind, MissionKind, MissionStatus, MissionType


def _date_field(label, required=True, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, required=required,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                           error_messages={"invalid": _("Saisissez une date valide (jj/mm/aaaa)."),
                                           "required": _("Indiquez la date.")}, **kwargs)


def _pdf_field(label, help_text) -> forms.FileField:
    return forms.FileField(label=label, required=False, help_text=help_text,
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}))


def _clean_pdf(uploaded):
    if uploaded:
        try:
            check_pdf(uploaded)
        except ServiceError as error:
            raise ValidationError(str(error), code="not_pdf") from None
    return uploaded


class ContractForm(BootstrapMixin, TenantFormMixin, forms.ModelForm):
    """Create or edit the contract. On creation the complémentaires of the chosen version are offered; on
    edit the version is fixed and only missing complémentaires can be added."""

    complementary = forms.ModelMultipleChoiceField(
        label=_("Missions complémentaires choisies"), queryset=MissionType.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("Les missions socle figurent toujours au contrat."),
    )
    document = _pdf_field(_("Contrat signé (PDF)"), _("PDF uniquement, 10 Mo au plus."))

    class Meta:
        model = Contract
        fields = ["version", "number", "signed_on", "size_override", "size_override_reason", "cpts_signatory",
                  "cpam_name", "ars_name", "achievement_cap"]
        widgets = {"signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        error_messages = {
            "signed_on": {"invalid": _("Saisissez une date valide (jj/mm/aaaa)."),
                          "required": _("Indiquez la date de signature du contrat.")},
            "cpam_name": {"required": _("Indiquez la CPAM signataire.")},
            "ars_name": {"required": _("Indiquez l'ARS signataire.")},
            "version": {"required": _("Choisissez la version de l'ACI du contrat.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = ACIVersion.objects.order_by("-effective_on")
        self.fields["version"].to_field_name = "code"  # reference data: posted by its stable code
        self.fields["size_override"].choices = [("", _("Selon la population (%(size)s)") % {
            "size": self.association.aci_size or "—"})] + list(ACISize.choices)
        complementary = MissionType.objects.filter(kind=MissionKind.COMPLEMENTARY).select_related("version")
        if self.instance.pk:
            self.fields["version"].disabled = True
            self.initial["version"] = self.instance.version.code
            self.fields["version"].help_text = _("Fixée : les missions du contrat en dépendent.")
            present = self.instance.missions.values_list("mission_type_id", flat=True)
            complementary = complementary.filter(version=self.instance.version_id).exclude(pk__in=list(present))
            self.fields["complementary"].label = _("Ajouter des missions complémentaires")
        else:
            latest = ACIVersion.objects.order_by("-effective_on").first()
            self.fields["version"].initial = latest.code if latest else None
        self.fields["complementary"].queryset = complementary
        self.fields["complementary"].label_from_instance = lambda m: f"{m.label} ({m.version.label})"

    def clean_document(self):
        return _clean_pdf(self.cleaned_data.get("document"))

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("version") or (self.instance.version if self.instance.pk else None)
        wrong = [m for m in cleaned.get("complementary") or [] if version and m.version_id != version.pk]
        if wrong:
            self.add_error("complementary", _("Choisissez des missions complémentaires de la version %(version)s.")
                           % {"version": version.label})
        return cleaned

    def _post_clean(self):
        # Model validation (unique date…) is the service's job: it answers with a field-bound message.
        pass

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self._meta.fields if name in self.cleaned_data}


class AvenantForm(BootstrapMixin, forms.Form):
    number = forms.IntegerField(label=_("Numéro"), min_value=1, max_value=99, required=False,
                                help_text=_("Vide : à la suite du dernier avenant."))
    signed_on = _date_field(_("Date de signature"))
    summary = forms.CharField(label=_("Ce qu'il modifie"), widget=forms.Textarea(attrs={"rows": 4}),
                              error_messages={"required": _("Décrivez ce que l'avenant modifie.")})
    document = _pdf_field(_("Avenant signé (PDF)"), _("PDF uniquement, 10 Mo au plus."))

    def clean_document(self):
        return _clean_pdf(self.cleaned_data.get("document"))


class MissionForm(BootstrapMixin, TenantFormMixin, forms.Form):
    referent = SafeModelChoiceField(label=_("Référent PS"), queryset=Member.objects.none(), required=False,
                                    empty_label=_("— aucun —"))
    owner = forms.ModelChoiceField(label=_("Suivie par (équipe)"), queryset=User.objects.none(), required=False,
                                   empty_label=_("— personne —"))
    start_months = forms.IntegerField(label=_("Démarrage dans (mois)"), min_value=0, max_value=60, required=False,
                                      help_text=_("Vide : délai du catalogue."))
    deployment_months = forms.IntegerField(label=_("Déploiement complet dans (mois)"), min_value=0, max_value=60,
                                           required=False, help_text=_("Vide : délai du catalogue."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referent"].queryset = (
            Member.objects.filter(association=self.association, anonymized_at=None)
            .order_by("last_name", "first_name", "structure_name")
        )
        self.fields["owner"].queryset = (
            User.objects.filter(roles__association=self.association).distinct().order_by("last_name", "first_name")
        )
        self.fields["owner"].label_from_instance = lambda u: u.display_name


class MissionStatusForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("État"), choices=MissionStatus.choices)
    started_on = _date_field(_("Démarrée le"), required=False)
    deployed_on = _date_field(_("Déployée le"), required=False)


class DeadlineMoveForm(BootstrapMixin, TenantFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Échéance"), choices=DeadlineKind.choices)
    due_on = _date_field(_("Nouvelle date"))
    avenant = SafeModelChoiceField(label=_("Avenant"), queryset=Avenant.objects.none(), required=False,
                                   empty_label=_("— sans avenant —"))
    reason = forms.CharField(label=_("Motif"), max_length=255, required=False,
                             help_text=_("Obligatoire quand aucun avenant ne reporte l'échéance."))

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["avenant"].queryset = Avenant.objects.filter(association=self.association, contract=contract)
