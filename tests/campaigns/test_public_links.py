"""Public links carried by e-mails (/p/<slug>/e/…): unsubscribe page and RFC 8058 one-click POST, open
pixel and click redirect. Tampered, expired, test and other association's tokens change nothing."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations.campaigns import tokens, views_public
from associations.campaigns.services import Renderer
from associations.models import AuditLog, MailStatus, Member, OutgoingMail
from tests.campaigns.conftest import make_mail

ONE_CLICK = "List-Unsubscribe=One-Click"


def unsubscribe_path(association, token: str) -> str:
    return reverse("mail_unsubscribe", kwargs={"association_slug": association.slug, "token": token})


def open_path(association, token: str) -> str:
    return reverse("mail_open", kwargs={"association_slug": association.slug, "token": token})


def click_path(association, token: str) -> str:
    return reverse("mail_click", kwargs={"association_slug": association.slug, "token": token})


def fresh(member) -> Member:
    with scope(association=member.association):
        return Member.objects.get(pk=member.pk)


def audit_actions(association) -> list[str]:
    with scope(association=association):
        return list(AuditLog.objects.filter(association=association).values_list("action", flat=True))


def assert_subscribed(member):
    member = fresh(member)
    assert member.mail_opt_out_at is None
    assert member.newsletter_consent is True
    assert "member.unsubscribe" not in audit_actions(member.association)


@pytest.fixture
def alice(campaign_members):
    return campaign_members["alice"]  # newsletter_consent=True


@pytest.fixture
def alice_token(association, alice):
    return tokens.unsubscribe_token(association.pk, alice.pk)


# --- Unsubscribe ---------------------------------------------------------------------------------


def test_get_shows_a_confirmation_and_changes_nothing(client, association, alice, alice_token):
    queued = make_mail(association, alice)
    response = client.get(unsubscribe_path(association, alice_token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirmer ma désinscription" in html
    assert "Alice MARTIN" in html
    assert "CPTS Alpha" in html
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    assert_subscribed(alice)
    queued.refresh_from_db()
    assert queued.status == MailStatus.QUEUED


def test_post_unsubscribes_cancels_queued_rows_and_is_audited(client, association, alice, alice_token,
                                                              campaign_members):
    queued = make_mail(association, alice)
    sent = make_mail(association, alice, status=MailStatus.SENT)
    other = make_mail(association, campaign_members["bruno"])
    response = client.post(unsubscribe_path(association, alice_token))
    assert response.status_code == 200
    assert "C'est fait" in response.content.decode()
    member = fresh(alice)
    assert member.mail_opt_out_at is not None
    assert member.newsletter_consent is False
    for row in (queued, sent, other):
        row.refresh_from_db()
    assert queued.status == MailStatus.CANCELLED and queued.last_error == "Désinscrit avant l'envoi."
    assert sent.status == MailStatus.SENT
    assert other.status == MailStatus.QUEUED
    with scope(association=association):
        log = AuditLog.objects.get(association=association, action="member.unsubscribe")
    assert log.target_id == str(alice.pk) and log.changes == {"via": "link"} and log.actor is None
    # Once more: already done, nothing new.
    again = client.get(unsubscribe_path(association, alice_token))
    assert "déjà désinscrit" in again.content.decode()
    client.post(unsubscribe_path(association, alice_token))
    assert audit_actions(association).count("member.unsubscribe") == 1


def test_rfc8058_one_click_post_without_csrf_token(association, alice, alice_token):
    client = Client(enforce_csrf_checks=True)
    response = client.post(unsubscribe_path(association, alice_token), data=ONE_CLICK,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    member = fresh(alice)
    assert member.mail_opt_out_at is not None and member.newsletter_consent is False
    with scope(association=association):
        log = AuditLog.objects.get(association=association, action="member.unsubscribe")
    assert log.changes == {"via": "one-click"}


def test_the_list_unsubscribe_header_of_a_launched_row_works(association, alice):
    row = make_mail(association, alice)
    with scope(association=association):
        headers = Renderer(association, subject="Objet", body="Texte", kind_label="x").render(alice, row.uid)["headers"]
    url = headers["List-Unsubscribe"].split(",")[1].strip().strip("<>")
    path = url.removeprefix("http://testserver")
    response = Client(enforce_csrf_checks=True).post(path, data=ONE_CLICK,
                                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert fresh(alice).mail_opt_out_at is not None


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_token_shows_a_clear_page_and_changes_nothing(client, association, alice, alice_token, method):
    tampered = alice_token[:-3] + ("aaa" if not alice_token.endswith("aaa") else "bbb")
    response = getattr(client, method)(unsubscribe_path(association, tampered))
    assert response.status_code == 404
    html = response.content.decode()
    assert "Ce lien n&#x27;est pas valable" in html or "Ce lien n'est pas valable" in html
    assert "Rien n&#x27;a été modifié" in html or "Rien n'a été modifié" in html
    assert_subscribed(alice)


def test_garbage_token_and_unknown_member(client, association, alice):
    assert client.post(unsubscribe_path(association, "pas-un-jeton")).status_code == 404
    unknown = tokens.unsubscribe_token(association.pk, 999_999)
    assert client.post(unsubscribe_path(association, unknown)).status_code == 404
    assert_subscribed(alice)


def test_expired_token_gets_a_410_page(client, association, alice, alice_token, monkeypatch):
    later = time.time() + tokens.UNSUBSCRIBE_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.post(unsubscribe_path(association, alice_token))
    assert response.status_code == 410
    assert "Ce lien a expiré" in response.content.decode()
    monkeypatch.undo()
    assert_subscribed(alice)


def test_a_token_still_valid_a_year_later(client, association, alice, alice_token, monkeypatch):
    later = time.time() + 365 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.post(unsubscribe_path(association, alice_token)).status_code == 200
    monkeypatch.undo()
    assert fresh(alice).mail_opt_out_at is not None


def test_a_token_of_another_association_is_refused(client, association, other_association, campaign_members):
    foreign = campaign_members["foreign"]
    with scope(association=other_association):
        Member.objects.filter(pk=foreign.pk).update(newsletter_consent=True)
    token_a = tokens.unsubscribe_token(association.pk, campaign_members["alice"].pk)
    token_b = tokens.unsubscribe_token(other_association.pk, foreign.pk)
    # A's token under B's slug, and B's token (naming B's member) under A's slug.
    assert client.post(unsubscribe_path(other_association, token_a)).status_code == 404
    assert client.post(unsubscribe_path(association, token_b)).status_code == 404
    # A forged payload naming B's member with A's id cannot be signed without the key.
    assert_subscribed(campaign_members["alice"])
    assert_subscribed(foreign)


def test_unknown_slug_is_404(client, alice_token):
    assert client.get(f"/p/inconnue/e/desinscription/{alice_token}/").status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_test_token_explains_and_changes_nothing(client, association, alice, method):
    token = tokens.unsubscribe_token(association.pk, alice.pk, test=True)
    queued = make_mail(association, alice)
    response = getattr(client, method)(unsubscribe_path(association, token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "envoi de test" in html
    assert "Confirmer ma désinscription" not in html
    assert_subscribed(alice)
    queued.refresh_from_db()
    assert queued.status == MailStatus.QUEUED


def test_a_test_token_one_click_changes_nothing(association, alice):
    token = tokens.unsubscribe_token(association.pk, alice.pk, test=True)
    Client(enforce_csrf_checks=True).post(unsubscribe_path(association, token), data=ONE_CLICK,
                                          content_type="application/x-www-form-urlencoded")
    assert_subscribed(alice)


# --- Open pixel ----------------------------------------------------------------------------------


def counts(row) -> tuple:
    row.refresh_from_db()
    return row.opened_at, row.open_count, row.clicked_at, row.click_count


def assert_gif(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == views_public.PIXEL and response.content.startswith(b"GIF89a")


def test_open_pixel_records_the_first_open_and_counts_the_others(client, association, alice):
    row = make_mail(association, alice, status=MailStatus.SENT, sent_at=timezone.now())
    token = tokens.tracking_token(association.pk, row.uid)
    assert_gif(client.get(open_path(association, token)))
    opened_at, open_count, _clicked, _clicks = counts(row)
    assert opened_at is not None and open_count == 1
    assert_gif(client.get(open_path(association, token)))
    assert counts(row)[:2] == (opened_at, 2)


def test_open_pixel_is_always_an_image_but_records_nothing_without_a_valid_token(client, association,
                                                                                 other_association, alice):
    sent = make_mail(association, alice, status=MailStatus.SENT, sent_at=timezone.now())
    queued = make_mail(association, alice)
    good = tokens.tracking_token(association.pk, sent.uid)
    for path in (
        open_path(association, good[:-2] + "xx"),                                   # tampered
        open_path(association, "n-importe-quoi"),                                   # garbage
        open_path(other_association, good),                                         # another association
        open_path(association, tokens.tracking_token(association.pk, queued.uid)),  # not sent yet
        open_path(association, tokens.tracking_token(association.pk, "inconnu")),   # unknown row
        open_path(association, tokens.unsubscribe_token(association.pk, alice.pk)),  # wrong kind of token
    ):
        assert_gif(client.get(path))
    assert counts(sent) == (None, 0, None, 0)
    assert counts(queued) == (None, 0, None, 0)


def test_open_pixel_with_an_expired_token_records_nothing(client, association, alice, monkeypatch):
    row = make_mail(association, alice, status=MailStatus.SENT, sent_at=timezone.now())
    token = tokens.tracking_token(association.pk, row.uid)
    later = time.time() + tokens.TRACKING_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert_gif(client.get(open_path(association, token)))
    monkeypatch.undo()
    assert counts(row) == (None, 0, None, 0)


# --- Click redirect ------------------------------------------------------------------------------


def test_click_redirects_to_the_signed_address_and_records_it(client, association, alice):
    row = make_mail(association, alice, status=MailStatus.SENT, sent_at=timezone.now())
    target = "https://exemple.fr/agenda?x=1&y=2"
    token = tokens.tracking_token(association.pk, row.uid, target)
    response = client.get(click_path(association, token))
    assert response.status_code == 302 and response["Location"] == target
    opened_at, open_count, clicked_at, click_count = counts(row)
    assert clicked_at is not None and click_count == 1
    assert opened_at is not None  # a click proves the message was opened
    client.get(click_path(association, token))
    assert counts(row)[2:] == (clicked_at, 2)


def test_click_ignores_a_next_parameter(client, association, alice):
    row = make_mail(association, alice, status=MailStatus.SENT, sent_at=timezone.now())
    token = tokens.tracking_token(association.pk, row.uid, "https://exemple.fr/")
    response = client.get(click_path(association, token) + "?next=https://evil.example/&url=https://evil.example/")
    assert response["Location"] == "https://exemple.fr/"


def test_click_on_a_row_not_sent_redirects_without_recording(client, association, alice):
    row = make_mail(association, alice, kind="test", status=MailStatus.QUEUED)
    token = tokens.tracking_token(association.pk, row.uid, "https://exemple.fr/")
    assert client.get(click_path(association, token))["Location"] == "https://exemple.fr/"
    assert counts(row) == (None, 0, None, 0)


@pytest.mark.parametrize("case", ["tampered", "garbage", "other_association", "no_url", "javascript", "expired"])
def test_bad_click_tokens_show_a_clear_page_and_do_not_redirect(client, association, other_association, alice,
                                                                 monkeypatch, case):
    row = make_mail(association, alice, status=MailStatus.SENT, sent_at=timezone.now())
    good = tokens.tracking_token(association.pk, row.uid, "https://exemple.fr/")
    slug_owner = association
    token = {
        "tampered": good[:-2] + ("xx" if not good.endswith("xx") else "yy"),
        "garbage": "pas-un-jeton",
        "other_association": good,
        "no_url": tokens.tracking_token(association.pk, row.uid),
        "javascript": tokens.tracking_token(association.pk, row.uid, "javascript:alert(1)"),
        "expired": good,
    }[case]
    if case == "other_association":
        slug_owner = other_association
    if case == "expired":
        later = time.time() + tokens.TRACKING_MAX_AGE + 60
        monkeypatch.setattr(time, "time", lambda: later)
    response = client.get(click_path(slug_owner, token))
    monkeypatch.undo()
    assert response.status_code == (410 if case == "expired" else 404)
    assert "Location" not in response
    html = response.content.decode()
    assert "Ce lien a expiré" in html if case == "expired" else "pas valable" in html
    assert "nous ne savons pas vers quelle page vous envoyer" in html
    assert counts(row) == (None, 0, None, 0)


def test_a_signed_token_forged_with_another_salt_is_refused(client, association, alice):
    row = make_mail(association, alice, status=MailStatus.SENT, sent_at=timezone.now())
    forged = signing.dumps({"a": association.pk, "u": row.uid, "l": "https://evil.example/"},
                           salt=tokens.UNSUBSCRIBE_SALT, compress=True)
    response = client.get(click_path(association, forged))
    assert response.status_code == 404 and "Location" not in response
    with scope(association=association):
        assert OutgoingMail.objects.get(pk=row.pk).click_count == 0
