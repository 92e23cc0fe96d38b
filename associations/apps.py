from django.apps import AppConfig


class AssociationsConfig(AppConfig):
    """The tenant (Association), user accounts and roles, invitations, audit log."""

    name = "associations"
    verbose_name = "Associations"
