"""How a member pays a cotisation declared online: one handler per payment method.

The renewal and join pages only use :func:`available_methods` and :func:`handler_for`; a card
provider is added later by writing one more :class:`PaymentMethodHandler` (``code = "online"``, an
``instructions`` that returns the provider's checkout link) and listing it in ``HANDLERS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from associations.models import Association, Membership, PaymentMethod
from associations.money import format_euros

MISSING_DETAILS_NOTE = (
    "L'association n'a pas encore publié ses coordonnées de paiement : coordonnées à demander à la coordination."
)


@dataclass
class Instructions:
    """What the member must do to pay: a title, labelled values to copy, free sentences, a note."""

    code: str
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    note: str = ""


class PaymentMethodHandler:
    """One way of paying a cotisation declared online."""

    code: str = ""
    label: str = ""
    description: str = ""
    reference_label: str = ""  # where the member writes the payment reference
    reference_step: str = ""   # why

    def is_configured(self, association: Association) -> bool:
        """True when the association published what the member needs to pay this way."""
        raise NotImplementedError

    def details(self, association: Association) -> list[tuple[str, str]]:
        """The association's published details, labelled (only called when configured)."""
        raise NotImplementedError

    def instructions(self, association: Association, membership: Membership | None) -> Instructions:
        result = Instructions(code=self.code, title=self.label)
        if self.is_configured(association):
            result.rows.extend(self.details(association))
        else:
            result.note = MISSING_DETAILS_NOTE
        if membership is not None:
            result.rows.append(("Montant", format_euros(membership.balance)))
            result.rows.append((self.reference_label, membership.payment_reference))
            result.steps.append(self.reference_step)
        return result


class TransferHandler(PaymentMethodHandler):
    code = PaymentMethod.TRANSFER
    label = "Virement bancaire"
    description = "Vous faites un virement depuis votre banque avec la référence indiquée."
    reference_label = "Référence à indiquer"
    reference_step = ("Indiquez la référence dans le libellé du virement : elle permet à la coordination de "
                      "reconnaître votre paiement.")

    def is_configured(self, association: Association) -> bool:
        return bool(association.iban)

    def details(self, association: Association) -> list[tuple[str, str]]:
        rows = [("Titulaire du compte", association.legal_name or association.name), ("IBAN", association.iban)]
        if association.bic:
            rows.append(("BIC", association.bic))
        return rows


class ChequeHandler(PaymentMethodHandler):
    code = PaymentMethod.CHEQUE
    label = "Chèque"
    description = "Vous envoyez un chèque par la poste."
    reference_label = "À écrire au dos du chèque"
    reference_step = "Écrivez la référence au dos du chèque pour que la coordination le rattache à votre adhésion."

    def is_configured(self, association: Association) -> bool:
        return bool(association.cheque_payee)

    def details(self, association: Association) -> list[tuple[str, str]]:
        rows = [("À l'ordre de", association.cheque_payee)]
        address = association.cheque_address or ", ".join(
            part for part in (association.address, f"{association.postal_code} {association.city}".strip()) if part
        )
        if address:
            rows.append(("Adresse d'envoi", address))
        return rows


HANDLERS: list[PaymentMethodHandler] = [TransferHandler(), ChequeHandler()]


def available_methods(association: Association) -> list[PaymentMethodHandler]:
    """The methods offered to members: those the association has configured; when none is, all of
    them (their instructions then say to ask the coordination for the details)."""
    configured = [handler for handler in HANDLERS if handler.is_configured(association)]
    return configured or list(HANDLERS)


def details_missing(association: Association) -> bool:
    return not any(handler.is_configured(association) for handler in HANDLERS)


def handler_for(code: str) -> PaymentMethodHandler | None:
    return next((handler for handler in HANDLERS if handler.code == code), None)


def instructions_for(association: Association, membership: Membership) -> Instructions | None:
    """Instructions for the method chosen on ``membership`` (None when it has none we know)."""
    handler = handler_for(membership.chosen_method)
    return handler.instructions(association, membership) if handler else None
