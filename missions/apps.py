from django.apps import AppConfig


class MissionsConfig(AppConfig):
    """ACI contract, missions, deadlines and the actions registry."""

    name = "missions"
    verbose_name = "Missions ACI"

    def ready(self) -> None:
        # Capabilities, audit action types, dashboard blocks, navigation and demo data of the app
        # (associations.registries / associations.navigation), registered like every other app's.
        from missions import entries, entries_actions

        entries.register()
        entries_actions.register()
