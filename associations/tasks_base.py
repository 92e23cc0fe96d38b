"""Base class of every tenant task: it receives ``association_id`` (JSON ids only), loads the
association and runs the task body inside ``scope(association=...)``, so a task for tenant A
cannot read tenant B's rows.
"""

from __future__ import annotations

from celery.contrib.django.task import DjangoTask
from django_scopes import scope

from associations.models import Association


class TenantTask(DjangoTask):
    abstract = True
    # Transient failures (SMTP hiccup, DB restart) are retried with exponential backoff.
    autoretry_for = (OSError,)
    retry_backoff = True
    retry_backoff_max = 600
    max_retries = 5
    acks_late = True

    def __call__(self, association_id: int, *args, **kwargs):
        if not isinstance(association_id, int):
            raise TypeError("A tenant task takes the association's id (int) as its first argument.")
        association = Association.objects.get(pk=association_id)
        with scope(association=association):
            return super().__call__(association, *args, **kwargs)


def for_each_association(task, association_ids=None) -> int:
    """Fan a tenant task out: one message per association (all of them by default). Returns the count."""
    ids = list(Association.objects.values_list("pk", flat=True)) if association_ids is None else list(association_ids)
    for association_id in ids:
        task.delay(association_id)
    return len(ids)
