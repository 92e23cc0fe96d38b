"""Forms of the membership administration screens: the "à valider" queue, the membership settings
(period rule, bank details, tariffs, collèges, documents) and the RGPD screens.

None of them has a tenant choice field: objects are fetched by the views from ``request.association``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.forms import BootstrapMixin
from associations.membership.admin_services import check_pdf
from associations.models import Association, DocumentKind, TariffCategory
from associations.services import ServiceError

# --- Bank details ---------------------------------------------------------------------------------

IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$")
BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


def normalize_iban(value: str) -> str:
    return re.sub(r"[\s-]+", "", value or "").upper()


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 mod-97: move the first four characters to the end, letters → 10..35, remainder 1."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


def validate_iban(value: str) -> None:
    if not IBAN_RE.match(value):
        raise ValidationError(
            _("L'IBAN commence par 2 lettres (le pays) et 2 chiffres, suivis de 30 lettres ou chiffres au plus."),
            code="iban_format",
        )
    if not iban_checksum_ok(value):
        raise ValidationError(_("Cet IBAN n'est pas valide (clé de contrôle incorrecte)."), code="iban_checksum")


def validate_bic(value: str) -> None:
    if len(value) not in (8, 11) or not BIC_RE.match(value):
        raise ValidationError(
            _("Le BIC comporte 8 ou 11 caractères : 4 lettres (banque), 2 lettres (pays), puis 2 ou 5 lettres "
              "ou chiffres."),
            code="bic_format",
        )


class MembershipSettingsForm(BootstrapMixin, forms.Form):
    membership_period = forms.ChoiceField(
        label=_("Période d'adhésion"),
        choices=Association._meta.get_field("membership_period").choices,
        help_text=_("Année civile : une cotisation par année (1er janvier – 31 décembre). 12 mois glissants : "
                    "une cotisation couvre 12 mois à partir de son début."),
    )
    iban = forms.CharField(label=_("IBAN"), max_length=50, required=False,
                           help_text=_("Affiché aux adhérents qui choisissent le virement. Les espaces sont permis."))
    bic = forms.CharField(label=_("BIC"), max_length=15, required=False)
    cheque_payee = forms.CharField(label=_("Ordre des chèques"), max_length=200, required=False)
    cheque_address = forms.CharField(label=_("Adresse d'envoi des chèques"), max_length=255, required=False)
    lapsed_review_years = forms.IntegerField(
        label=_("Revue RGPD après (années sans adhésion)"), min_value=1, max_value=30,
        help_text=_("Les anciens adhérents sans adhésion depuis ce nombre d'années sont listés pour revue."),
        error_messages={"min_value": _("Indiquez au moins 1 an."), "max_value": _("Indiquez 30 ans au plus.")},
    )

    @classmethod
    def initial_for(cls, association: Association) -> dict:
        return {name: getattr(association, name) for name in cls.base_fields}

    def clean_iban(self) -> str:
        iban = normalize_iban(self.cleaned_data.get("iban", ""))
        if iban:
            validate_iban(iban)
        return iban

    def clean_bic(self) -> str:
        bic = re.sub(r"\s+", "", self.cleaned_data.get("bic", "")).upper()
        if bic:
            validate_bic(bic)
        return bic

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("bic") and not cleaned.get("iban") and "iban" not in self.errors:
            self.add_error("iban", _("Renseignez l'IBAN qui va avec ce BIC."))
        return cleaned


# --- Tariffs --------------------------------------------------------------------------------------


class AmountField(forms.DecimalField):
    """A euro amount ≥ 0: accepts "30", "30.5", "30,50" or "30,50 €"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 8)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)
        self.error_messages.update({
            "min_value": _("Le montant ne peut pas être négatif."),
            "invalid": _("Saisissez un montant en euros, par exemple 30 ou 30,50."),
            "max_decimal_places": _("Indiquez au plus 2 chiffres après la virgule."),
            "max_digits": _("Ce montant est trop élevé."),
            "max_whole_digits": _("Ce montant est trop élevé."),
        })

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("€", "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
            value = value.replace(",", ".")
        return super().to_python(value)


class TariffForm(BootstrapMixin, forms.Form):
    """One yearly amount per category; a category the association does not charge is set to 0."""

    person = AmountField(label=TariffCategory.PERSON.label + " (€)")
    structure = AmountField(label=TariffCategory.STRUCTURE.label + " (€)")
    student = AmountField(label=TariffCategory.STUDENT.label + " (€)",
                          help_text=_("0 € : adhésion gratuite (exonérée)."))

    def amounts(self) -> dict[str, Decimal]:
        return {category: self.cleaned_data[category] for category in TariffCategory.values}


# --- Collèges -------------------------------------------------------------------------------------


class CollegeForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Nom du collège"), max_length=120,
                           error_messages={"required": _("Indiquez le nom du collège.")})


# --- Documents ------------------------------------------------------------------------------------


class DocumentUploadForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("Fichier PDF"),
        help_text=_("PDF uniquement, 10 Mo au plus. La nouvelle version remplace la précédente pour les adhérents."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        error_messages={"required": _("Choisissez un fichier PDF."), "empty": _("Le fichier est vide.")},
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            check_pdf(uploaded)
        except ServiceError as error:
            raise ValidationError(str(error), code="not_pdf") from None
        return uploaded


# --- "À valider" queue ----------------------------------------------------------------------------


class ValidatePaymentForm(BootstrapMixin, forms.Form):
    paid_on = forms.DateField(
        label=_("Reçu le"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide.")},
    )

    def clean_paid_on(self):
        paid_on = self.cleaned_data.get("paid_on")
        if paid_on and paid_on > timezone.localdate():
            raise ValidationError(_("La date de réception ne peut pas être dans le futur."), code="future")
        return paid_on


class ApplicationDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accepter")), ("refuse", _("Refuser"))],
                                 error_messages={"required": _("Choisissez « Accepter » ou « Refuser »."),
                                                 "invalid_choice": _("Choisissez « Accepter » ou « Refuser ».")})


# --- RGPD -----------------------------------------------------------------------------------------


class EraseForm(BootstrapMixin, forms.Form):
    confirm = forms.BooleanField(
        label=_("Je confirme l'anonymisation définitive"),
        error_messages={"required": _("Cochez « Je confirme l'anonymisation définitive » pour anonymiser "
                                      "cet adhérent.")},
    )
