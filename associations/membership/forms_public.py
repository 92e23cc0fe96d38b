"""Forms a professional fills in: online renewal (by personal link or in the member space), profile,
and the public join page. Model validators (postal code, RPPS, FINESS, SIRET...) come from the model
fields; nothing here writes — views hand ``changed_data()`` / ``member_data()`` to the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from associations.forms import BootstrapMixin
from associations.membership.payment_methods import available_methods
from associations.models import Association, Member, MemberKind, Profession

PERSON_FIELDS = ["civility", "first_name", "last_name", "profession", "specialty", "practice_mode",
                 "email", "phone", "address", "postal_code", "city"]
STRUCTURE_FIELDS = ["structure_name", "contact_person", "email", "phone", "address", "postal_code", "city"]
JOIN_PERSON_FIELDS = ["civility", "first_name", "last_name", "profession", "specialty", "practice_mode", "rpps",
                      "adeli"]
JOIN_STRUCTURE_FIELDS = ["structure_name", "structure_type", "finess", "siret", "contact_person"]
JOIN_COMMON_FIELDS = ["email", "phone", "address", "postal_code", "city"]

# Helps phones fill the form (keyboard type, autofill).
WIDGET_ATTRS: dict[str, dict[str, str]] = {
    "first_name": {"autocomplete": "given-name"},
    "last_name": {"autocomplete": "family-name"},
    "civility": {"autocomplete": "honorific-prefix"},
    "email": {"autocomplete": "email"},
    "phone": {"autocomplete": "tel", "type": "tel"},
    "address": {"autocomplete": "street-address"},
    "postal_code": {"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": "5"},
    "city": {"autocomplete": "address-level2"},
    "structure_name": {"autocomplete": "organization"},
    "contact_person": {"autocomplete": "name"},
    "rpps": {"inputmode": "numeric"},
    "adeli": {"inputmode": "numeric"},
    "siret": {"inputmode": "numeric"},
}
VALIDATED_FIELDS = {"postal_code", "rpps", "adeli", "finess", "siret"}
REQUIRED_MESSAGE = _("Ce champ est obligatoire.")
DOCUMENT_REQUIRED = _("Vous devez accepter ce document pour adhérer.")


def _model_fields(names: list[str], association: Association, current_profession_id: int | None = None):
    fields = forms.fields_for_model(Member, fields=names)
    for name, field in fields.items():
        field.required = False
        if name in VALIDATED_FIELDS:
            # Model validators run on full_clean only; run the identifier checks on the form too.
            field.validators.extend(v for v in Member._meta.get_field(name).validators
                                    if not isinstance(v, MaxLengthValidator))
        attrs = dict(WIDGET_ATTRS.get(name, {}))
        if "type" in attrs:
            field.widget.input_type = attrs.pop("type")
        field.widget.attrs.update(attrs)
        if name == "profession":
            # Active professions, plus the member's own even if the operator retired it since.
            field.queryset = Profession.objects.filter(Q(active=True) | Q(pk=current_profession_id))
            field.empty_label = _("— choisir —")
        if name == "email":
            field.help_text = _("Votre attestation d'adhésion sera envoyée à cette adresse.")
    return fields


class _DocumentsAndPaymentMixin:
    """The three documents to accept and the payment method (radio), added to ``self.fields``."""

    def _add_documents_and_payment(self, association: Association) -> None:
        self.fields["accept_statutes"] = forms.BooleanField(
            label=_("J'ai lu et j'accepte les statuts de l'association"), required=True,
            error_messages={"required": DOCUMENT_REQUIRED})
        self.fields["accept_rules"] = forms.BooleanField(
            label=_("J'ai lu et j'accepte le règlement intérieur"), required=True,
            error_messages={"required": DOCUMENT_REQUIRED})
        self.fields["accept_privacy"] = forms.BooleanField(
            label=_("J'ai lu la notice d'information sur mes données personnelles (RGPD)"), required=True,
            error_messages={"required": DOCUMENT_REQUIRED})
        self.methods = available_methods(association)
        self.fields["method"] = forms.ChoiceField(
            label=_("Mode de paiement"), widget=forms.RadioSelect,
            choices=[(handler.code, handler.label) for handler in self.methods],
            error_messages={"required": _("Choisissez un mode de paiement."),
                            "invalid_choice": _("Choisissez un des modes de paiement proposés.")},
        )
        if len(self.methods) == 1:
            self.fields["method"].initial = self.methods[0].code

    @property
    def documents_accepted(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return all(data.get(name) for name in ("accept_statutes", "accept_rules", "accept_privacy"))

    def document_fields(self):
        return [self[name] for name in ("accept_statutes", "accept_rules", "accept_privacy")]


class _Fields:
    """Builds the fields before BootstrapMixin styles them (it sits before this class in the MRO)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.build_fields()

    def build_fields(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class MemberDetailsForm(BootstrapMixin, _Fields, forms.Form):
    """The member's own data (person or structure), prefilled from the record."""

    def __init__(self, *args, member: Member, association: Association, **kwargs):
        self.member = member
        self.association = association
        self.detail_names = STRUCTURE_FIELDS if member.kind == MemberKind.STRUCTURE else PERSON_FIELDS
        kwargs.setdefault("initial", {name: (member.profession_id if name == "profession" else getattr(member, name))
                                      for name in self.detail_names})
        super().__init__(*args, **kwargs)
        self._fix_radio_classes()

    def required_names(self) -> list[str]:
        if self.member.kind == MemberKind.STRUCTURE:
            return ["structure_name", "email"]
        return ["first_name", "last_name", "email"]

    def build_fields(self) -> None:
        self.fields.update(_model_fields(self.detail_names, self.association, self.member.profession_id))
        for name in self.required_names():
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = REQUIRED_MESSAGE

    def _fix_radio_classes(self) -> None:
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["class"] = "form-check-input"

    def detail_fields(self):
        return [self[name] for name in self.detail_names]

    def changed_data_for_member(self) -> dict[str, Any]:
        """Only the fields whose value differs from the record (what the service should write)."""
        changes = {}
        for name in self.detail_names:
            value = self.cleaned_data.get(name)
            if value is None and name != "profession":
                value = ""
            if isinstance(value, str):
                value = value.strip()
            if value != getattr(self.member, name):
                changes[name] = value
        return changes


class RenewalForm(_DocumentsAndPaymentMixin, MemberDetailsForm):
    """One page: corrected data, the three documents accepted, the payment method."""

    def build_fields(self) -> None:
        super().build_fields()
        self._add_documents_and_payment(self.association)


class ProfileForm(MemberDetailsForm):
    """The member space's profile page: the same fields as the renewal form."""


class JoinForm(_DocumentsAndPaymentMixin, BootstrapMixin, _Fields, forms.Form):
    """The public join page: a new professional or structure applies."""

    def __init__(self, *args, association: Association, **kwargs):
        self.association = association
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["class"] = "form-check-input"

    def build_fields(self) -> None:
        self.fields["kind"] = forms.ChoiceField(
            label=_("Vous adhérez en tant que"), choices=MemberKind.choices, initial=MemberKind.PERSON,
            widget=forms.RadioSelect)
        self.fields.update(_model_fields(JOIN_PERSON_FIELDS + JOIN_STRUCTURE_FIELDS + JOIN_COMMON_FIELDS,
                                         self.association))
        self.fields["rpps"].help_text = _("11 chiffres. Les psychologues et certaines professions indiquent "
                                          "plutôt leur numéro ADELI.")
        self.fields["email"].required = True
        self.fields["email"].error_messages["required"] = REQUIRED_MESSAGE
        self.fields["newsletter_consent"] = forms.BooleanField(
            label=_("J'accepte de recevoir les lettres d'information de l'association"), required=False)
        self._add_documents_and_payment(self.association)
        # Honeypot: hidden from people (display: none), filled by robots that fill every field.
        self.fields["website"] = forms.CharField(
            label=_("Ne pas remplir ce champ"), required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website", "").strip())

    def person_fields(self):
        return [self[name] for name in JOIN_PERSON_FIELDS]

    def structure_fields(self):
        return [self[name] for name in JOIN_STRUCTURE_FIELDS]

    def common_fields(self):
        return [self[name] for name in JOIN_COMMON_FIELDS]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        # The fields of the other kind are hidden on the page: their errors would be invisible.
        for name in JOIN_PERSON_FIELDS if kind == MemberKind.STRUCTURE else JOIN_STRUCTURE_FIELDS:
            self._errors.pop(name, None)
        required = ["structure_name"] if kind == MemberKind.STRUCTURE else ["first_name", "last_name", "profession"]
        for name in required:
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, REQUIRED_MESSAGE)
        rpps = cleaned.get("rpps")
        # Say that the number is known, nothing about whom it belongs to.
        if (kind == MemberKind.PERSON and rpps and "rpps" not in self.errors
                and Member.objects.filter(association=self.association, rpps=rpps).exists()):
            self.add_error("rpps", _("Ce numéro RPPS est déjà enregistré auprès de l'association. Pour "
                                     "renouveler votre adhésion, utilisez le lien reçu par e-mail ou "
                                     "contactez la coordination."))
        return cleaned

    def member_data(self) -> dict[str, Any]:
        """The new member's fields (only those of the chosen kind)."""
        kind = self.cleaned_data["kind"]
        names = (JOIN_STRUCTURE_FIELDS if kind == MemberKind.STRUCTURE else JOIN_PERSON_FIELDS) + JOIN_COMMON_FIELDS
        data: dict[str, Any] = {"kind": kind, "newsletter_consent": self.cleaned_data.get("newsletter_consent", False)}
        for name in names:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            data[name] = value.strip() if isinstance(value, str) else value
        return data
