"""django-allauth adapter: no public sign-up (people join by invitation), e-mails from the platform."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by accepting an invitation (associations.views.accept_invitation).
        return False
