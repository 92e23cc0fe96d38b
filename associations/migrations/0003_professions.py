"""Reference list of professions (DOMAIN.md §4). The operator edits it in the admin."""

from django.db import migrations

PROFESSIONS = [
    ("medecin-generaliste", "Médecin généraliste", False),
    ("medecin-specialiste", "Médecin spécialiste", True),
    ("infirmier", "Infirmier·ère", False),
    ("pharmacien", "Pharmacien·ne", False),
    ("masseur-kinesitherapeute", "Masseur-kinésithérapeute", False),
    ("chirurgien-dentiste", "Chirurgien-dentiste", False),
    ("sage-femme", "Sage-femme", False),
    ("orthophoniste", "Orthophoniste", False),
    ("pedicure-podologue", "Pédicure-podologue", False),
    ("orthoptiste", "Orthoptiste", False),
    ("ergotherapeute", "Ergothérapeute", False),
    ("psychomotricien", "Psychomotricien·ne", False),
    ("dieteticien", "Diététicien·ne", False),
    ("audioprothesiste", "Audioprothésiste", False),
    ("opticien", "Opticien-lunetier", False),
    ("manipulateur-erm", "Manipulateur·rice ERM", False),
    ("technicien-laboratoire", "Technicien·ne de laboratoire médical", False),
    ("psychologue", "Psychologue", False),
    ("autre", "Autre profession", False),
]


def load(apps, schema_editor):
    Profession = apps.get_model("associations", "Profession")
    for order, (code, label, has_specialty) in enumerate(PROFESSIONS, start=1):
        Profession.objects.update_or_create(
            code=code, defaults={"label": label, "has_specialty": has_specialty, "order": order * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("associations", "0002_membership")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
