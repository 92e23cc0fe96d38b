"""Django admin, for the platform operator (superuser) only; one module per feature of the app.

Importing the modules registers their ``ModelAdmin`` classes; this package only imports them.
"""

from associations.admin import membership, tenant

__all__ = ["membership", "tenant"]
