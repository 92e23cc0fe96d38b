"""Signed tokens of the links carried by e-mails: unsubscribe (one click, RFC 8058), open pixel and
click redirect. Each names the association, so a token of one CPTS is refused under another's URL."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "associations.campaigns.unsubscribe"
TRACKING_SALT = "associations.campaigns.tracking"
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600  # a message read a year later still unsubscribes
TRACKING_MAX_AGE = 180 * 24 * 3600


def unsubscribe_token(association_id: int, member_id: int, *, test: bool = False) -> str:
    payload = {"a": association_id, "m": member_id}
    if test:
        payload["t"] = 1  # a coordinator's test message: the page explains, nothing changes
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(association_id: int, token: str) -> tuple[dict | None, str | None]:
    """(payload, None), or (None, "expired" | "invalid")."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.SignatureExpired:
        return None, "expired"
    except signing.BadSignature:
        return None, "invalid"
    if not isinstance(data, dict) or data.get("a") != association_id or not isinstance(data.get("m"), int):
        return None, "invalid"
    return data, None


def tracking_token(association_id: int, uid: str, url: str = "") -> str:
    payload = {"a": association_id, "u": uid}
    if url:
        payload["l"] = url
    return signing.dumps(payload, salt=TRACKING_SALT, compress=True)


def read_tracking_token(association_id: int, token: str) -> tuple[dict | None, str | None]:
    try:
        data = signing.loads(token, salt=TRACKING_SALT, max_age=TRACKING_MAX_AGE)
    except signing.SignatureExpired:
        return None, "expired"
    except signing.BadSignature:
        return None, "invalid"
    if not isinstance(data, dict) or data.get("a") != association_id or not isinstance(data.get("u"), str):
        return None, "invalid"
    return data, None


def _absolute(name: str, slug: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, kwargs={"association_slug": slug, "token": token})


def unsubscribe_url(association, member_id: int, *, test: bool = False) -> str:
    return _absolute("mail_unsubscribe", association.slug, unsubscribe_token(association.pk, member_id, test=test))


def open_url(association, uid: str) -> str:
    return _absolute("mail_open", association.slug, tracking_token(association.pk, uid))


def click_url(association, uid: str, url: str) -> str:
    return _absolute("mail_click", association.slug, tracking_token(association.pk, uid, url))
