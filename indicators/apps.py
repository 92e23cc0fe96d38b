from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    """Indicators, targets, realised values, evidence and the annual report (models arrive later)."""

    name = "indicators"
    verbose_name = "Indicateurs"
