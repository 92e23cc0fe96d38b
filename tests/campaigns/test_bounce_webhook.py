"""The bounce webhook of the mail provider (POST /webhooks/rebonds/, bearer token)."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from django_scopes import scope

from associations.models import AuditLog, MailStatus, Member
from tests.campaigns.conftest import make_mail

URL = "/webhooks/rebonds/"
TOKEN = "jeton-secret-du-fournisseur"


@pytest.fixture
def webhook(settings):
    settings.BOUNCE_WEBHOOK_TOKEN = TOKEN


def post(client, payload, token=TOKEN, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = raw if raw is not None else json.dumps(payload)
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def fresh(member) -> Member:
    with scope(association=member.association):
        return Member.objects.get(pk=member.pk)


def bounce_logs(association) -> list[AuditLog]:
    with scope(association=association):
        return list(AuditLog.objects.filter(association=association, action="member.bounce"))


@pytest.fixture
def sent_rows(association, other_association, campaign_members):
    """Alice's address is used by a member of each association; each association sent her a message."""
    now = timezone.now()
    return {
        "alpha_sent": make_mail(association, campaign_members["alice"], status=MailStatus.SENT, sent_at=now),
        "alpha_queued": make_mail(association, campaign_members["alice"]),
        "beta_sent": make_mail(other_association, campaign_members["foreign"], status=MailStatus.SENT, sent_at=now),
        "beta_queued": make_mail(other_association, campaign_members["foreign"]),
        "bruno_queued": make_mail(association, campaign_members["bruno"]),
    }


def test_404_while_no_token_is_configured(client, settings, campaign_members):
    settings.BOUNCE_WEBHOOK_TOKEN = ""
    assert post(client, {"email": "alice@exemple.fr"}, token="").status_code == 404
    assert post(client, {"email": "alice@exemple.fr"}, token=None).status_code == 404
    assert client.get(URL).status_code == 404  # not even a 405 that would reveal the endpoint
    assert fresh(campaign_members["alice"]).email_invalid is False


@pytest.mark.parametrize("token", [None, "", "mauvais-jeton", TOKEN + "x", TOKEN[:-1]])
def test_401_without_or_with_a_wrong_bearer_token(client, webhook, campaign_members, token):
    response = post(client, {"email": "alice@exemple.fr"}, token=token)
    assert response.status_code == 401
    assert response.json() == {"erreur": "Jeton d'authentification manquant ou invalide."}
    assert fresh(campaign_members["alice"]).email_invalid is False


def test_basic_auth_header_is_refused(client, webhook, campaign_members):
    response = client.post(URL, data=json.dumps({"email": "alice@exemple.fr"}), content_type="application/json",
                           headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401


def test_get_is_not_allowed(client, webhook):
    assert client.get(URL, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405


@pytest.mark.parametrize("raw, payload, message", [
    ("pas du json", None, "Le corps de la requête doit être un objet JSON."),
    (b"\xff\xfe", None, "Le corps de la requête doit être un objet JSON."),
    ('["alice@exemple.fr"]', None, "Le corps de la requête doit être un objet JSON."),
    (None, {"type": "hard"}, "Le champ « email » est obligatoire."),
    (None, {"email": "pas-une-adresse"}, "Le champ « email » est obligatoire."),
    (None, {"email": ["alice@exemple.fr"]}, "Le champ « email » est obligatoire."),
    (None, {"email": "alice@exemple.fr", "type": "grave"}, "Le champ « type » doit valoir « hard » ou « soft »."),
])
def test_400_with_a_french_message(client, webhook, campaign_members, raw, payload, message):
    response = post(client, payload, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"erreur": message}
    assert message in response.content.decode("utf-8")  # not escaped as \u00e9
    assert fresh(campaign_members["alice"]).email_invalid is False


def test_hard_bounce_with_message_id_marks_only_the_sending_association(client, webhook, association,
                                                                        other_association, campaign_members,
                                                                        sent_rows):
    row = sent_rows["alpha_sent"]
    response = post(client, {"email": "Alice@Exemple.fr", "type": "hard", "raison": "550 5.1.1 Utilisateur inconnu",
                             "message_id": row.headers["Message-ID"]})
    assert response.status_code == 200
    assert response.json() == {"associations": 1, "adherents_marques": 1}
    alice = fresh(campaign_members["alice"])
    assert alice.email_invalid is True
    assert alice.email_bounced_at is not None
    assert alice.email_bounce_reason == "550 5.1.1 Utilisateur inconnu"
    for key in sent_rows:
        sent_rows[key].refresh_from_db()
    assert sent_rows["alpha_sent"].status == MailStatus.FAILED
    assert sent_rows["alpha_sent"].bounced_at is not None
    assert sent_rows["alpha_sent"].last_error == "550 5.1.1 Utilisateur inconnu"
    assert sent_rows["alpha_queued"].status == MailStatus.CANCELLED
    assert sent_rows["bruno_queued"].status == MailStatus.QUEUED
    (log,) = bounce_logs(association)
    assert log.target_id == str(alice.pk)
    assert log.changes == {"email": "Alice@Exemple.fr", "kind": "hard", "reason": "550 5.1.1 Utilisateur inconnu"}
    # The other association's member with the same address is untouched, and so are its rows.
    foreign = fresh(campaign_members["foreign"])
    assert foreign.email_invalid is False and foreign.email_bounced_at is None
    assert sent_rows["beta_sent"].status == MailStatus.SENT and sent_rows["beta_sent"].bounced_at is None
    assert sent_rows["beta_queued"].status == MailStatus.QUEUED
    assert bounce_logs(other_association) == []


def test_message_id_of_the_other_association_marks_only_that_one(client, webhook, association, other_association,
                                                                 campaign_members, sent_rows):
    response = post(client, {"email": "alice@exemple.fr", "message_id": sent_rows["beta_sent"].headers["Message-ID"]})
    assert response.json() == {"associations": 1, "adherents_marques": 1}
    assert fresh(campaign_members["foreign"]).email_invalid is True
    assert fresh(campaign_members["alice"]).email_invalid is False


def test_without_message_id_every_association_using_the_address_is_marked(client, webhook, association,
                                                                          other_association, campaign_members,
                                                                          sent_rows):
    response = post(client, {"email": "alice@exemple.fr", "type": "hard"})
    assert response.status_code == 200
    assert response.json() == {"associations": 2, "adherents_marques": 2}
    for member in (campaign_members["alice"], campaign_members["foreign"]):
        member = fresh(member)
        assert member.email_invalid is True and member.email_bounce_reason == "Rebond définitif"
    for key in ("alpha_queued", "beta_queued"):
        sent_rows[key].refresh_from_db()
        assert sent_rows[key].status == MailStatus.CANCELLED
    # The latest sent row of each association is the one failed.
    for key in ("alpha_sent", "beta_sent"):
        sent_rows[key].refresh_from_db()
        assert sent_rows[key].status == MailStatus.FAILED and sent_rows[key].bounced_at is not None
    assert len(bounce_logs(association)) == 1 and len(bounce_logs(other_association)) == 1
    assert fresh(campaign_members["bruno"]).email_invalid is False


def test_an_unknown_message_id_falls_back_to_the_address(client, webhook, campaign_members):
    response = post(client, {"email": "alice@exemple.fr", "message_id": "<inconnu.1@cpts.localhost>"})
    assert response.json() == {"associations": 2, "adherents_marques": 2}


def test_an_address_nobody_uses(client, webhook, campaign_members):
    response = post(client, {"email": "personne@exemple.fr"})
    assert response.status_code == 200
    assert response.json() == {"associations": 0, "adherents_marques": 0}


def test_soft_bounce_only_notes_the_row(client, webhook, association, campaign_members, sent_rows):
    row = sent_rows["alpha_sent"]
    response = post(client, {"email": "alice@exemple.fr", "type": "soft", "raison": "452 Boîte pleine",
                             "message_id": row.headers["Message-ID"]})
    assert response.status_code == 200
    assert response.json()["adherents_marques"] == 0
    row.refresh_from_db()
    assert row.status == MailStatus.SENT
    assert row.bounced_at is not None and row.last_error == "452 Boîte pleine"
    alice = fresh(campaign_members["alice"])
    assert alice.email_invalid is False and alice.email_bounced_at is None
    sent_rows["alpha_queued"].refresh_from_db()
    assert sent_rows["alpha_queued"].status == MailStatus.QUEUED
    assert bounce_logs(association) == []


def test_marked_member_is_left_out_of_the_next_campaign(client, webhook, association, campaign_members, sent_rows):
    from associations.campaigns import services

    post(client, {"email": "alice@exemple.fr", "message_id": sent_rows["alpha_sent"].headers["Message-ID"]})
    with scope(association=association):
        result = services.summarize_audience(association, "renewal", {})
    assert result.excluded["invalid_email"] == 2  # Ina, and now Alice
    assert "Alice MARTIN" not in {m.display_name for m in result.sample}
