from django.apps import AppConfig


class FinanceConfig(AppConfig):
    """Funding grid, budgets per mission, expenses and incomes (models arrive later)."""

    name = "finance"
    verbose_name = "Finances"
