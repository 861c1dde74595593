"""Bulk import of interaction logs (ASSISTments-style CSV) into users, skills, exercises, attempts.

The file is read once, as a stream, in bounded memory: each row is validated as it is read and
the attempts go, a chunk at a time, into a temporary staging table (COPY on PostgreSQL, batched
inserts elsewhere). What is kept in memory grows with learners, problems and skills, never with
rows. Everything happens in one transaction, so a malformed row anywhere in the file leaves the
database untouched. Every row gets a stable key (the username, the skill and problem ids,
`source:user:order` for attempts), so a second import adds nothing.

Learners are keyed by the import's source (a name it is given, such as `assist2009`) and their id
in that source: `assist2009-17` is user 17 of ASSIST2009 and is marked with that source. An
account of the same name from another source, or one a person signed up for, is never reused:
the import is refused, so two people's histories are never mixed.
"""

import contextlib
import csv
import gzip
import io
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, cast

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from courses.exceptions import ApplicationError
from courses.models import Course, Exercise, Skill
from courses.services import course_create
from learners.bulk import rows_insert
from learners.models import Attempt, Enrollment, User


class ImportFormatError(ApplicationError):
    """The file cannot be imported; the message names the line and the problem."""


FORMATS = ("assistments",)
SYSTEM_TEACHER_USERNAME = "pathwise-importer"
# A source name is what comes before the first hyphen of its learners' usernames, so it has none.
SOURCE_PATTERN = re.compile(r"[a-z0-9]{1,16}")
# Imported logs carry an order, not a time: attempt n of a learner is placed n seconds after this.
ORDER_EPOCH = datetime(2009, 9, 1, tzinfo=UTC)

# Header names accepted for each column, compared case-insensitively, first match wins.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "student_id", "studentid", "user"),
    "problem": ("problem_id", "problemid", "item_id", "problem"),
    "skill": ("skill_idx", "skill_id", "skillid", "skill", "skill_name"),
    "correct": ("correct", "is_correct"),
    "order": ("seq_idx", "order_id", "order", "position"),
}
SKILL_NAME_ALIASES = ("skill_name", "skill_key")
CORRECT_VALUES = {"1": True, "0": False, "1.0": True, "0.0": False, "true": True, "false": False}
MAX_KEY_LENGTH = 80
Progress = Callable[[str, int, int], None]
# The staging table lives in this transaction only (and is dropped at its end on PostgreSQL).
STAGING_TABLE = "pathwise_import_staging"
# One staged row: attempt number (None for an order claimed by a merged row of a multi-skill
# attempt), line, user, order, problem (None for such a claim), correct.
StagedRow = tuple[int | None, int, str, int, str | None, bool]
COPY_NULL = "\\N"
# Order n is placed n seconds after ORDER_EPOCH; beyond this the time would leave the calendar.
MAX_ORDER = 10**10


@dataclass
class LogSummary:
    """What the import needs from the whole file: per learner, problem and skill, not per row."""

    rows: int = 0
    attempts: int = 0
    # The first (smallest) order of each learner: their enrolment time.
    first_order: dict[str, int] = field(default_factory=dict)
    # Every skill each problem was seen with.
    problem_skills: dict[str, set[str]] = field(default_factory=dict)
    skill_names: dict[str, str] = field(default_factory=dict)
    # A learner's rows are not all consecutive: repeated orders across their runs are found in the
    # staging table instead of in memory.
    users_interleaved: bool = False


@dataclass(frozen=True)
class ImportResult:
    course: Course
    rows: int
    attempts_read: int
    users_created: int
    skills_created: int
    exercises_created: int
    attempts_created: int
    enrollments_created: int
    source: str = ""
    problems: int = 0
    multi_skill_problems: int = 0
    read_seconds: float = 0.0

    def tagging_note(self) -> str:
        """How the exercises were tagged with skills, for the import's report."""
        return (
            "Each exercise is tagged with every skill its problem was seen with in the file: "
            f"{self.multi_skill_problems:,} of {self.problems:,} problems had more than one skill."
        )


def source_validate(source: str) -> str:
    if not SOURCE_PATTERN.fullmatch(source):
        raise ImportFormatError(
            f"The source {source!r} must be 1 to 16 lowercase letters or digits "
            "(such as assist2009); it names the dataset the learners come from."
        )
    return source


def source_username(source: str, user: str) -> str:
    return f"{source}-{user}"


@contextlib.contextmanager
def _open_text(path: Path) -> Iterator[tuple[IO[str], IO[bytes]]]:
    """The file as text (gunzipped if it is gzip) and the raw file, whose position is progress."""
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(path.open("rb"))
        magic = raw.read(2)
        raw.seek(0)
        binary: IO[bytes] = raw
        if magic == b"\x1f\x8b":
            unzipped = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            binary = cast(IO[bytes], unzipped)
        text = stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
        yield text, raw


def _find_columns(header: list[str]) -> tuple[dict[str, int], int | None]:
    names = [name.strip().lower() for name in header]
    columns: dict[str, int] = {}
    for role, aliases in COLUMN_ALIASES.items():
        found = next((names.index(alias) for alias in aliases if alias in names), None)
        if found is None:
            raise ImportFormatError(
                f"line 1: no {role} column (expected one of: {', '.join(aliases)})."
            )
        columns[role] = found
    name_column = next(
        (
            names.index(alias)
            for alias in SKILL_NAME_ALIASES
            if alias in names and names.index(alias) != columns["skill"]
        ),
        None,
    )
    return columns, name_column


def _key(value: str, what: str, line: int) -> str:
    value = value.strip()
    if not value:
        raise ImportFormatError(f"line {line}: {what} is empty.")
    if len(value) > MAX_KEY_LENGTH:
        raise ImportFormatError(f"line {line}: {what} is longer than {MAX_KEY_LENGTH} characters.")
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise ImportFormatError(f"line {line}: {what} contains a NUL character.")
    if value.endswith(".0") and value[:-2].isdigit():  # spreadsheets turn 17 into 17.0
        value = value[:-2]
    return value


def _scan(
    reader: Iterator[list[str]],
    summary: LogSummary,
    *,
    key_budget: int,
    key_limit: int,
    chunk_size: int,
) -> Iterator[list[StagedRow]]:
    """Validate rows as they are read; yield the staged rows in chunks, fill in `summary`.

    Consecutive rows of one user, problem and answer whose skills differ are one multi-skill
    attempt (how ASSISTments exports them), not repeated answers. A repeated (user, order) is
    refused at its line while the user's rows are consecutive; across runs of one user it is
    looked for in the staging table once the file is read (`_repeated_order_check`).
    """
    header = next(reader, None)
    if not header:
        raise ImportFormatError("line 1: the file is empty (a header row is expected).")
    columns, name_column = _find_columns(header)
    user_at, problem_at, skill_at = columns["user"], columns["problem"], columns["skill"]
    correct_at, order_at = columns["correct"], columns["order"]
    width = len(header)
    first_order = summary.first_order
    problem_skills = summary.problem_skills
    skill_names = summary.skill_names
    chunk: list[StagedRow] = []
    # The current attempt and the orders of the current run of one user's rows.
    current_user = current_problem = ""
    current_correct = False
    current_order = -1
    current_skills: tuple[str, ...] = ()
    run_user: str | None = None
    run_orders: dict[int, int] = {}
    rows = attempts = 0
    for row in reader:
        if len(row) != width:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            line = reader.line_num  # type: ignore[attr-defined]
            raise ImportFormatError(f"line {line}: expected {width} columns, found {len(row)}.")
        line = reader.line_num  # type: ignore[attr-defined]
        rows += 1
        user, problem, skill = row[user_at], row[problem_at], row[skill_at]
        # Fast path for the usual clean ids; anything unusual goes through _key's checks.
        if not (
            user.isalnum()
            and problem.isalnum()
            and skill.isalnum()
            and max(len(user), len(problem), len(skill)) <= MAX_KEY_LENGTH
        ):
            user = _key(user, "the user id", line)
            problem = _key(problem, "the problem id", line)
            skill = _key(skill, "the skill", line)
        correct_text = row[correct_at]
        is_correct = CORRECT_VALUES.get(correct_text)
        if is_correct is None:
            is_correct = CORRECT_VALUES.get(correct_text.strip().lower())
            if is_correct is None:
                raise ImportFormatError(
                    f"line {line}: correct must be 0 or 1, found {row[correct_at]!r}."
                )
        order_text = row[order_at]
        try:
            order = int(order_text)
        except ValueError:
            raise ImportFormatError(
                f"line {line}: the order ({header[order_at].strip()}) must be an integer, "
                f"found {row[order_at]!r}."
            ) from None
        if order < 0 or order > MAX_ORDER:
            if order < 0:
                raise ImportFormatError(
                    f"line {line}: the order must not be negative, found {order}."
                )
            raise ImportFormatError(
                f"line {line}: the order must be at most {MAX_ORDER:,}, found {order}."
            )
        if name_column is not None and row[name_column].strip():
            skill_names.setdefault(skill, row[name_column].strip())
        skills_seen = problem_skills.get(problem)
        if skills_seen is None:
            problem_skills[problem] = {skill}
        else:
            skills_seen.add(skill)
        if (
            user == current_user
            and problem == current_problem
            and is_correct == current_correct
            and skill not in current_skills
            and order in (current_order, current_order + len(current_skills))
        ):
            current_skills = (*current_skills, skill)
            if order != current_order and order not in run_orders:
                run_orders[order] = line
                chunk.append((None, line, user, order, None, is_correct))
            continue
        if user != run_user:
            if user in first_order:
                summary.users_interleaved = True
            run_user = user
            run_orders = {}
        previous_line = run_orders.get(order)
        if previous_line is not None:
            raise ImportFormatError(
                f"line {line}: user {user} already has order {order} (line {previous_line})."
            )
        run_orders[order] = line
        if len(user) + len(order_text) > key_budget and len(user) + len(str(order)) > key_budget:
            raise ImportFormatError(
                f"line {line}: the user id and order are too long for an attempt key "
                f"({key_limit} characters with the source)."
            )
        known = first_order.get(user)
        if known is None or order < known:
            first_order[user] = order
        current_user, current_problem, current_correct = user, problem, is_correct
        current_order, current_skills = order, (skill,)
        attempts += 1
        chunk.append((attempts, line, user, order, problem, is_correct))
        if len(chunk) >= chunk_size:
            summary.rows, summary.attempts = rows, attempts
            yield chunk
            chunk = []
    if not rows:
        raise ImportFormatError("line 2: the file has a header but no rows.")
    summary.rows, summary.attempts = rows, attempts
    if chunk:
        yield chunk


def interactions_scan(path: Path, *, file_format: str = "assistments") -> LogSummary:
    """Read and validate a whole interaction CSV without writing anything (bounded memory)."""
    summary = LogSummary()
    for _chunk in _chunks_read(path, summary, file_format=file_format, key_budget=10**6):
        pass
    return summary


def _chunks_read(
    path: Path,
    summary: LogSummary,
    *,
    file_format: str,
    key_budget: int,
    key_limit: int = 0,
    chunk_size: int = 20000,
    progress: Progress | None = None,
) -> Iterator[list[StagedRow]]:
    if file_format not in FORMATS:
        raise ImportFormatError(f"Unknown format {file_format!r}; supported: {', '.join(FORMATS)}.")
    if not path.is_file():
        raise ImportFormatError(f"No such file: {path}.")
    total = path.stat().st_size
    try:
        with _open_text(path) as (stream, raw):
            for chunk in _scan(
                csv.reader(stream),
                summary,
                key_budget=key_budget,
                key_limit=key_limit,
                chunk_size=chunk_size,
            ):
                if progress is not None:
                    progress("bytes read", min(raw.tell(), total - 1), total)
                yield chunk
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, zlib.error, csv.Error) as error:
        raise ImportFormatError(f"{path} is not a readable CSV file: {error}.") from error
    if progress is not None:
        progress("bytes read", total, total)


def skill_names_beside(path: Path) -> dict[str, str]:
    """Skill names from a `skills.csv` (skill_idx,skill_key) next to the file, if there is one."""
    names_file = path.parent / "skills.csv"
    if not names_file.is_file():
        return {}
    with names_file.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = [name.strip().lower() for name in next(reader, [])]
        if len(header) < 2 or header[0] not in ("skill_idx", "skill_id"):
            return {}
        return {row[0].strip(): row[1].strip() for row in reader if len(row) >= 2 and row[1]}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _system_teacher() -> User:
    teacher, created = User.objects.get_or_create(
        username=SYSTEM_TEACHER_USERNAME,
        defaults={
            "role": User.Role.TEACHER,
            "first_name": "Pathwise",
            "last_name": "importer",
            "password": make_password(None),
        },
    )
    if not created and teacher.role != User.Role.TEACHER:
        raise ImportFormatError(f"User {SYSTEM_TEACHER_USERNAME!r} exists and is not a teacher.")
    return teacher


def _course(slug: str) -> Course:
    course = Course.objects.filter(slug=slug).first()
    if course is None:
        course = course_create(
            owner=_system_teacher(),
            title=f"ASSISTments interactions ({slug})",
            slug=slug,
            summary="Interaction logs imported for knowledge tracing; the problems have no text.",
        )
    return course


def _unique_names(keys: list[str], names: dict[str, str], taken: set[str]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for key in keys:
        name = (names.get(key) or f"Skill {key}")[:180]
        if name in taken:
            name = f"{name} ({key})"
        taken.add(name)
        chosen[key] = name
    return chosen


# Staging ----------------------------------------------------------------------------------------


def _copy_text(value: str) -> str:
    """A key in COPY's text format (the usual alphanumeric ids need nothing)."""
    if value.isalnum():
        return value
    for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        value = value.replace(raw, escaped)
    return value


def _staging_create(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
    drop = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGING_TABLE} (n bigint NULL, line bigint NOT NULL, "
        "user_key text NOT NULL, ord bigint NOT NULL, problem text NULL, "
        f"is_correct boolean NOT NULL){drop}"
    )


def _staging_write(cursor: Any, chunk: list[StagedRow]) -> None:
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        buffer.writelines(
            f"{COPY_NULL if n is None else n}\t{line}\t{_copy_text(user)}\t{order}\t"
            f"{COPY_NULL if problem is None else _copy_text(problem)}\t{'t' if correct else 'f'}\n"
            for n, line, user, order, problem, correct in chunk
        )
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {STAGING_TABLE} (n, line, user_key, ord, problem, is_correct) FROM STDIN",
            buffer,
        )
    else:
        cursor.executemany(
            f"INSERT INTO {STAGING_TABLE} (n, line, user_key, ord, problem, is_correct) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s)",
            chunk,
        )


def _repeated_order_check(cursor: Any) -> None:
    """Refuse a (user, order) given twice, for a file whose users' rows are not consecutive."""
    cursor.execute(
        f"SELECT 1 FROM {STAGING_TABLE} GROUP BY user_key, ord HAVING COUNT(*) > 1 LIMIT 1"  # noqa: S608
    )
    if cursor.fetchone() is None:
        return
    # Rare and already an error: find the line the in-memory check would have named.
    cursor.execute(
        "SELECT line, user_key, ord, first_line FROM ("  # noqa: S608
        " SELECT line, user_key, ord,"
        " MIN(line) OVER (PARTITION BY user_key, ord) AS first_line,"
        " ROW_NUMBER() OVER (PARTITION BY user_key, ord ORDER BY line) AS position"
        f" FROM {STAGING_TABLE}) AS ranked WHERE position = 2 ORDER BY line LIMIT 1"
    )
    line, user, order, first_line = cursor.fetchone()
    raise ImportFormatError(
        f"line {line}: user {user} already has order {order} (line {first_line})."
    )


def _attempts_insert(
    cursor: Any,
    *,
    course_id: int,
    source: str,
    attempts: int,
    batch_size: int,
    report: Progress,
) -> int:
    """Insert the staged attempts in file order, skipping those already imported; the count."""
    if connection.vendor == "postgresql":
        created_at = "%s + s.ord * interval '1 second'"
        epoch: object = ORDER_EPOCH
        cursor.execute(f"CREATE INDEX ON {STAGING_TABLE} (n)")
        cursor.execute(f"ANALYZE {STAGING_TABLE}")
    else:
        # Django keeps SQLite datetimes as UTC text, 'YYYY-MM-DD HH:MM:SS'.
        created_at = "datetime(%s, '+' || s.ord || ' seconds')"
        epoch = ORDER_EPOCH.strftime("%Y-%m-%d %H:%M:%S")
        cursor.execute(f"CREATE INDEX {STAGING_TABLE}_n ON {STAGING_TABLE} (n)")
    # Table and column names come from model metadata, never from input. Ids ascend in file order,
    # as the attempts of a learner do in (created_at, id).
    statement = (
        f"INSERT INTO {Attempt._meta.db_table} (user_id, exercise_id, course_id, answer,"  # noqa: S608
        " is_correct, hints_used, created_at, external_id)"
        f" SELECT u.id, e.id, %s, '{{}}', s.is_correct, 0, {created_at},"
        " %s || s.user_key || ':' || CAST(s.ord AS text)"
        f" FROM {STAGING_TABLE} s"
        f" JOIN {User._meta.db_table} u ON u.username = %s || s.user_key"
        f" JOIN {Exercise._meta.db_table} e ON e.course_id = %s AND e.external_id = s.problem"
        " WHERE s.n > %s AND s.n <= %s ORDER BY s.n ON CONFLICT DO NOTHING"
    )
    created = 0
    step = max(batch_size, 1)
    for start in range(0, attempts, step):
        cursor.execute(
            statement,
            [course_id, epoch, f"{source}:", f"{source}-", course_id, start, start + step],
        )
        created += max(cursor.rowcount, 0)
        report("attempts", min(start + step, attempts), attempts)
    if not attempts:
        report("attempts", 0, 0)
    return created


@transaction.atomic
def interactions_import(
    *,
    path: Path,
    source: str,
    file_format: str = "assistments",
    course_slug: str = "assistments",
    batch_size: int = 20000,
    progress: Progress | None = None,
    on_read: Callable[[LogSummary, float], None] | None = None,
) -> ImportResult:
    """Stream a log into the course; rows already imported (by their stable keys) are skipped."""
    report = progress or (lambda stage, done, total: None)
    source = source_validate(source)
    course = _course(course_slug)
    # Serialise imports into one course: two at once would race on the same keys.
    Course.objects.select_for_update().filter(pk=course.pk).first()

    # Read the file once into the staging table ------------------------------------------------
    key_limit = Attempt._meta.get_field("external_id").max_length or 0
    summary = LogSummary()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _staging_create(cursor)
        for chunk in _chunks_read(
            path,
            summary,
            file_format=file_format,
            key_budget=key_limit - len(source) - 2,
            key_limit=key_limit,
            chunk_size=max(batch_size, 1),
            progress=report,
        ):
            _staging_write(cursor, chunk)
        if summary.users_interleaved:
            _repeated_order_check(cursor)
    read_seconds = time.perf_counter() - started
    if not summary.skill_names:
        summary.skill_names = skill_names_beside(path)
    if on_read is not None:
        on_read(summary, read_seconds)

    # Users (keyed by source and id; never an account of another source) -----------------------
    wanted = {source_username(source, user) for user in summary.first_order}
    username_limit = User._meta.get_field("username").max_length or 0
    too_long = sorted(name for name in wanted if len(name) > username_limit)
    if too_long:
        raise ImportFormatError(f"The username {too_long[0]!r} would be too long.")
    # Queries below select by prefix or course, never `__in` a huge list (SQLite caps parameters).
    same_prefix = User.objects.filter(username__startswith=f"{source}-")
    accounts = {
        username: (pk, account_source)
        for username, pk, account_source in same_prefix.values_list(
            "username", "pk", "import_source"
        )
        if username in wanted
    }
    foreign = sorted(name for name, (_pk, origin) in accounts.items() if origin != source)
    if foreign:
        raise ImportFormatError(
            f"{len(foreign):,} learner(s) of source {source!r} would be attached to existing "
            f"accounts that were not imported from it (e.g. {', '.join(foreign[:5])}); "
            "nothing was imported. Choose another --source name."
        )
    user_ids = {name: pk for name, (pk, _origin) in accounts.items()}
    new_usernames = sorted(wanted - user_ids.keys())
    now = timezone.now()
    # One unusable-password marker for all: these accounts never sign in.
    unusable = make_password(None)
    # Model instances a chunk at a time: bulk_create holds every object it is given.
    created_users = 0
    for username_chunk in _chunks(new_usernames, batch_size):
        User.objects.bulk_create(
            [
                User(
                    username=username,
                    password=unusable,
                    role=User.Role.STUDENT,
                    date_joined=now,
                    is_active=True,
                    import_source=source,
                )
                for username in username_chunk
            ]
        )
        created_users += len(username_chunk)
        if created_users < len(new_usernames):
            report("users", len(user_ids) + created_users, len(wanted))
    if new_usernames:
        user_ids = dict(same_prefix.filter(import_source=source).values_list("username", "pk"))
    report("users", len(wanted), len(wanted))

    # Skills -------------------------------------------------------------------------------------
    problem_skills = summary.problem_skills
    skill_keys = sorted(
        {skill for skills in problem_skills.values() for skill in skills}, key=_natural
    )
    course_skills = Skill.objects.filter(course=course).exclude(external_id="")
    skill_ids = dict(course_skills.values_list("external_id", "pk"))
    new_skill_keys = [key for key in skill_keys if key not in skill_ids]
    taken = set(Skill.objects.filter(course=course).values_list("name", flat=True))
    names = _unique_names(new_skill_keys, summary.skill_names, taken)
    Skill.objects.bulk_create(
        Skill(course=course, name=names[key], external_id=key) for key in new_skill_keys
    )
    if new_skill_keys:
        skill_ids = dict(course_skills.values_list("external_id", "pk"))
    report("skills", len(skill_keys), len(skill_keys))

    # Exercises (one per problem, tagged with every skill it was seen with) ----------------------
    course_exercises = Exercise.objects.filter(course=course).exclude(external_id="")
    exercise_ids = dict(course_exercises.values_list("external_id", "pk"))
    new_problems = sorted(
        (problem for problem in problem_skills if problem not in exercise_ids), key=_natural
    )
    for problem_chunk in _chunks(new_problems, batch_size):
        Exercise.objects.bulk_create(
            Exercise(
                course=course,
                title=f"Problem {problem}",
                prompt_md=f"ASSISTments problem {problem} (imported; no text).",
                kind=Exercise.Kind.TEXT,
                accepted_answers=[],
                external_id=problem,
            )
            for problem in problem_chunk
        )
    if new_problems:
        exercise_ids = dict(course_exercises.values_list("external_id", "pk"))
    through = Exercise.skills.through
    linked = set(
        through.objects.filter(exercise__course=course).values_list("exercise_id", "skill_id")
    )
    links = sorted(
        {
            (exercise_ids[problem], skill_ids[skill])
            for problem, skills in problem_skills.items()
            for skill in skills
        }
        - linked
    )
    rows_insert(through, ["exercise", "skill"], links)
    report("exercises", len(problem_skills), len(problem_skills))

    # Enrolments ---------------------------------------------------------------------------------
    enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
    not_enrolled = [
        (user_ids[source_username(source, user)], order)
        for user, order in sorted(summary.first_order.items())
        if user_ids[source_username(source, user)] not in enrolled
    ]
    for enrollment_chunk in _chunks(not_enrolled, batch_size):
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    user_id=user_id,
                    course=course,
                    status=Enrollment.Status.ACTIVE,
                    enrolled_at=ORDER_EPOCH + timedelta(seconds=order),
                )
                for user_id, order in enrollment_chunk
            ]
        )
    del user_ids, exercise_ids, enrolled

    # Attempts: from the staging table, joined to the ids just made ------------------------------
    with connection.cursor() as cursor:
        attempts_created = _attempts_insert(
            cursor,
            course_id=course.pk,
            source=source,
            attempts=summary.attempts,
            batch_size=batch_size,
            report=report,
        )
        cursor.execute(f"DROP TABLE {STAGING_TABLE}")
    return ImportResult(
        course=course,
        rows=summary.rows,
        attempts_read=summary.attempts,
        users_created=len(new_usernames),
        skills_created=len(new_skill_keys),
        exercises_created=len(new_problems),
        attempts_created=attempts_created,
        enrollments_created=len(not_enrolled),
        source=source,
        problems=len(problem_skills),
        multi_skill_problems=sum(1 for skills in problem_skills.values() if len(skills) > 1),
        read_seconds=read_seconds,
    )


def _natural(key: str) -> tuple[int, int | str]:
    """Numeric ids in numeric order, then the others alphabetically."""
    return (0, int(key)) if key.isdigit() else (1, key)
