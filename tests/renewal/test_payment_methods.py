"""The payment methods registry: what is offered, and the instructions of each method."""

from __future__ import annotations

import pytest
from django_scopes import scope

from associations.membership import services
from associations.membership.payment_methods import (
    MISSING_DETAILS_NOTE,
    available_methods,
    details_missing,
    handler_for,
    instructions_for,
)
from tests.renewal.conftest import BIC, IBAN

pytestmark = pytest.mark.django_db


def _codes(association) -> list[str]:
    return [handler.code for handler in available_methods(association)]


def test_methods_offered_follow_the_association_settings(association):
    assert _codes(association) == ["transfer", "cheque"] and details_missing(association)
    association.iban = IBAN
    assert _codes(association) == ["transfer"] and not details_missing(association)
    association.cheque_payee = "CPTS Alpha"
    assert _codes(association) == ["transfer", "cheque"]
    association.iban = ""
    assert _codes(association) == ["cheque"]


def test_transfer_instructions_hold_iban_bic_amount_and_reference(alpha, member):
    with scope(association=alpha):
        membership = services.declare_renewal(member, method="transfer", data={}, documents_accepted=True)
    rows = dict(instructions_for(alpha, membership).rows)
    assert rows["IBAN"] == IBAN and rows["BIC"] == BIC and rows["Montant"] == "30,00\u00a0€"
    assert rows["Référence à indiquer"] == membership.payment_reference


def test_cheque_instructions_hold_payee_address_and_reference(alpha, member):
    alpha.cheque_payee = "Association CPTS Alpha"
    alpha.cheque_address = "12 rue de la Gare, 37000 Tours"
    with scope(association=alpha):
        membership = services.declare_renewal(member, method="cheque", data={}, documents_accepted=True)
    instructions = instructions_for(alpha, membership)
    rows = dict(instructions.rows)
    assert rows["À l'ordre de"] == "Association CPTS Alpha"
    assert rows["Adresse d'envoi"] == "12 rue de la Gare, 37000 Tours"
    assert rows["À écrire au dos du chèque"] == membership.payment_reference
    assert not instructions.note


def test_without_details_the_instructions_say_to_ask_the_coordination(association):
    for code in ("transfer", "cheque"):
        instructions = handler_for(code).instructions(association, None)
        assert instructions.note == MISSING_DETAILS_NOTE
        assert "coordonnées à demander à la coordination" in instructions.note
    assert handler_for("online") is None
