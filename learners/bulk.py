"""Bulk inserts of plain rows: COPY on PostgreSQL, bulk_create elsewhere."""

import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from django.db import connection, models
from django.utils import timezone

from learners.models import Enrollment, User


def _copy_value(value: object) -> str:
    """One value in COPY's text format."""
    kind = type(value)
    if kind is int or kind is float:
        return str(value)
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"))
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert plain rows fast: COPY on PostgreSQL, bulk_create elsewhere. Returns the count."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        columns = [str(cast(models.Field, model._meta.get_field(name)).column) for name in fields]
        buffer = io.StringIO()
        buffer.writelines("\t".join(_copy_value(v) for v in row) + "\n" for row in rows)
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                # Table and column names come from model metadata, never from input.
                f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN",
                buffer,
            )
    else:
        attnames = [cast(models.Field, model._meta.get_field(name)).attname for name in fields]
        model._default_manager.bulk_create(
            (model(**dict(zip(attnames, row, strict=True))) for row in rows), batch_size=2000
        )
    return len(rows)


def students_enrol_bulk(*, course_id: int, username_prefix: str, count: int) -> list[int]:
    """Create `count` student accounts (unusable passwords) enrolled in a course; their ids.

    For simulations and benchmarks at a scale where creating users one by one is too slow.
    """
    now = timezone.now()
    first = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    ids = list(range(first, first + count))
    rows_insert(
        User,
        [
            "id",
            "username",
            "password",
            "role",
            "preferred_language",
            "is_staff",
            "is_active",
            "is_superuser",
            "first_name",
            "last_name",
            "email",
            "date_joined",
        ],
        (
            (i, f"{username_prefix}{i}", "!", "student", "en", False, True, False, "", "", "", now)
            for i in ids
        ),
    )
    if ids and connection.vendor == "postgresql":
        # Explicit ids leave the sequence behind; the next ordinary user must not collide.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                [User._meta.db_table, ids[-1]],
            )
    rows_insert(
        Enrollment,
        ["user", "course", "status", "enrolled_at"],
        ((i, course_id, "active", now) for i in ids),
    )
    return ids
