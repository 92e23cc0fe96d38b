"""manage.py record_bounce <association-slug> <email> [--soft] [--reason "550 5.1.1 User unknown"]

Record a bounce reported outside the webhook (a provider's dashboard, a bounce message read by hand).
A hard bounce (the default) marks the address invalid on every member of the association using it.
"""

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from associations.campaigns.services import record_bounce
from associations.models import Association
from associations.services import ServiceError


class Command(BaseCommand):
    help = "Enregistre un rebond d'e-mail : une adresse définitivement en échec est marquée invalide."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Identifiant d'URL de l'association (ex. : val)")
        parser.add_argument("email", help="Adresse e-mail qui a rebondi")
        parser.add_argument("--soft", action="store_true",
                            help="Rebond temporaire (boîte pleine…) : noté sur l'e-mail, l'adresse reste valide")
        parser.add_argument("--reason", default="", help="Réponse du serveur ou motif (ex. : 550 5.1.1 User unknown)")

    def handle(self, *args, **options):
        association = Association.objects.filter(slug=options["slug"]).first()
        if association is None:
            raise CommandError(f"Aucune association n'a l'identifiant « {options['slug']} ».")
        kind = "soft" if options["soft"] else "hard"
        with scope(association=association):
            try:
                marked = record_bounce(association, options["email"], kind=kind, reason=options["reason"])
            except ServiceError as error:
                raise CommandError(str(error)) from None
        if kind == "soft":
            self.stdout.write(self.style.SUCCESS(
                f"Rebond temporaire noté pour {options['email']} ({association.name}) : l'adresse reste valide."))
        elif marked:
            self.stdout.write(self.style.SUCCESS(
                f"{marked} adhérent(s) de {association.name} marqué(s) avec une adresse invalide "
                f"({options['email']})."))
        else:
            self.stdout.write(self.style.WARNING(
                f"0 adhérent marqué : aucun adhérent de {association.name} n'utilise l'adresse {options['email']}."))
