from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    """Indicators per contract year, achievement, evidence; later the annual activity report."""

    name = "indicators"
    verbose_name = "Indicateurs"

    def ready(self) -> None:
        from indicators import entries

        entries.register()
