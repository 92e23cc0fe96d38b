"""The Celery application: Redis broker when REDIS_URL is set, an embedded file broker under var/ otherwise."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpts.settings")

app = Celery("cpts", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["associations.membership"])
app.autodiscover_tasks(["associations.imports"])
app.autodiscover_tasks(["associations.campaigns"])


@app.on_after_configure.connect
def _prepare_embedded_broker(sender: Celery, **kwargs) -> None:
    """The file broker needs its folders; create them before the first message."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
