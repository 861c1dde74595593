"""Pathwise Django project package (never name it `platform`: it would shadow the stdlib)."""

from config.celery_app import app as celery_app

__all__ = ["celery_app"]
