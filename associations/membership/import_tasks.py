"""Background job applying a confirmed members import (see ``imports`` for the rules).

The task takes ids only; ``TenantTask`` loads the association and runs the body inside its scope.
It locks the ``ImportJob`` row, skips a job already running or finished (a retried message does
nothing twice) and writes every row in one transaction — or none when any row is in error.
"""

from __future__ import annotations

from associations.membership import imports
from associations.models import Association
from associations.tasks_base import TenantTask
from cpts.celery import app


@app.task(base=TenantTask, bind=True)
def apply_import(self, association: Association, job_id: int) -> str:
    return imports.run_import(association, job_id)
