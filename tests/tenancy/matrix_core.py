"""Matrix rows of the platform foundation (dashboard, team, audit, settings, logo)."""

from associations.models import Role
from tests.tenancy.matrix_base import ALL, COORD, EDITORS, Case

CASES = {
    "dashboard": Case(ALL),
    "team": Case(EDITORS),
    "invitation_create": Case(COORD, "post", (302,), {"email": "nouvelle@example.org", "role": Role.ASSISTANT}),
    "invitation_resend": Case(COORD, "post", (302,), kwargs=lambda o: {"pk": o["invitation"]}),
    "invitation_revoke": Case(COORD, "post", (302,), kwargs=lambda o: {"pk": o["invitation"]}),
    "role_remove": Case(COORD, "post", (302,), kwargs=lambda o: {"pk": o["viewer_role"]}),
    "role_change": Case(COORD, "post", (302,), {"role": Role.ASSISTANT}, kwargs=lambda o: {"pk": o["viewer_role"]}),
    "audit_log": Case(COORD),
    "association_settings": Case(COORD),
    "association_logo": Case(ALL),
}
