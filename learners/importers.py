"""Bulk import of interaction logs (ASSISTments-style CSV) into users, skills, exercises, attempts.

The whole file is read and validated before anything is written, and the writes happen in one
transaction, so a malformed row leaves the database untouched. Every row gets a stable key (the
username, the skill and problem ids, `source:user:order` for attempts), so a second import adds
nothing.

Learners are keyed by the import's source (a name it is given, such as `assist2009`) and their id
in that source: `assist2009-17` is user 17 of ASSIST2009 and is marked with that source. An
account of the same name from another source, or one a person signed up for, is never reused:
the import is refused, so two people's histories are never mixed.
"""

import csv
import gzip
import io
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple

from django.contrib.auth.hashers import make_password
from django.db import transaction
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


class InteractionAttempt(NamedTuple):
    """One answer to one problem; several rows of a multi-skill problem become one attempt."""

    line: int
    user: str
    problem: str
    skills: tuple[str, ...]
    is_correct: bool
    order: int


@dataclass
class InteractionLog:
    attempts: list[InteractionAttempt]
    rows: int
    skill_names: dict[str, str] = field(default_factory=dict)


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


def _open_text(path: Path) -> IO[str]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


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
    if value.endswith(".0") and value[:-2].isdigit():  # spreadsheets turn 17 into 17.0
        value = value[:-2]
    return value


def interactions_read(path: Path, *, file_format: str = "assistments") -> InteractionLog:
    """Read and validate an interaction CSV; merge the rows of multi-skill problems."""
    if file_format not in FORMATS:
        raise ImportFormatError(f"Unknown format {file_format!r}; supported: {', '.join(FORMATS)}.")
    if not path.is_file():
        raise ImportFormatError(f"No such file: {path}.")
    try:
        with _open_text(path) as stream:
            return _parse(csv.reader(stream))
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as error:
        raise ImportFormatError(f"{path} is not a readable CSV file: {error}.") from error


def _parse(reader: Iterator[list[str]]) -> InteractionLog:
    header = next(reader, None)
    if not header:
        raise ImportFormatError("line 1: the file is empty (a header row is expected).")
    columns, name_column = _find_columns(header)
    user_at, problem_at, skill_at = columns["user"], columns["problem"], columns["skill"]
    correct_at, order_at = columns["correct"], columns["order"]
    width = len(header)
    attempts: list[InteractionAttempt] = []
    skill_names: dict[str, str] = {}
    seen_orders: dict[tuple[str, int], int] = {}
    # The attempt being assembled: consecutive rows of one user, problem and answer whose skills
    # differ are one multi-skill attempt (how ASSISTments exports them), not repeated answers.
    current: InteractionAttempt | None = None
    rows = 0
    line = 1
    for row in reader:
        line = reader.line_num  # type: ignore[attr-defined]
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            raise ImportFormatError(f"line {line}: expected {width} columns, found {len(row)}.")
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
        correct_text = row[correct_at].strip().lower()
        if correct_text not in CORRECT_VALUES:
            raise ImportFormatError(
                f"line {line}: correct must be 0 or 1, found {row[correct_at]!r}."
            )
        is_correct = CORRECT_VALUES[correct_text]
        order_text = row[order_at].strip()
        try:
            order = int(order_text)
        except ValueError:
            raise ImportFormatError(
                f"line {line}: the order ({header[order_at].strip()}) must be an integer, "
                f"found {row[order_at]!r}."
            ) from None
        if order < 0:
            raise ImportFormatError(f"line {line}: the order must not be negative, found {order}.")
        if name_column is not None and row[name_column].strip():
            skill_names.setdefault(skill, row[name_column].strip())
        if (
            current is not None
            and current.user == user
            and current.problem == problem
            and current.is_correct == is_correct
            and skill not in current.skills
            and order in (current.order, current.order + len(current.skills))
        ):
            current = InteractionAttempt(
                line=current.line,
                user=user,
                problem=problem,
                skills=(*current.skills, skill),
                is_correct=is_correct,
                order=current.order,
            )
            attempts[-1] = current
            seen_orders.setdefault((user, order), line)
            continue
        previous_line = seen_orders.get((user, order))
        if previous_line is not None:
            raise ImportFormatError(
                f"line {line}: user {user} already has order {order} (line {previous_line})."
            )
        seen_orders[(user, order)] = line
        current = InteractionAttempt(
            line=line,
            user=user,
            problem=problem,
            skills=(skill,),
            is_correct=is_correct,
            order=order,
        )
        attempts.append(current)
    if not rows:
        raise ImportFormatError("line 2: the file has a header but no rows.")
    return InteractionLog(attempts=attempts, rows=rows, skill_names=skill_names)


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


@transaction.atomic
def interactions_import(
    *,
    log: InteractionLog,
    source: str,
    course_slug: str = "assistments",
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> ImportResult:
    """Write a validated log; rows already imported (by their stable keys) are skipped."""
    report = progress or (lambda stage, done, total: None)
    course = _course(course_slug)
    # Serialise imports into one course: two at once would race on the same keys.
    Course.objects.select_for_update().filter(pk=course.pk).first()

    # Users (keyed by source and id; never an account of another source) -----------------------
    source = source_validate(source)
    wanted = {source_username(source, item.user) for item in log.attempts}
    too_long = sorted(
        name for name in wanted if len(name) > User._meta.get_field("username").max_length
    )
    if too_long:
        raise ImportFormatError(f"The username {too_long[0]!r} would be too long.")
    key_limit = Attempt._meta.get_field("external_id").max_length or 0
    longest = max(log.attempts, key=lambda item: len(_attempt_key(source, item)), default=None)
    if longest is not None and len(_attempt_key(source, longest)) > key_limit:
        raise ImportFormatError(
            f"line {longest.line}: the user id and order are too long for an attempt key "
            f"({key_limit} characters with the source)."
        )
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
    User.objects.bulk_create(
        (
            User(
                username=username,
                password=unusable,
                role=User.Role.STUDENT,
                date_joined=now,
                is_active=True,
                import_source=source,
            )
            for username in new_usernames
        ),
        batch_size=batch_size,
    )
    if new_usernames:
        user_ids = dict(same_prefix.filter(import_source=source).values_list("username", "pk"))
    report("users", len(wanted), len(wanted))

    # Skills -------------------------------------------------------------------------------------
    skill_keys = sorted({skill for item in log.attempts for skill in item.skills}, key=_natural)
    course_skills = Skill.objects.filter(course=course).exclude(external_id="")
    skill_ids = dict(course_skills.values_list("external_id", "pk"))
    new_skill_keys = [key for key in skill_keys if key not in skill_ids]
    taken = set(Skill.objects.filter(course=course).values_list("name", flat=True))
    names = _unique_names(new_skill_keys, log.skill_names, taken)
    Skill.objects.bulk_create(
        Skill(course=course, name=names[key], external_id=key) for key in new_skill_keys
    )
    if new_skill_keys:
        skill_ids = dict(course_skills.values_list("external_id", "pk"))
    report("skills", len(skill_keys), len(skill_keys))

    # Exercises (one per problem, tagged with every skill it was seen with) ----------------------
    problem_skills: dict[str, set[str]] = {}
    for item in log.attempts:
        problem_skills.setdefault(item.problem, set()).update(item.skills)
    course_exercises = Exercise.objects.filter(course=course).exclude(external_id="")
    exercise_ids = dict(course_exercises.values_list("external_id", "pk"))
    new_problems = sorted(
        (problem for problem in problem_skills if problem not in exercise_ids), key=_natural
    )
    for chunk in _chunks(new_problems, batch_size):
        Exercise.objects.bulk_create(
            Exercise(
                course=course,
                title=f"Problem {problem}",
                prompt_md=f"ASSISTments problem {problem} (imported; no text).",
                kind=Exercise.Kind.TEXT,
                accepted_answers=[],
                external_id=problem,
            )
            for problem in chunk
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
    rows_insert(through, ["exercise", "skill"], sorted(links))
    report("exercises", len(problem_skills), len(problem_skills))

    # Enrolments ---------------------------------------------------------------------------------
    first_order: dict[str, int] = {}
    for item in log.attempts:
        if item.order < first_order.get(item.user, sys.maxsize):
            first_order[item.user] = item.order
    enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
    new_enrollments = [
        Enrollment(
            user_id=user_ids[source_username(source, user)],
            course=course,
            status=Enrollment.Status.ACTIVE,
            enrolled_at=ORDER_EPOCH + timedelta(seconds=order),
        )
        for user, order in sorted(first_order.items())
        if user_ids[source_username(source, user)] not in enrolled
    ]
    Enrollment.objects.bulk_create(new_enrollments, batch_size=batch_size)

    # Attempts -----------------------------------------------------------------------------------
    existing = set(
        Attempt.objects.filter(course=course)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    pending = [item for item in log.attempts if _attempt_key(source, item) not in existing]
    total = len(pending)
    done = 0
    for chunk in _chunks(pending, max(batch_size, 1)):
        rows_insert(
            Attempt,
            [
                "user",
                "exercise",
                "course",
                "answer",
                "is_correct",
                "hints_used",
                "created_at",
                "external_id",
            ],
            (
                (
                    user_ids[source_username(source, item.user)],
                    exercise_ids[item.problem],
                    course.pk,
                    {},
                    item.is_correct,
                    0,
                    ORDER_EPOCH + timedelta(seconds=item.order),
                    _attempt_key(source, item),
                )
                for item in chunk
            ),
        )
        done += len(chunk)
        report("attempts", done, total)
    if not total:
        report("attempts", 0, 0)
    return ImportResult(
        course=course,
        rows=log.rows,
        attempts_read=len(log.attempts),
        users_created=len(new_usernames),
        skills_created=len(new_skill_keys),
        exercises_created=len(new_problems),
        attempts_created=total,
        enrollments_created=len(new_enrollments),
        source=source,
        problems=len(problem_skills),
        multi_skill_problems=sum(1 for skills in problem_skills.values() if len(skills) > 1),
    )


def _attempt_key(source: str, item: InteractionAttempt) -> str:
    return f"{source}:{item.user}:{item.order}"


def _natural(key: str) -> tuple[int, int | str]:
    """Numeric ids in numeric order, then the others alphabetically."""
    return (0, int(key)) if key.isdigit() else (1, key)
