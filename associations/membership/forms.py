"""Forms of the coordinator's member screens. Each takes ``association=`` and restricts every choice
over tenant rows to it (``TenantFormMixin`` + ``SafeModelChoiceField``); writes go through services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from associations.forms import BootstrapMixin, TenantFormMixin
from associations.membership.services import MEMBER_FIELDS
from associations.models import (
    College,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    PaymentMethod,
    Profession,
)

PERSON_FIELDS = ["civility", "first_name", "last_name", "profession", "specialty", "practice_mode", "rpps", "adeli",
                 "practice_structure", "is_student"]
STRUCTURE_FIELDS = ["structure_name", "structure_type", "finess", "siret", "contact_person"]
CONTACT_FIELDS = ["email", "phone", "address", "postal_code", "city", "insee_code"]
MEMBERSHIP_FIELDS = ["college", "joined_on", "newsletter_consent", "notes"]
SPACED_IDENTIFIERS = ("rpps", "adeli", "finess", "siret", "postal_code")
REQUIRED_BY_KIND = {
    MemberKind.PERSON: ("last_name", "first_name", "profession"),
    MemberKind.STRUCTURE: ("structure_name", "structure_type"),
}
REQUIRED_MESSAGE = {
    MemberKind.PERSON: _("Ce champ est obligatoire pour un professionnel de santé."),
    MemberKind.STRUCTURE: _("Ce champ est obligatoire pour une structure."),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class NarrowChoicesMixin:
    """Narrow choice querysets *before* validation runs.

    ``BootstrapMixin`` (outermost) reads ``self.errors`` in its ``__init__``, which validates a bound
    form; restrictions applied in the concrete form's ``__init__`` after ``super()`` would come too late.
    This mixin sits between ``BootstrapMixin`` and ``TenantFormMixin`` and calls ``narrow_choices()``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.narrow_choices()

    def narrow_choices(self) -> None:
        pass


class MemberForm(BootstrapMixin, NarrowChoicesMixin, TenantFormMixin, forms.ModelForm):
    """One form for persons and structures: two fieldsets, the irrelevant one is ignored (and emptied)."""

    college = SafeModelChoiceField(queryset=College.objects.none(), required=False, label=_("Collège"),
                                   empty_label=_("— Aucun —"))
    practice_structure = SafeModelChoiceField(queryset=Member.objects.none(), required=False,
                                              label=_("Structure d'exercice"), empty_label=_("— Aucune —"),
                                              help_text=_("MSP, centre de santé… déjà enregistré comme adhérent."))

    class Meta:
        model = Member
        fields = MEMBER_FIELDS
        widgets = {
            "kind": forms.RadioSelect,
            "joined_on": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "rpps": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "adeli": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "siret": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "postal_code": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }
        help_texts = {
            "rpps": _("11 chiffres."),
            "adeli": _("9 chiffres (ancien répertoire, certaines professions)."),
            "finess": _("9 caractères, commençant par le département (2A/2B pour la Corse)."),
            "siret": _("14 chiffres."),
            "specialty": _("Uniquement pour les professions qui ont une spécialité (ex. médecin spécialiste)."),
        }

    def narrow_choices(self) -> None:
        instance = self.instance
        self.fields["kind"].widget.attrs["class"] = "form-check-input"
        self.fields["kind"].choices = MemberKind.choices  # no empty choice for a radio list
        professions = Profession.objects.filter(active=True)
        if instance.profession_id:
            professions = Profession.objects.filter(Q(active=True) | Q(pk=instance.profession_id))
        self.fields["profession"].queryset = professions
        self.fields["profession"].empty_label = _("— Choisir —")
        structures = self.fields["practice_structure"].queryset.filter(kind=MemberKind.STRUCTURE, anonymized_at=None)
        if instance.pk:
            structures = structures.exclude(pk=instance.pk)
        self.fields["practice_structure"].queryset = structures.order_by("structure_name")
        self.specialty_professions = {p.pk for p in professions if p.has_specialty}
        for name in ("civility", "practice_mode", "structure_type"):
            self.fields[name].choices = [("", "—"), *[c for c in self.fields[name].choices if c[0] != ""]]
        for name in SPACED_IDENTIFIERS:
            # "100 034 567 89" is accepted: spaces are removed before the model checks the length.
            field = self.fields[name]
            field.max_length = None
            field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
            field.widget.attrs.pop("maxlength", None)
        for names in REQUIRED_BY_KIND.values():
            for name in names:
                self.fields[name].kind_required = True  # marked "obligatoire" in the template

    # -- Normalisation of identifiers typed with spaces -------------------------------------------
    def _digits(self, name: str) -> str:
        return "".join(self.cleaned_data.get(name, "").split())

    def clean_rpps(self) -> str:
        rpps = self._digits("rpps")
        if rpps and Member.objects.filter(association=self.association, rpps=rpps).exclude(
                pk=self.instance.pk).exists():
            raise ValidationError(_("Ce numéro RPPS est déjà celui d'un autre adhérent de l'association."),
                                  code="rpps_unique")
        return rpps

    def clean_adeli(self) -> str:
        return self._digits("adeli")

    def clean_siret(self) -> str:
        return self._digits("siret")

    def clean_finess(self) -> str:
        return self._digits("finess").upper()

    def clean_insee_code(self) -> str:
        return self.cleaned_data.get("insee_code", "").strip().upper()

    def clean_postal_code(self) -> str:
        return self._digits("postal_code")

    def clean_email(self) -> str:
        return self.cleaned_data.get("email", "").strip()

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind not in REQUIRED_BY_KIND:
            return cleaned
        # The other block is irrelevant for this kind: empty it so no stale data is saved.
        for name in STRUCTURE_FIELDS if kind == MemberKind.PERSON else PERSON_FIELDS:
            cleaned[name] = self.fields[name].to_python(None)
            self.errors.pop(name, None)
        for name in REQUIRED_BY_KIND[kind]:
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, ValidationError(REQUIRED_MESSAGE[kind], code="required"))
        profession = cleaned.get("profession")
        if kind == MemberKind.PERSON and cleaned.get("specialty") and profession is not None \
                and profession.pk not in self.specialty_professions:
            self.add_error("specialty", _("La profession « %(profession)s » n'a pas de spécialité : laissez ce "
                                          "champ vide.") % {"profession": profession.label})
        return cleaned

    def service_data(self) -> dict:
        """Cleaned values of the model fields, as ``services.create_member/update_member`` take them."""
        return {name: self.cleaned_data[name] for name in MEMBER_FIELDS if name in self.cleaned_data}

    def apply_service_error(self, error: ValidationError) -> None:
        """Map a ValidationError raised by the service (model ``full_clean``) onto the form's fields."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            if name in self.fields:
                self.add_error(name, errors)
            elif self.cleaned_data.get("rpps") and any(
                    "rpps" in str(getattr(e, "message", e)).lower() for e in errors):
                self.add_error("rpps", _("Ce numéro RPPS est déjà celui d'un autre adhérent de l'association."))
            else:
                self.add_error(None, errors)

    def fieldsets(self):
        def bound(names):
            return [self[name] for name in names]

        return [
            ("person", _("Professionnel de santé"), _("À remplir si l'adhérent est une personne."),
             bound(PERSON_FIELDS)),
            ("structure", _("Structure"), _("À remplir si l'adhérent est une structure (MSP, centre de santé, "
                                            "EHPAD…)."), bound(STRUCTURE_FIELDS)),
            ("contact", _("Coordonnées professionnelles"), "", bound(CONTACT_FIELDS)),
            ("membership", _("Adhésion"), "", bound(MEMBERSHIP_FIELDS)),
        ]


class PaymentForm(BootstrapMixin, NarrowChoicesMixin, TenantFormMixin, forms.Form):
    """Money received for one of this member's memberships."""

    membership = SafeModelChoiceField(queryset=Membership.objects.none(), label=_("Adhésion"),
                                      empty_label=None)
    amount = forms.DecimalField(label=_("Montant (€)"), max_digits=8, decimal_places=2,
                                min_value=Decimal("0.01"),
                                error_messages={"min_value": _("Le montant doit être positif.")})
    paid_on = forms.DateField(label=_("Date de paiement"), widget=DateInput, initial=timezone.localdate)
    method = forms.ChoiceField(label=_("Mode de paiement"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Référence (n° de chèque, libellé du virement…)"), max_length=100,
                                required=False)

    def __init__(self, *args, member: Member, **kwargs):
        self.member = member
        super().__init__(*args, **kwargs)

    def narrow_choices(self) -> None:
        member = self.member
        self.fields["membership"].queryset = self.fields["membership"].queryset.filter(member=member).exclude(
            status=MembershipStatus.CANCELLED)
        self.fields["membership"].label_from_instance = lambda m: f"{m.period_label} — {m.get_status_display()}"

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise ValidationError(_("La date de paiement ne peut pas être dans le futur."))
        return paid_on


BULK_PAYMENT = "payment"
BULK_COLLEGE = "college"
BULK_RENEWAL = "renewal"


class BulkActionForm(BootstrapMixin, TenantFormMixin, forms.Form):
    """Action applied to the members ticked in the directory (the ids are read and scoped by the view)."""

    action = forms.ChoiceField(label=_("Action sur la sélection"), choices=[
        ("", _("— Choisir une action —")),
        (BULK_PAYMENT, _("Enregistrer le paiement reçu (adhésion en cours)")),
        (BULK_COLLEGE, _("Changer de collège")),
        (BULK_RENEWAL, _("Envoyer le lien de renouvellement")),
    ])
    method = forms.ChoiceField(label=_("Mode de paiement"), choices=[("", "—"), *PaymentMethod.choices],
                               required=False)
    college = SafeModelChoiceField(queryset=College.objects.none(), label=_("Nouveau collège"), required=False,
                                   empty_label="—")

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == BULK_PAYMENT and not cleaned.get("method"):
            self.add_error("method", _("Choisissez le mode de paiement."))
        if action == BULK_COLLEGE and not cleaned.get("college") and "college" not in self.errors:
            self.add_error("college", _("Choisissez le collège."))
        return cleaned
