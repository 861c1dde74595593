"""Imported learners carry their source; the accounts of earlier imports are marked `assist`.

Before this, every import named its learners `assist-<id>` and keyed attempts `<id>:<order>`:
those accounts (unusable password, the `assist-` prefix) become source `assist`, and their
attempts' keys gain the source, so `import_interactions --source assist` continues them.
"""

from django.db import migrations, models
from django.db.models import Value
from django.db.models.functions import Concat

LEGACY_SOURCE = "assist"


def mark_legacy_imports(apps, schema_editor):
    User = apps.get_model("learners", "User")
    Attempt = apps.get_model("learners", "Attempt")
    legacy = User.objects.filter(username__startswith=f"{LEGACY_SOURCE}-", password__startswith="!")
    legacy.update(import_source=LEGACY_SOURCE)
    Attempt.objects.filter(user__import_source=LEGACY_SOURCE).exclude(external_id="").update(
        external_id=Concat(Value(f"{LEGACY_SOURCE}:"), "external_id")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0004_email_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="import_source",
            field=models.CharField(
                blank=True, default="", db_default="", editable=False, max_length=16
            ),
        ),
        migrations.RunPython(mark_legacy_imports, migrations.RunPython.noop),
    ]
