"""The retraining schedules, as django-celery-beat rows editable in the admin."""

import json

from django.db import migrations

NIGHTLY = "Nightly model retraining"
THRESHOLD = "Retrain when enough new attempts arrived"


def schedules_create(apps, schema_editor):
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = crontab_model.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="UTC",
    )
    hourly, _ = interval_model.objects.get_or_create(every=1, period="hours")
    task_model.objects.get_or_create(
        name=NIGHTLY,
        defaults={
            "task": "adaptive.tasks.model_retrain_nightly_task",
            "crontab": nightly,
            "description": "Retrain each course with enough data (else the global model), gate "
            "the candidate against the active model, and refresh every path on promotion.",
        },
    )
    task_model.objects.get_or_create(
        name=THRESHOLD,
        defaults={
            "task": "adaptive.tasks.model_retrain_threshold_task",
            "interval": hourly,
            "kwargs": json.dumps({"min_new_attempts": 500}),
            "description": "Retrain a scope when at least min_new_attempts attempts arrived "
            "since its active model's data cutoff.",
        },
    )


def schedules_delete(apps, schema_editor):
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    task_model.objects.filter(name__in=[NIGHTLY, THRESHOLD]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("adaptive", "0001_model_registry_knowledge_state_paths"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedules_create, schedules_delete)]
