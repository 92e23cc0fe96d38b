"""manage.py create_association "CPTS du Val" --slug val --population 120000 --coordinator ana@example.org"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from associations import services


class Command(BaseCommand):
    help = "Crée une association (CPTS) et invite — ou nomme — sa coordinatrice ou son coordinateur."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Nom de la CPTS")
        parser.add_argument("--slug", help="Identifiant d'URL (par défaut : dérivé du nom)")
        parser.add_argument("--population", type=int, default=0, help="Population couverte (taille ACI)")
        parser.add_argument(
            "--coordinator", help="E-mail du coordinateur : rôle donné s'il a un compte, sinon invitation"
        )
        parser.add_argument("--siret", default="")
        parser.add_argument("--finess", default="")
        parser.add_argument("--contact-email", default="")

    def handle(self, *args, **options):
        slug = options["slug"] or slugify(options["name"])[:60]
        try:
            association = services.create_association(
                name=options["name"], slug=slug, population=options["population"],
                coordinator_email=options["coordinator"], siret=options["siret"], finess=options["finess"],
                contact_email=options["contact_email"],
            )
        except ValidationError as error:
            lines = [f"{field} : {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
            raise CommandError("Association non créée :\n" + "\n".join(lines)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Association « {association.name} » créée : /a/{association.slug}/ ({association.aci_size})."
        ))
