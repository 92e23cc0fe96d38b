"""Demo data: two fictional CPTS, an operator, coordinators, a two-association user, a bureau member
(treasurer) and a health professional; members, memberships and payments for both CPTS (see
``associations.membership.demo``). Idempotent: running it again changes nothing and creates no duplicate."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count, Q
from django_scopes import scope

from associations import audit
from associations.campaigns.demo import seed_campaigns
from associations.membership.demo import seed_association
from associations.models import Association, Member, Membership, MembershipStatus, MemberStatus, Role, User, UserRole
from associations.registries import demo_loaders

DEMO_PASSWORD = "demo-cpts-2026"

ASSOCIATIONS = [
    {
        "slug": "val-de-loire-sud",
        "name": "CPTS Val de Loire Sud",
        "legal_name": "Association CPTS Val de Loire Sud",
        "siret": "88412345600011",
        "finess": "370012345",
        "address": "12 rue des Tanneurs",
        "postal_code": "37000",
        "city": "Tours",
        "territory": "Tours sud, Joué-lès-Tours, Chambray-lès-Tours, Saint-Avertin et 14 communes",
        "population": 120_000,
        "contact_email": "coordination@cpts-vls.example.org",
        "email_sender_name": "CPTS Val de Loire Sud",
    },
    {
        "slug": "plateau-des-sources",
        "name": "CPTS du Plateau des Sources",
        "legal_name": "Association CPTS du Plateau des Sources",
        "siret": "90112233400013",
        "finess": "150004567",
        "address": "3 place de la Mairie",
        "postal_code": "15100",
        "city": "Saint-Flour",
        "territory": "Saint-Flour et 22 communes rurales",
        "population": 28_500,
        "contact_email": "contact@cpts-plateau.example.org",
        "email_sender_name": "CPTS du Plateau des Sources",
    },
]

# (email, first name, last name, {slug: role}, superuser)
PEOPLE = [
    ("operateur@demo.cpts.fr", "Olivier", "Opérateur", {}, True),
    ("coordination@demo.cpts.fr", "Camille", "Martin", {"val-de-loire-sud": Role.COORDINATOR}, False),
    ("coordination.plateau@demo.cpts.fr", "Julien", "Roux", {"plateau-des-sources": Role.COORDINATOR}, False),
    ("assistante@demo.cpts.fr", "Sophie", "Bernard",
     {"val-de-loire-sud": Role.ASSISTANT, "plateau-des-sources": Role.ASSISTANT}, False),
    ("bureau@demo.cpts.fr", "Nadia", "Lefèvre", {"val-de-loire-sud": Role.VIEWER}, False),
    ("ps@demo.cpts.fr", "Thomas", "Garnier", {}, False),
]
# (email, slug): staff roles that also validate payments (until governance mandates exist).
TREASURERS = {("bureau@demo.cpts.fr", "val-de-loire-sud")}
# Associations that get demo campaigns (a finished one, a scheduled one).
CAMPAIGN_DEMO = {"val-de-loire-sud"}
# The health professional account linked to a member record (lands in the member space).
PS_EMAIL = "ps@demo.cpts.fr"


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            associations = {}
            for data in ASSOCIATIONS:
                association, created = Association.objects.get_or_create(slug=data["slug"], defaults=data)
                associations[association.slug] = association
                if created:
                    with scope(association=association):
                        audit.record(association, None, "association.create", association,
                                     changes={"source": "seed_demo"})
            for email, first, last, roles, superuser in PEOPLE:
                user = User.objects.filter(email=email).first()
                if user is None:
                    maker = User.objects.create_superuser if superuser else User.objects.create_user
                    user = maker(email=email, password=DEMO_PASSWORD, first_name=first, last_name=last)
                EmailAddress.objects.get_or_create(user=user, email=email,
                                                   defaults={"verified": True, "primary": True})
                for slug, role in roles.items():
                    association = associations[slug]
                    treasurer = (email, slug) in TREASURERS
                    with scope(association=association):
                        user_role, created = UserRole.objects.get_or_create(
                            association=association, user=user, defaults={"role": role, "is_treasurer": treasurer}
                        )
                        if created:
                            audit.record(association, None, "role.grant", user_role,
                                         changes={"role": role, "source": "seed_demo",
                                                  **({"is_treasurer": True} if treasurer else {})})
                        elif treasurer and not user_role.is_treasurer:  # database seeded before the flag
                            user_role.is_treasurer = True
                            user_role.save(update_fields=["is_treasurer"])
                            audit.record(association, None, "role.change", user_role,
                                         changes={"is_treasurer": [False, True], "source": "seed_demo"})
            ps_user = User.objects.get(email=PS_EMAIL)
            for association in associations.values():
                with scope(association=association):
                    coordinator = (UserRole.objects.filter(association=association, role=Role.COORDINATOR)
                                   .select_related("user").order_by("pk").first())
                    seed_association(association, ps_user=ps_user,
                                     validator=coordinator.user if coordinator else None)
                    if association.slug in CAMPAIGN_DEMO:
                        seed_campaigns(association, actor=coordinator.user if coordinator else None)
                    # Demo data of the other apps (ACI contract, indicators…), registered in their ready().
                    for loader in sorted(demo_loaders.values(), key=lambda entry: (entry.order, entry.key)):
                        summary = loader.load(association, coordinator.user if coordinator else None)
                        if summary:
                            self.stdout.write(f"  {association.name} : {summary}")
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Mot de passe de tous les comptes de démonstration : {DEMO_PASSWORD}")
        for email, _first, _last, roles, superuser in PEOPLE:
            what = "opérateur (admin)" if superuser else ", ".join(
                f"{Role(r).label} de {associations[s].name}" + (" (trésorier·ère)" if (email, s) in TREASURERS else "")
                for s, r in roles.items()
            ) or "professionnel de santé adhérent (espace adhérent de CPTS Val de Loire Sud)"
            self.stdout.write(f"  {email:38} {what}")
        for association in associations.values():
            with scope(association=association):
                self.stdout.write(self.member_summary(association))

    @staticmethod
    def member_summary(association: Association) -> str:
        counts = Member.objects.filter(association=association, anonymized_at=None).aggregate(
            total=Count("id"),
            up_to_date=Count("id", filter=Q(status=MemberStatus.UP_TO_DATE)),
            to_renew=Count("id", filter=Q(status=MemberStatus.TO_RENEW)),
        )
        pending = Membership.objects.filter(association=association, status=MembershipStatus.PENDING).count()
        return (f"  {association.name} : {counts['total']} adhérents, {counts['up_to_date']} à jour, "
                f"{counts['to_renew']} à renouveler, {pending} paiement(s) en attente de validation")
