"""Raw mastery moves from one SkillMastery row per learner and skill to one vector per learner
and course on LearnerState (issue 11: the rows were most of a path refresh's time).

Existing rows are folded into the vectors (a learner with rows but no state gets an empty state,
which the next update replays from the history); the reverse expands the vectors into rows.
"""

from collections import defaultdict

import numpy as np
from django.db import migrations, models

MASTERY_DTYPE = np.dtype("<f4")
MASTERY_SKILL_DTYPE = np.dtype("<i8")


def rows_to_vectors(apps, schema_editor):
    SkillMastery = apps.get_model("adaptive", "SkillMastery")
    LearnerState = apps.get_model("adaptive", "LearnerState")
    grouped = defaultdict(list)
    for user_id, course_id, skill_id, probability, version_id in (
        SkillMastery.objects.order_by("user_id", "course_id", "skill_id")
        .values_list("user_id", "course_id", "skill_id", "probability", "model_version_id")
        .iterator(chunk_size=20000)
    ):
        grouped[(user_id, course_id)].append((skill_id, probability, version_id))
    for (user_id, course_id), rows in grouped.items():
        mastery = np.array([p for _, p, _ in rows], dtype=MASTERY_DTYPE).tobytes()
        skill_ids = np.array([s for s, _, _ in rows], dtype=MASTERY_SKILL_DTYPE).tobytes()
        updated = LearnerState.objects.filter(user_id=user_id, course_id=course_id).update(
            mastery=mastery, mastery_skill_ids=skill_ids
        )
        if not updated:
            LearnerState.objects.create(
                user_id=user_id,
                course_id=course_id,
                model_version_id=rows[0][2],
                state=b"",
                mastery=mastery,
                mastery_skill_ids=skill_ids,
            )


def vectors_to_rows(apps, schema_editor):
    SkillMastery = apps.get_model("adaptive", "SkillMastery")
    LearnerState = apps.get_model("adaptive", "LearnerState")
    SkillMastery.objects.all().delete()
    rows = []
    for state in LearnerState.objects.exclude(mastery=b"").iterator(chunk_size=2000):
        values = np.frombuffer(bytes(state.mastery), dtype=MASTERY_DTYPE)
        skill_ids = np.frombuffer(bytes(state.mastery_skill_ids), dtype=MASTERY_SKILL_DTYPE)
        rows.extend(
            SkillMastery(
                user_id=state.user_id,
                course_id=state.course_id,
                skill_id=int(skill_id),
                probability=min(max(float(value), 0.0), 1.0),
                model_version_id=state.model_version_id,
                updated_at=state.updated_at,
            )
            for skill_id, value in zip(skill_ids, values, strict=True)
        )
    # A skill deleted since the vector was written has no row to point to.
    Skill = apps.get_model("courses", "Skill")
    existing = set(Skill.objects.values_list("pk", flat=True))
    SkillMastery.objects.bulk_create(
        [row for row in rows if row.skill_id in existing], batch_size=2000
    )


def storage_uncompressed(apps, schema_editor, mode="EXTERNAL"):
    # PostgreSQL tries to compress every value over ~2 kB before storing it out of line; float32
    # vectors do not compress, and at 1,223 skills the attempt cost the refresh 70% of its write
    # time. EXTERNAL keeps them out of line, uncompressed. (SQLite has no such setting.)
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("adaptive", "LearnerState")._meta.db_table)
    columns = ", ".join(
        f"ALTER COLUMN {name} SET STORAGE {mode}" for name in ("state", "mastery", "mastery_skill_ids")
    )
    schema_editor.execute(f"ALTER TABLE {table} {columns}")


def storage_default(apps, schema_editor):
    storage_uncompressed(apps, schema_editor, mode="EXTENDED")


class Migration(migrations.Migration):
    dependencies = [
        ("adaptive", "0008_skill_mastery_plural"),
    ]

    operations = [
        migrations.AddField(
            model_name="learnerstate",
            name="mastery",
            field=models.BinaryField(blank=True, default=b""),
        ),
        migrations.AddField(
            model_name="learnerstate",
            name="mastery_skill_ids",
            field=models.BinaryField(blank=True, default=b""),
        ),
        migrations.RunPython(storage_uncompressed, storage_default),
        migrations.RunPython(rows_to_vectors, vectors_to_rows),
        migrations.DeleteModel(name="SkillMastery"),
    ]
