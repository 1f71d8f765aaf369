"""The Celery app. Workers only wake up to do work that the database describes."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ensemble")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
