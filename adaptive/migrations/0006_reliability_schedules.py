"""Reliability schedules, as django-celery-beat rows editable in the admin like the retrain ones."""

from django.db import migrations

REAP = "Fail and retry training runs whose worker died"
RECONCILE = "Catch up learners whose state is behind their newest attempt"


def schedules_create(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every_30s, _ = interval_model.objects.get_or_create(every=30, period="seconds")
    every_10s, _ = interval_model.objects.get_or_create(every=10, period="seconds")
    task_model.objects.get_or_create(
        name=REAP,
        defaults={
            "task": "adaptive.tasks.training_runs_reap_task",
            "interval": every_30s,
            "description": "A queued or running training run whose heartbeat is stale lost its "
            "worker: mark it failed with the reason, free its scope and queue a bounded retry.",
        },
    )
    task_model.objects.get_or_create(
        name=RECONCILE,
        defaults={
            "task": "adaptive.tasks.learners_reconcile_task",
            "interval": every_10s,
            "description": "Fold in attempts whose online update was lost (broker outage, killed "
            "worker), so that every learner is current within a minute of recovery.",
        },
    )


def schedules_delete(apps, schema_editor):
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    task_model.objects.filter(name__in=[REAP, RECONCILE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("adaptive", "0005_training_run_heartbeat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedules_create, schedules_delete)]
