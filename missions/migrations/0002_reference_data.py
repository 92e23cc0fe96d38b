"""Reference data of the ACI (DOMAIN.md §1–2), editable afterwards by the operator in the Django admin.

Versions of the accord, size bands, the mission catalogue with its deadlines (months from signature),
action types and a library of indicator templates with the typical wordings found in signed contracts.
"""

from datetime import date

from django.db import migrations

VERSIONS = [
    ("aci-2019", "ACI 2019 (accord du 20 juin 2019)", date(2019, 8, 25),
     "Accord conventionnel interprofessionnel du 20 juin 2019, en vigueur le 25 août 2019."),
    ("avenant-2", "ACI — avenant 2 (2021/2022)", date(2022, 3, 31),
     "Avenant 2 du 20 décembre 2021 (JO du 31 mars 2022) : ajoute la mission de réponse aux crises sanitaires."),
]

SIZES = [("T1", 0, 40_000), ("T2", 40_000, 80_000), ("T3", 80_000, 175_001), ("T4", 175_001, None)]

MISSIONS = [
    # code, label, kind, start months, deployment months, order, versions
    ("acces", "Accès aux soins (médecin traitant, soins non programmés, télésanté)", "socle", 6, 18, 1,
     ("aci-2019", "avenant-2")),
    ("parcours", "Parcours pluriprofessionnels autour du patient", "socle", 12, 24, 2, ("aci-2019", "avenant-2")),
    ("prevention", "Actions coordonnées de prévention", "socle", 12, 24, 3, ("aci-2019", "avenant-2")),
    ("crise", "Réponse aux crises sanitaires graves", "socle", 6, 18, 4, ("avenant-2",)),
    ("qualite", "Qualité et pertinence des soins", "complementaire", None, None, 5, ("aci-2019", "avenant-2")),
    ("accompagnement", "Accompagnement des professionnels de santé (attractivité)", "complementaire", None, None, 6,
     ("aci-2019", "avenant-2")),
]

TEMPLATES = {
    "acces": [
        ("Patients en ALD sans médecin traitant", "count", "down", "cpam"),
        ("Patients de 70 ans et plus sans médecin traitant", "count", "down", "cpam"),
        ("Patients C2S sans médecin traitant", "count", "down", "cpam"),
        ("Demandes de soins non programmés traitées dans les 24 h", "rate", "up", "cpts"),
        ("Créneaux de soins non programmés (SNP/SAS) ouverts", "count", "up", "cpts"),
        ("Médecins participant au guichet unique", "count", "up", "cpts"),
    ],
    "parcours": [
        ("Patients inclus dans le parcours", "count", "up", "cpts"),
        ("Délai d'accès au parcours", "days", "down", "cpts"),
        ("Professionnels impliqués dans le parcours", "count", "up", "cpts"),
        ("Protocole pluriprofessionnel rédigé", "boolean", "reach", "cpts"),
    ],
    "prevention": [
        ("Taux de dépistage du cancer du sein", "rate", "up", "open_data"),
        ("Taux de dépistage du cancer du col de l'utérus", "rate", "up", "open_data"),
        ("Taux de dépistage du cancer colorectal", "rate", "up", "open_data"),
        ("Journées de sensibilisation organisées", "count", "up", "cpts"),
        ("Participants aux journées de sensibilisation", "count", "up", "cpts"),
    ],
    "crise": [
        ("Plan de gestion de crise rédigé", "boolean", "reach", "cpts"),
        ("Plan de gestion de crise mis à jour dans l'année", "boolean", "reach", "cpts"),
        ("Professionnels mobilisables en cas de crise", "count", "up", "cpts"),
    ],
    "qualite": [
        ("Réunions pluriprofessionnelles (ordre du jour, émargement, compte rendu)", "count", "up", "cpts"),
        ("Soirées de formation organisées", "count", "up", "cpts"),
    ],
    "accompagnement": [
        ("Maîtres de stage du territoire", "count", "up", "cpts"),
        ("Étudiants accueillis en stage", "count", "up", "cpts"),
        ("Professionnels aidés à s'installer", "count", "up", "cpts"),
    ],
}

ACTION_TYPES = [
    ("rpc", "Réunion pluriprofessionnelle"),
    ("prevention", "Journée de prévention / sensibilisation"),
    ("formation", "Soirée de formation"),
    ("protocole", "Protocole rédigé"),
    ("exercice-crise", "Exercice de crise"),
    ("permanence", "Permanence de soins non programmés"),
    ("accueil-stagiaire", "Accueil d'étudiants"),
    ("autre", "Autre action"),
]


def load(apps, schema_editor):
    ACIVersion = apps.get_model("missions", "ACIVersion")
    SizeBand = apps.get_model("missions", "SizeBand")
    MissionType = apps.get_model("missions", "MissionType")
    IndicatorTemplate = apps.get_model("missions", "IndicatorTemplate")
    ActionType = apps.get_model("missions", "ActionType")
    versions = {}
    for code, label, effective_on, notes in VERSIONS:
        versions[code], _ = ACIVersion.objects.get_or_create(
            code=code, defaults={"label": label, "effective_on": effective_on, "notes": notes})
    for version in versions.values():
        for size, low, high in SIZES:
            SizeBand.objects.get_or_create(version=version, code=size,
                                           defaults={"min_population": low, "max_population": high})
    for code, label, kind, start, deployment, order, in_versions in MISSIONS:
        for version_code in in_versions:
            mission, created = MissionType.objects.get_or_create(
                version=versions[version_code], code=code,
                defaults={"label": label, "kind": kind, "start_months": start, "deployment_months": deployment,
                          "order": order})
            if created:
                for position, (wording, unit, direction, source) in enumerate(TEMPLATES[code], start=1):
                    IndicatorTemplate.objects.create(mission_type=mission, label=wording, unit=unit,
                                                     direction=direction, source=source, order=position)
    for position, (code, label) in enumerate(ACTION_TYPES, start=1):
        ActionType.objects.get_or_create(code=code, defaults={"label": label, "order": position})


class Migration(migrations.Migration):
    dependencies = [("missions", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
