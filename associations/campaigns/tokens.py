"""Signed tokens of the links carried by e-mails: unsubscribe (one click, RFC 8058), open pixel and
click redirect. Each names the association, so a token of one CPTS is refused under another's URL.
Signing and checking are ``associations.tokens``; this module builds the campaign URLs."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from associations.tokens import TokenKind

UNSUBSCRIBE = TokenKind("associations.campaigns.unsubscribe", timedelta(days=400),  # read a year later: still works
                        fields={"a": int, "m": int})
TRACKING = TokenKind("associations.campaigns.tracking", timedelta(days=180), fields={"a": int, "u": str},
                     optional={"l": str})
UNSUBSCRIBE_SALT = UNSUBSCRIBE.salt
TRACKING_SALT = TRACKING.salt
UNSUBSCRIBE_MAX_AGE = UNSUBSCRIBE.max_age_seconds
TRACKING_MAX_AGE = TRACKING.max_age_seconds


def unsubscribe_token(association_id: int, member_id: int, *, test: bool = False) -> str:
    payload = {"a": association_id, "m": member_id}
    if test:
        payload["t"] = 1  # a coordinator's test message: the page explains, nothing changes
    return UNSUBSCRIBE.sign(payload)


def read_unsubscribe_token(association_id: int, token: str) -> tuple[dict | None, str | None]:
    """(payload, None), or (None, "expired" | "invalid")."""
    result = UNSUBSCRIBE.unsign(token, expect={"a": association_id})
    return result.payload, result.problem_code


def tracking_token(association_id: int, uid: str, url: str = "") -> str:
    payload = {"a": association_id, "u": uid}
    if url:
        payload["l"] = url
    return TRACKING.sign(payload)


def read_tracking_token(association_id: int, token: str) -> tuple[dict | None, str | None]:
    result = TRACKING.unsign(token, expect={"a": association_id})
    return result.payload, result.problem_code


def _absolute(name: str, slug: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, kwargs={"association_slug": slug, "token": token})


def unsubscribe_url(association, member_id: int, *, test: bool = False) -> str:
    return _absolute("mail_unsubscribe", association.slug, unsubscribe_token(association.pk, member_id, test=test))


def open_url(association, uid: str) -> str:
    return _absolute("mail_open", association.slug, tracking_token(association.pk, uid))


def click_url(association, uid: str, url: str) -> str:
    return _absolute("mail_click", association.slug, tracking_token(association.pk, uid, url))
