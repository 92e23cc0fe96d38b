"""Platform rows that belong to no association."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time the periodic heartbeat task ran: lets /healthz tell whether workers and beat are alive.

    Not tenant data (no association): one row per process kind.
    """

    name = models.CharField(max_length=40, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
