"""Accounts (django-allauth): e-mail login, where the user lands, login by code, reset, rate limit."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from associations.models import Role
from tests.factories import PASSWORD, AssociationFactory, UserFactory, grant


def login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_login_with_one_association_goes_straight_to_it(client, users, association):
    response = login(client, users[Role.COORDINATOR].email)
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert follow["Location"] == reverse("dashboard", args=[association.slug])


@pytest.mark.django_db
def test_login_with_several_associations_shows_picker(client, association, other_association):
    user = UserFactory(email="deux@example.org")
    grant(user, association, Role.VIEWER)
    grant(user, other_association, Role.ASSISTANT)
    login(client, user.email)
    page = client.get(reverse("home"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Choisissez une association" in body
    assert reverse("dashboard", args=[association.slug]) in body
    assert reverse("dashboard", args=[other_association.slug]) in body


@pytest.mark.django_db
def test_login_without_association_explains(client, users):
    login(client, users["nobody"].email)
    body = client.get(reverse("home")).content.decode()
    assert "aucune CPTS" in body


@pytest.mark.django_db
def test_wrong_password_shows_french_error(client, users):
    response = login(client, users[Role.COORDINATOR].email, "mauvais")
    assert response.status_code == 200
    assert "mot de passe" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_is_rate_limited(client, users):
    email = users[Role.COORDINATOR].email
    bodies = [login(client, email, "mauvais").content.decode() for _ in range(5)]
    assert not any("Trop de tentatives" in body for body in bodies)
    # The failed-login budget (5 per 5 minutes per account) is spent: even the right password is refused.
    blocked = login(client, email)
    assert "Trop de tentatives de connexion" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_by_code_sent_by_email(client, users, association):
    email = users[Role.COORDINATOR].email
    response = client.post(reverse("account_request_login_code"), {"email": email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[0].body, re.M).group(1)
    confirm = client.post(response["Location"], {"code": code})
    assert confirm.status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("dashboard", args=[association.slug])


@pytest.mark.django_db
def test_password_reset_email(client, users):
    response = client.post(reverse("account_reset_password"), {"email": users[Role.VIEWER].email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


@pytest.mark.django_db
def test_unverified_email_cannot_log_in(client, db):
    user = UserFactory(email="pasverifie@example.org")
    user.emailaddress_set.update(verified=False)
    response = login(client, user.email)
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302 and "confirm-email" in response["Location"]


@pytest.mark.django_db
def test_public_signup_is_closed(client, db):
    response = client.post(reverse("account_signup"), {"email": "x@example.org", "password1": "Abcdef-12345",
                                                       "password2": "Abcdef-12345"})
    assert "invitation" in response.content.decode()
    from associations.models import User

    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.django_db
def test_profile_edit(client, users):
    user = users[Role.VIEWER]
    client.force_login(user)
    response = client.post(reverse("profile"), {"first_name": "Anne", "last_name": "Morel", "language": "fr"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.get_full_name() == "Anne Morel"


@pytest.mark.django_db
def test_interface_is_french_whatever_the_browser_says_until_the_user_chooses_english(client, users):
    user = users[Role.VIEWER]
    client.force_login(user)
    # An English browser no longer gets a mixed page: the profile decides, French by default.
    response = client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr">' in response.content.decode()
    assert "Mon profil" in response.content.decode()
    response = client.post(reverse("profile"), {"first_name": "Anne", "last_name": "Morel", "language": "en"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    response = client.get(reverse("profile"))
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in response.content.decode()
    # Bad input: an unknown language is refused next to the field, nothing saved.
    response = client.post(reverse("profile"), {"first_name": "Anne", "last_name": "Morel", "language": "xx"})
    assert response.status_code == 200
    assert response.context["form"].errors["language"]
    user.refresh_from_db()
    assert user.language == "en"


@pytest.mark.django_db
def test_anonymous_home_redirects_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_admin_is_for_superusers_only(client, users):
    client.force_login(users[Role.COORDINATOR])
    assert client.get("/admin/").status_code == 302  # to the admin login: not staff
    operator = UserFactory(email="op@example.org", is_staff=True, is_superuser=True)
    AssociationFactory()
    client.force_login(operator)
    assert client.get("/admin/associations/association/").status_code == 200
    assert client.get("/admin/associations/auditlog/").status_code == 200
