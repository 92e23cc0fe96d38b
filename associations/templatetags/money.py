"""``{% load money %}`` then ``{{ membership.balance|euros }}`` → ``1 234,50 €`` (see associations.money)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from associations.money import format_euros

register = template.Library()


@register.filter
def euros(value) -> str:
    """A Decimal or int amount; a numeric string is read as a Decimal; anything else shows nothing."""
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            return ""
    try:
        return format_euros(value)
    except (TypeError, ValueError):
        return ""
