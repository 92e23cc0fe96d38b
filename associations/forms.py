"""Forms of the associations app. Every form built on ``TenantFormMixin`` receives ``association=``
and restricts each choice field whose model belongs to a tenant to that association."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from associations.models import Association, Role, User


class TenantFormMixin:
    """Restrict every model choice field over a tenant model to ``association``.

    Declare such fields with django-scopes' ``SafeModelChoiceField`` (module-level querysets cannot
    be evaluated outside a scope); this mixin gives them the association's rows at runtime. A form
    that needs a narrower set filters ``self.fields[name].queryset`` further after ``super().__init__``.
    """

    def __init__(self, *args, association: Association, **kwargs):
        self.association = association
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is None:
                continue
            model = queryset.model
            if any(f.name == "association" and f.related_model is Association for f in model._meta.fields):
                field.queryset = model.objects.filter(association=association)


class BootstrapMixin:
    """Add Bootstrap classes to widgets, and error classes/aria attributes once the form is validated
    (never during ``__init__``, so subclasses may still narrow their choices before validation)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else (
                "form-check-input" if isinstance(widget, forms.CheckboxInput) else "form-control"
            )
            widget.attrs.setdefault("class", css)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            field = self.fields.get(name)
            if field is None:
                continue
            auto_id = self[name].auto_id
            attrs = field.widget.attrs
            if "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
            attrs["aria-invalid"] = "true"
            described = [f"{auto_id}_errors"] + ([f"{auto_id}_helptext"] if field.help_text else [])
            attrs["aria-describedby"] = " ".join(described)


class InvitationForm(BootstrapMixin, TenantFormMixin, forms.Form):
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices, initial=Role.ASSISTANT)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class RoleChangeForm(BootstrapMixin, forms.Form):
    role = forms.ChoiceField(label=_("Nouveau rôle"), choices=Role.choices)


class AssociationSettingsForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Association
        fields = [
            "name", "legal_name", "siret", "finess", "address", "postal_code", "city", "territory",
            "population", "contact_email", "email_sender_name", "mail_rate_per_minute", "logo",
        ]
        widgets = {"logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"})}

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "size") and logo.size > 2 * 1024 * 1024:
            raise ValidationError(_("Le logo ne doit pas dépasser 2 Mo."))
        return logo


class AcceptInvitationForm(BootstrapMixin, forms.Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    password1 = forms.CharField(
        label=_("Mot de passe"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        if p1:
            probe = User(
                email=self.email, first_name=cleaned.get("first_name", ""), last_name=cleaned.get("last_name", "")
            )
            try:
                password_validation.validate_password(p1, probe)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ProfileForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "language"]
