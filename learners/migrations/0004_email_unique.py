"""One account per e-mail address (case-insensitive); accounts without one are unaffected."""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


def refuse_duplicates(apps, schema_editor):
    # Say which addresses collide rather than fail on the index with a bare IntegrityError:
    # merging or renaming accounts is a decision for an operator, not for a migration.
    User = apps.get_model("learners", "User")
    duplicates = (
        User.objects.exclude(email="")
        .annotate(address=Lower("email"))
        .values("address")
        .annotate(accounts=Count("id"))
        .filter(accounts__gt=1)
        .values_list("address", flat=True)
    )
    shared = sorted(duplicates)[:20]
    if shared:
        raise RuntimeError(
            "These e-mail addresses are used by more than one account; give each account its "
            f"own address (or none) before migrating: {', '.join(shared)}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("learners", "0003_lesson_events_outlive_content"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("email", ""), _negated=True),
                name="user_email_unique_ci",
                violation_error_message="Another account already uses this e-mail address.",
            ),
        ),
    ]
