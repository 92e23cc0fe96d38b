"""The outbox writes messages itself (associations/campaigns/mime.py): the standard library must read back
exactly what the row holds — headers, encoded subject and names, both bodies."""

from __future__ import annotations

import email
from email import policy
from email.utils import parseaddr

import pytest
from django_scopes import scope

from associations.campaigns import mime, outbox
from associations.campaigns.services import campaign_renderer
from tests.campaigns.conftest import make_campaign, make_mail

pytestmark = pytest.mark.django_db

HEADERS = {
    "From": "CPTS Val de Loire Sud — Coordination <noreply@cpts.example.org>",
    "Reply-To": "coordination@cpts-vls.example.org",
    "Message-ID": "<abc123.1@cpts.example.org>",
    "List-Id": "CPTS Val de Loire Sud \"Été\" <val-de-loire-sud.1.cpts>",
    "List-Unsubscribe": "<mailto:coordination@cpts-vls.example.org?subject=unsubscribe%20t0k>, "
                        "<https://cpts.example.org/p/vls/e/desinscription/t0k/>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


@pytest.mark.parametrize("subject", [
    "Votre adhésion",
    "Plain ASCII subject",
    "Très long objet accentué : renouvelez votre adhésion à la CPTS Val de Loire Sud avant le 31 décembre 2026 ✓",
])
def test_headers_and_bodies_read_back(subject):
    text = "Bonjour Élise,\n\nLigne très longue " + "é" * 300 + "\n.\nFin"
    html = "<p>Bonjour <strong>Élise</strong></p>" + "<p>€</p>" * 100
    data = mime.compose(headers=HEADERS, to="elise@exemple.fr", subject=subject, text=text, html=html,
                        boundary="=_cpts_x")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    message = parse(data)
    assert message["Subject"] == subject
    assert message["From"].addresses[0].display_name == "CPTS Val de Loire Sud — Coordination"
    assert message["From"].addresses[0].addr_spec == "noreply@cpts.example.org"
    assert message["To"] == "elise@exemple.fr"
    assert message["Reply-To"] == "coordination@cpts-vls.example.org"
    assert message["Message-ID"] == "<abc123.1@cpts.example.org>"
    assert "Été" in str(message["List-Id"]) and "<val-de-loire-sud.1.cpts>" in str(message["List-Id"])
    unsubscribe = " ".join(str(message["List-Unsubscribe"]).split())
    assert unsubscribe == HEADERS["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == text
    assert parts[1].get_content().replace("\r\n", "\n") == html


def test_outbox_row_composed_like_the_rendered_row(association, campaign_members):
    campaign = make_campaign(association, subject="Adhésion {association} : {prenom}")
    with scope(association=association):
        fields = campaign_renderer(campaign).render(campaign_members["alice"], "uid42")
    row = make_mail(association, campaign_members["alice"], **{k: v for k, v in fields.items() if k != "uid"})
    sender, recipient, data = outbox._envelope(row)
    assert parseaddr(sender)[1] == "noreply@cpts.localhost"
    assert recipient == "alice@exemple.fr"
    message = parse(data)
    assert message["Subject"] == row.subject
    assert message["Message-ID"] == row.headers["Message-ID"]
    text, html = list(message.iter_parts())
    assert text["Content-Transfer-Encoding"] == "base64"  # written by mime.compose, not by Django
    assert text.get_content().replace("\r\n", "\n") == row.body_text
    assert html.get_content().replace("\r\n", "\n") == row.body_html


def test_unusual_recipient_goes_through_django(association, campaign_members):
    row = make_mail(association, campaign_members["alice"], to_email="élise@exemple.fr")
    _sender, recipient, data = outbox._envelope(row)
    assert parse(data)["To"]  # Django's encoder handled it
    assert recipient
