"""Background job applying a confirmed import of any kind (``services.run_import`` holds the rules).

The task takes ids only; ``TenantTask`` loads the association, runs the body inside its scope and
retries transient errors (``OSError``) with backoff. The service locks the ``ImportJob`` row, skips a
job already running or finished (a retried message does nothing twice) and writes every row in one
transaction — or none when any row is in error.
"""

from __future__ import annotations

from associations.imports import services
from associations.models import Association
from associations.tasks_base import TenantTask
from cpts.celery import app


@app.task(base=TenantTask, bind=True)
def apply_import(self, association: Association, job_id: int) -> str:
    return services.run_import(association, job_id)
