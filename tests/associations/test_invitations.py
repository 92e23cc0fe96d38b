"""Invitations: signed, single use, valid 7 days; resend, revoke; acceptance by new and existing users."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from associations import services
from associations.models import AuditLog, Invitation, Role, UserRole
from tests.factories import PASSWORD, UserFactory, make_invitation

LINK = re.compile(r"http://testserver(/invitation/[^/\s]+/)")


def invite_via_http(client, association, email="nouvelle@example.org", role=Role.ASSISTANT, capture=None):
    with capture(execute=True):
        response = client.post(reverse("invitation_create", args=[association.slug]), {"email": email, "role": role})
    return response


def link_from_last_mail() -> str:
    match = LINK.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


@pytest.mark.django_db
def test_coordinator_invites_and_email_carries_signed_link(coordinator_client, association,
                                                           django_capture_on_commit_callbacks):
    response = invite_via_http(coordinator_client, association, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvelle@example.org"]
    assert "CPTS Alpha" in message.subject
    assert message.from_email.startswith("CPTS Alpha <")
    assert message.reply_to == [association.contact_email]
    assert "Assistant·e" in message.body
    html = message.alternatives[0][0]
    assert link_from_last_mail() in html
    with scope(association=association):
        invitation = Invitation.objects.get()
        assert invitation.status == Invitation.Status.PENDING and invitation.sent_at is not None
        assert AuditLog.objects.filter(action="invitation.create", target_id=str(invitation.pk)).exists()


@pytest.mark.django_db
def test_new_person_creates_password_and_lands_in_association(client, coordinator_client, association,
                                                              django_capture_on_commit_callbacks):
    invite_via_http(coordinator_client, association, capture=django_capture_on_commit_callbacks)
    link = link_from_last_mail()
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "Créer mon compte" in page.content.decode()
    response = client.post(link, {"first_name": "Léa", "last_name": "Durand",
                                  "password1": "Un-mot-de-passe-solide-9", "password2": "Un-mot-de-passe-solide-9"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard", args=[association.slug])
    assert client.get(response["Location"]).status_code == 200
    with scope(association=association):
        role = UserRole.objects.get(user__email="nouvelle@example.org")
        assert role.role == Role.ASSISTANT
        assert Invitation.objects.get().status == Invitation.Status.ACCEPTED
    assert role.user.emailaddress_set.get().verified


@pytest.mark.django_db
def test_bad_password_keeps_form_and_grants_nothing(client, association):
    invitation = make_invitation(association, email="x@example.org")
    link = reverse("invitation_accept", args=[services.invitation_token(invitation)])
    response = client.post(link, {"first_name": "A", "last_name": "B", "password1": "court", "password2": "autre"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "password1" in form.errors and "password2" in form.errors
    assert "x@example.org" in response.content.decode()
    with scope(association=association):
        assert not UserRole.objects.filter(user__email="x@example.org").exists()
        assert Invitation.objects.get().status == Invitation.Status.PENDING


@pytest.mark.django_db
def test_existing_account_logs_in_then_accepts(client, association):
    user = UserFactory(email="deja@example.org")
    invitation = make_invitation(association, email="deja@example.org", role=Role.VIEWER)
    link = reverse("invitation_accept", args=[services.invitation_token(invitation)])
    page = client.get(link)
    assert "Se connecter" in page.content.decode()
    assert page.context["login_url"].startswith(reverse("account_login") + "?next=")
    client.login(email="deja@example.org", password=PASSWORD)
    assert client.post(link)["Location"] == reverse("dashboard", args=[association.slug])
    with scope(association=association):
        assert UserRole.objects.get(user=user).role == Role.VIEWER


@pytest.mark.django_db
def test_logged_in_with_other_email_grants_nothing(client, association, users):
    invitation = make_invitation(association, email="someone.else@example.org")
    link = reverse("invitation_accept", args=[services.invitation_token(invitation)])
    client.force_login(users["nobody"])
    client.post(link)
    with scope(association=association):
        assert not UserRole.objects.filter(user=users["nobody"]).exists()
        assert Invitation.objects.get().status == Invitation.Status.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("problem", ["tampered", "expired_signature", "expired_row", "used", "revoked", "resent"])
def test_unusable_links_show_clear_page_and_grant_nothing(client, association, problem):
    invitation = make_invitation(association, email="z@example.org")
    token = services.invitation_token(invitation)
    if problem == "tampered":
        token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    elif problem == "expired_signature":
        eight_days_ago = (timezone.now() - timedelta(days=8)).timestamp()
        with mock.patch("django.core.signing.time.time", return_value=eight_days_ago):
            token = services.invitation_token(invitation)
    elif problem == "expired_row":
        with scope(association=association):
            Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif problem == "used":
        services.accept_invitation(invitation, UserFactory(email="z@example.org"))
    elif problem == "revoked":
        services.revoke_invitation(invitation, None)
    elif problem == "resent":
        with scope(association=association):
            services.resend_invitation(invitation, None)
    link = reverse("invitation_accept", args=[token])
    for method in (client.get, client.post):
        response = method(link, {"first_name": "A", "last_name": "B", "password1": "Un-mot-de-passe-solide-9",
                                 "password2": "Un-mot-de-passe-solide-9"})
        assert response.status_code in (404, 410)
        assert "n'est pas valable" in response.content.decode()
    with scope(association=association):
        granted = UserRole.objects.filter(user__email="z@example.org").exists()
    assert granted == (problem == "used")


@pytest.mark.django_db
def test_resend_gives_new_link_and_revoke_kills_it(coordinator_client, association,
                                                   django_capture_on_commit_callbacks):
    invite_via_http(coordinator_client, association, capture=django_capture_on_commit_callbacks)
    first = link_from_last_mail()
    with scope(association=association):
        invitation = Invitation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(reverse("invitation_resend", args=[association.slug, invitation.pk]))
    second = link_from_last_mail()
    assert len(mail.outbox) == 2 and first != second
    assert coordinator_client.get(first).status_code == 404
    assert coordinator_client.get(second).status_code == 200
    coordinator_client.post(reverse("invitation_revoke", args=[association.slug, invitation.pk]))
    assert coordinator_client.get(second).status_code == 410
    with scope(association=association):
        actions = list(AuditLog.objects.filter(target_type="invitation").values_list("action", flat=True))
    assert sorted(actions) == ["invitation.create", "invitation.resend", "invitation.revoke"]


@pytest.mark.django_db
def test_invite_refuses_duplicates_with_message_next_to_field(coordinator_client, users, association,
                                                             django_capture_on_commit_callbacks):
    invite_via_http(coordinator_client, association, capture=django_capture_on_commit_callbacks)
    again = invite_via_http(coordinator_client, association, capture=django_capture_on_commit_callbacks)
    assert again.status_code == 400
    assert "déjà en attente" in again.context["form"].errors["email"][0]
    member = invite_via_http(coordinator_client, association, email=users[Role.VIEWER].email,
                             capture=django_capture_on_commit_callbacks)
    assert "fait déjà partie" in member.context["form"].errors["email"][0]
    bad = invite_via_http(coordinator_client, association, email="pas-un-email",
                          capture=django_capture_on_commit_callbacks)
    assert bad.status_code == 400 and "email" in bad.context["form"].errors
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_team_page_lists_roles_and_invitations(coordinator_client, association):
    make_invitation(association, email="attente@example.org")
    body = coordinator_client.get(reverse("team", args=[association.slug])).content.decode()
    assert "attente@example.org" in body and "viewer@alpha.example.org" in body
    assert "En attente" in body


@pytest.mark.django_db
def test_invitation_job_delivered_twice_sends_one_email(association):
    from associations.tasks import send_invitation_email

    invitation = make_invitation(association, email="deux-fois@example.org")
    assert send_invitation_email.apply(args=[association.pk, invitation.pk]).get() == "sent"
    assert send_invitation_email.apply(args=[association.pk, invitation.pk]).get() == "skipped"  # already sent
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["deux-fois@example.org"]
    assert "valable 7 jours" in mail.outbox[0].body
