"""Matrix rows of the platform foundation (dashboard, team, audit, settings, logo)."""

from associations.models import Invitation, Role, UserRole
from tests.tenancy.matrix_base import ALL, COORD, EDITORS, SET, Case, audited, deleted, exists, other_than, row_is


def _invitation(o) -> dict:
    return {"pk": o["invitation"]}


def _old_nonce(o) -> str:
    return o["invitation_nonce"]


def _viewer_role(o) -> dict:
    return {"pk": o["viewer_role"]}


CASES = {
    "dashboard": Case(ALL),
    "team": Case(EDITORS),
    "invitation_create": Case(COORD, "post", (302,), {"email": "nouvelle@example.org", "role": Role.ASSISTANT},
                              effect=(exists(Invitation, email="nouvelle@example.org", role=Role.ASSISTANT),
                                      audited("invitation.create"))),
    "invitation_resend": Case(COORD, "post", (302,), kwargs=_invitation,
                              # A new link: the old one stops working.
                              effect=(row_is(Invitation, "invitation", nonce=other_than(_old_nonce)),
                                      audited("invitation.resend", "invitation"))),
    "invitation_revoke": Case(COORD, "post", (302,), kwargs=_invitation,
                              effect=(row_is(Invitation, "invitation", revoked_at=SET),
                                      audited("invitation.revoke", "invitation"))),
    "role_remove": Case(COORD, "post", (302,), kwargs=_viewer_role,
                        effect=(deleted(UserRole, "viewer_role"), audited("role.remove", "viewer_role"))),
    "role_change": Case(COORD, "post", (302,), {"role": Role.ASSISTANT}, kwargs=_viewer_role,
                        effect=(row_is(UserRole, "viewer_role", role=Role.ASSISTANT),
                                audited("role.change", "viewer_role"))),
    "audit_log": Case(COORD),
    "association_settings": Case(COORD),
    "association_logo": Case(ALL),
}
