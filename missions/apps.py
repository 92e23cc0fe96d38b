from django.apps import AppConfig


class MissionsConfig(AppConfig):
    """ACI contract, missions, actions and deadlines (models arrive with the missions issue)."""

    name = "missions"
    verbose_name = "Missions ACI"
