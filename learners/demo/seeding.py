"""Build the demo: accounts, the course (through courses.services) and simulated activity."""

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from courses.grading import text_normalise
from courses.models import Course, Exercise, LessonBlock, Skill
from courses.services import (
    ChoiceData,
    course_create,
    course_publish,
    exercise_create,
    lesson_block_create,
    lesson_create,
    module_create,
    skill_create,
    skill_prerequisite_add,
)
from learners.demo import content, media, statistics
from learners.demo.simulation import (
    LearnerProfile,
    SimulatedItem,
    SimulatedResponse,
    SimulationParameters,
    cohort_simulate,
    learner_simulate,
)
from learners.models import Attempt, Enrollment, LessonEvent, User
from learners.services import enrollment_create, user_create

SIMULATED_PREFIX = "sim-student-"
# Demo-only credentials, printed by seed_demo; never use this command on a public server.
DEMO_PASSWORD_TEACHER = "teach-algebra-demo"  # noqa: S105
DEMO_PASSWORD_STUDENT = "learn-algebra-demo"  # noqa: S105
DEMO_PASSWORD_ADMIN = "admin-algebra-demo"  # noqa: S105
GUESS_BY_KIND = {"single": 0.25, "multiple": 0.12, "numeric": 0.04, "text": 0.05}
BATCH_SIZE = 2000


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    note: str
    is_new: bool = True


@dataclass(frozen=True)
class NamedStudent:
    username: str
    first_name: str
    note: str
    profile: LearnerProfile | None  # None: no history yet


NAMED_STUDENTS = (
    NamedStudent(
        "maya",
        "Maya",
        "strong student, far into the course",
        LearnerProfile(0.5, 0.45, 0.05, 8, 140, 0.0),
    ),
    NamedStudent(
        "leo",
        "Leo",
        "average student, stuck around equations",
        LearnerProfile(0.25, 0.18, 0.1, 6, 60, 3 * 86400.0),
    ),
    NamedStudent("sam", "Sam", "new student, no activity yet", None),
)


@dataclass
class DemoResult:
    course: Course  # the first demo course (Foundations of Algebra)
    created: bool
    accounts: list[DemoAccount] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    simulated_students: int = 0
    attempts: int = 0
    lesson_events: int = 0
    warnings: list[str] = field(default_factory=list)


Say = Callable[[str], None]


def _account(
    username: str,
    password: str,
    *,
    role: str,
    note: str,
    say: Say,
    label: str = "",
    **extra: Any,
) -> tuple[User, DemoAccount]:
    user = User.objects.filter(username=username).first()
    if user is not None:
        say(f"  account {username!r} exists; its password is left unchanged")
        return user, DemoAccount(username, password, label or role, note, is_new=False)
    user = user_create(username=username, password=password, role=role, **extra)
    return user, DemoAccount(username, password, label or role, note)


def demo_accounts(*, with_admin: bool) -> list[DemoAccount]:
    """The logins the demo creates (for printing when it already exists)."""
    accounts = [DemoAccount("teacher", DEMO_PASSWORD_TEACHER, "teacher", "owns the demo courses")]
    accounts += [
        DemoAccount(student.username, DEMO_PASSWORD_STUDENT, "student", student.note)
        for student in NAMED_STUDENTS
    ]
    if with_admin:
        accounts.append(DemoAccount("admin", DEMO_PASSWORD_ADMIN, "staff", "Django admin"))
    return accounts


def _media_makers() -> dict[str, Callable[[], media.MediaFile | None]]:
    """Every generated file a demo block can name; None from a maker: a tool is missing."""
    return {
        "coordinate-plane.png": media.coordinate_plane_png,
        "fraction-bars.png": media.fraction_bars_png,
        "number-line.mp4": media.number_line_mp4,
        "number-line.en.vtt": media.number_line_vtt,
        "evaluate-expression.wav": media.evaluation_wav,
        "study-minutes-histogram.png": lambda: media.histogram_png(
            statistics.STUDY_MINUTES,
            statistics.HISTOGRAM_BINS,
            name="study-minutes-histogram.png",
            x_label="Minutes of study per day",
        ),
        "study-scores-scatter.png": lambda: media.scatter_png(
            statistics.STUDY_HOURS,
            statistics.TEST_SCORES,
            name="study-scores-scatter.png",
            x_label="Hours of study",
            y_label="Test score",
            x_range=(0, 9),
            y_range=(40, 90),
        ),
    }


MISSING_TOOL = {
    "number-line.mp4": "No ffmpeg found (neither on PATH nor from the imageio-ffmpeg package): "
    "the demo video block was left out.",
    "evaluate-expression.wav": "No espeak-ng found: the spoken audio block was left out "
    "(install it with platform/ensure_media_tools.sh, then recreate the demo).",
}


def _course_media(spec: content.CourseSpec, say: Say, warnings: list[str]) -> dict[str, Any]:
    names = sorted(
        {
            name
            for module in spec.modules
            for lesson in module.lessons
            for block in lesson.blocks
            for name in (block.media, block.captions)
            if name
        }
    )
    if not names:
        return {}
    say(f"  generating media: {', '.join(names)}")
    makers = _media_makers()
    files: dict[str, media.MediaFile] = {}
    for name in names:
        made = makers[name]()
        if made is None:
            warnings.append(MISSING_TOOL.get(name, f"The demo file {name} could not be made."))
        else:
            files[name] = made
    if "number-line.mp4" in files and media.speech_executable() is None:
        warnings.append(
            "No espeak-ng found: the demo video has no narration (its captions carry the words)."
        )
    return files


def _shown_order(spec: content.ExerciseSpec) -> tuple[content.ChoiceSpec, ...]:
    """The choices rotated by a stable amount per exercise: the specs list the right one first,
    learners must not find it always in the same place."""
    choices = spec.choices
    if not choices:
        return choices
    turn = zlib.crc32(spec.key.encode()) % len(choices)
    return choices[turn:] + choices[:turn]


def _build_course(spec: content.CourseSpec, teacher: User, say: Say, warnings: list[str]) -> Course:
    course = course_create(
        owner=teacher,
        title=spec.title,
        slug=spec.slug,
        summary=spec.summary,
        description_md=spec.description_md,
        subject=spec.subject,
        level=spec.level,
    )
    skills: dict[str, Skill] = {}
    for skill_spec in spec.skills:
        skills[skill_spec.key] = skill_create(
            course=course, name=skill_spec.name, description=skill_spec.description
        )
    for skill_spec in spec.skills:
        for required in skill_spec.requires:
            skill_prerequisite_add(skill=skills[skill_spec.key], requires=skills[required])
    say(f"  {len(skills)} skills with their prerequisite graph")

    exercises: dict[str, Exercise] = {}
    for exercise_spec in spec.exercises:
        fields: dict[str, Any] = {
            "title": exercise_spec.title,
            "explanation_md": exercise_spec.explanation_md,
        }
        if exercise_spec.kind == Exercise.Kind.NUMERIC:
            fields.update(
                numeric_answer=exercise_spec.numeric_answer, tolerance=exercise_spec.tolerance
            )
        if exercise_spec.kind == Exercise.Kind.TEXT:
            fields["accepted_answers"] = list(exercise_spec.accepted_answers)
        exercises[exercise_spec.key] = exercise_create(
            course=course,
            kind=exercise_spec.kind,
            prompt_md=exercise_spec.prompt_md,
            choices=[
                ChoiceData(c.text, c.is_correct, c.feedback) for c in _shown_order(exercise_spec)
            ],
            hints=list(exercise_spec.hints),
            skills=[skills[key] for key in exercise_spec.skills],
            **fields,
        )
    say(f"  {len(exercises)} exercises")

    files = _course_media(spec, say, warnings)
    lessons = 0
    for module_spec in spec.modules:
        module = module_create(course=course, title=module_spec.title, summary=module_spec.summary)
        for lesson_spec in module_spec.lessons:
            lesson = lesson_create(
                module=module,
                title=lesson_spec.title,
                estimated_minutes=lesson_spec.estimated_minutes,
                skills=[skills[key] for key in lesson_spec.skills],
            )
            lessons += 1
            for block in lesson_spec.blocks:
                _block_create(lesson, block, files, exercises)
    say(f"  {len(spec.modules)} modules, {lessons} lessons")
    return course_publish(course=course)


def _block_create(
    lesson: Any,
    block: content.BlockSpec,
    files: dict[str, media.MediaFile],
    exercises: dict[str, Exercise],
) -> LessonBlock | None:
    if block.kind == LessonBlock.Kind.EXERCISE:
        return lesson_block_create(
            lesson=lesson, kind=block.kind, exercise=exercises[block.exercise]
        )
    if block.kind == LessonBlock.Kind.TEXT:
        return lesson_block_create(lesson=lesson, kind=block.kind, body_md=block.body_md)
    if block.media not in files:
        return None
    attached = files[block.media]
    fields: dict[str, Any] = {
        "media": ContentFile(attached.content, name=attached.name),
        "transcript": block.transcript,
        "alt_text": block.alt_text,
        "duration_seconds": attached.duration_seconds,
    }
    if block.captions and block.captions in files:
        captions = files[block.captions]
        fields["captions"] = ContentFile(captions.content, name=captions.name)
    return lesson_block_create(lesson=lesson, kind=block.kind, **fields)


# Simulated activity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answers:
    right: Any
    wrong: tuple[Any, ...]


def _answers(exercise: Exercise) -> _Answers:
    """What a learner submits when right, and a few plausible wrong answers (as stored)."""
    if exercise.kind in (Exercise.Kind.SINGLE, Exercise.Kind.MULTIPLE):
        choices = list(exercise.choices.all())
        correct = sorted(c.pk for c in choices if c.is_correct)
        wrong_ids = sorted(c.pk for c in choices if not c.is_correct)
        if exercise.kind == Exercise.Kind.SINGLE:
            return _Answers(correct[0], tuple(wrong_ids))
        wrong: list[list[int]] = [sorted([*correct, pk]) for pk in wrong_ids]
        if len(correct) > 1:
            wrong.append(correct[:-1])
        return _Answers(correct, tuple(wrong))
    if exercise.kind == Exercise.Kind.NUMERIC:
        value = float(exercise.numeric_answer or 0.0)
        step = max(1.0, exercise.tolerance * 10)
        return _Answers(value, (value + step, value - 2 * step, -value if value else 1.0))
    accepted = text_normalise(exercise.accepted_answers[0])
    return _Answers(accepted, ("i don't know", f"{accepted}0", "x"))


def _items(course: Course) -> tuple[list[SimulatedItem], dict[int, set[int]]]:
    exercises = (
        Exercise.objects.filter(course=course)
        .order_by("id")
        .prefetch_related("skills", "hints", "choices")
    )
    items = [
        SimulatedItem(
            key=exercise.pk,
            skills=tuple(sorted(skill.pk for skill in exercise.skills.all())),
            guess=GUESS_BY_KIND[exercise.kind],
            hints=len(exercise.hints.all()),
        )
        for exercise in exercises
    ]
    prerequisites: dict[int, set[int]] = {
        skill.pk: set() for skill in Skill.objects.filter(course=course)
    }
    for skill in Skill.objects.filter(course=course).prefetch_related("prerequisites"):
        prerequisites[skill.pk] = {other.pk for other in skill.prerequisites.all()}
    return items, prerequisites


def _attempt_rows(
    responses: list[SimulatedResponse],
    *,
    user_ids: dict[int, int],
    course: Course,
    answers: dict[int, _Answers],
    window_start: datetime,
    rng: np.random.Generator,
) -> list[Attempt]:
    rows = []
    for response in responses:
        options = answers[response.item]
        answer = (
            options.right
            if response.is_correct
            else options.wrong[int(rng.integers(0, len(options.wrong)))]
        )
        rows.append(
            Attempt(
                user_id=user_ids[response.learner],
                exercise_id=response.item,
                course=course,
                answer=answer,
                is_correct=response.is_correct,
                hints_used=response.hints_used,
                duration_ms=int(response.duration_seconds * 1000),
                created_at=window_start + timedelta(seconds=response.seconds),
            )
        )
    return rows


def _lesson_events(
    responses: list[SimulatedResponse],
    *,
    user_ids: dict[int, int],
    lesson_of_exercise: dict[int, int],
    window_start: datetime,
) -> list[LessonEvent]:
    """A `viewed` before a learner's first answer in a lesson; `completed` after a good run."""
    first: dict[tuple[int, int], float] = {}
    tally: dict[tuple[int, int], list[int]] = {}
    last: dict[tuple[int, int], float] = {}
    for response in responses:
        key = (response.learner, lesson_of_exercise[response.item])
        first.setdefault(key, response.seconds)
        last[key] = response.seconds
        counts = tally.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += int(response.is_correct)
    events = []
    for key, seconds in first.items():
        learner, lesson = key
        events.append(
            LessonEvent(
                user_id=user_ids[learner],
                lesson_id=lesson,
                verb=LessonEvent.Verb.VIEWED,
                created_at=window_start + timedelta(seconds=max(0.0, seconds - 180)),
            )
        )
        answered, correct = tally[key]
        if answered >= 3 and correct / answered >= 0.6:
            events.append(
                LessonEvent(
                    user_id=user_ids[learner],
                    lesson_id=lesson,
                    verb=LessonEvent.Verb.COMPLETED,
                    created_at=window_start + timedelta(seconds=last[key] + 30),
                )
            )
    return events


def _bulk(model: Any, rows: list[Any], what: str, say: Say) -> None:
    for start in range(0, len(rows), BATCH_SIZE):
        model.objects.bulk_create(rows[start : start + BATCH_SIZE])
        say(f"  {what}: {min(start + BATCH_SIZE, len(rows)):,}/{len(rows):,}")


def _simulate_activity(
    course: Course,
    *,
    named: dict[str, User],
    students: int,
    seed: int,
    say: Say,
    result: DemoResult,
) -> None:
    items, prerequisites = _items(course)
    parameters = SimulationParameters()
    window_start = timezone.now() - timedelta(days=parameters.window_days)
    exercises = Exercise.objects.filter(course=course).prefetch_related("choices")
    answers = {exercise.pk: _answers(exercise) for exercise in exercises}
    lesson_of_exercise = dict(
        LessonBlock.objects.filter(lesson__module__course=course, exercise__isnull=False)
        .order_by("lesson_id")
        .values_list("exercise_id", "lesson_id")
    )

    say(f"Simulating {students} students (seed {seed})...")
    responses = cohort_simulate(
        learners=students, items=items, prerequisites=prerequisites, seed=seed
    )
    usernames = [f"{SIMULATED_PREFIX}{index + 1:03d}" for index in range(students)]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    unusable = make_password(None)  # simulated students never sign in
    User.objects.bulk_create(
        [
            User(
                username=username,
                password=unusable,
                role=User.Role.STUDENT,
                first_name="Simulated",
                last_name=f"student {index + 1}",
            )
            for index, username in enumerate(usernames)
            if username not in existing
        ],
        batch_size=BATCH_SIZE,
    )
    by_name = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    user_ids = {index: by_name[username] for index, username in enumerate(usernames)}

    # The named students follow the same model with a chosen profile, after the cohort.
    rng = np.random.default_rng(seed + 1)
    for offset, student in enumerate(NAMED_STUDENTS):
        enrollment_create(user=named[student.username], course=course)
        if student.profile is None:
            continue
        learner = students + offset
        user_ids[learner] = named[student.username].pk
        responses += learner_simulate(
            learner,
            items=items,
            prerequisites=prerequisites,
            rng=rng,
            parameters=parameters,
            profile=student.profile,
        )

    first_seconds: dict[int, float] = {}
    for response in responses:
        first_seconds.setdefault(response.learner, response.seconds)
    enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                user_id=user_ids[index],
                course=course,
                enrolled_at=window_start
                + timedelta(seconds=max(0.0, first_seconds.get(index, 0.0) - 600)),
            )
            for index in range(students)
            if user_ids[index] not in enrolled
        ],
        batch_size=BATCH_SIZE,
    )
    # The named students with a simulated past were enrolled above, today: their enrolment
    # moves to just before their first simulated answer, as the simulated students' does
    # (a learner page must not say "Enrolled on" a date after the answers it lists).
    for index, user_id in user_ids.items():
        if index >= students and index in first_seconds:
            Enrollment.objects.filter(user_id=user_id, course=course).update(
                enrolled_at=window_start + timedelta(seconds=max(0.0, first_seconds[index] - 600))
            )
    attempts = _attempt_rows(
        responses,
        user_ids=user_ids,
        course=course,
        answers=answers,
        window_start=window_start,
        rng=rng,
    )
    _bulk(Attempt, attempts, "attempts", say)
    events = _lesson_events(
        responses,
        user_ids=user_ids,
        lesson_of_exercise=lesson_of_exercise,
        window_start=window_start,
    )
    _bulk(LessonEvent, events, "lesson events", say)
    result.simulated_students = students
    result.attempts += len(attempts)
    result.lesson_events += len(events)


DEMO_COURSES: tuple[content.CourseSpec, ...] = (content.ALGEBRA, statistics.STATISTICS)


def demo_seed(*, students: int = 120, seed: int = 2026, say: Say = lambda line: None) -> DemoResult:
    """Create the demo courses, their accounts and simulated activity; existing ones are kept.

    Each course is checked and built on its own, so a demo made before a course was added
    gains just that course.
    """
    with_admin = bool(settings.DEBUG)
    existing = {
        course.slug: course
        for course in Course.objects.filter(slug__in=[spec.slug for spec in DEMO_COURSES])
    }
    missing = [spec for spec in DEMO_COURSES if spec.slug not in existing]
    if not missing:
        courses = [existing[spec.slug] for spec in DEMO_COURSES]
        return DemoResult(
            course=courses[0],
            courses=courses,
            created=False,
            accounts=demo_accounts(with_admin=with_admin),
        )
    with transaction.atomic():
        result = _seed(missing, students=students, seed=seed, say=say, with_admin=with_admin)
    result.courses = [
        existing.get(spec.slug) or Course.objects.get(slug=spec.slug) for spec in DEMO_COURSES
    ]
    result.course = result.courses[0]
    return result


def _seed(
    specs: list[content.CourseSpec], *, students: int, seed: int, say: Say, with_admin: bool
) -> DemoResult:
    say("Creating demo accounts...")
    accounts: list[DemoAccount] = []
    teacher, account = _account(
        "teacher",
        DEMO_PASSWORD_TEACHER,
        role=User.Role.TEACHER,
        note="owns the demo courses",
        say=say,
        first_name="Ada",
        last_name="Teacher",
    )
    accounts.append(account)
    named: dict[str, User] = {}
    for student in NAMED_STUDENTS:
        named[student.username], account = _account(
            student.username,
            DEMO_PASSWORD_STUDENT,
            role=User.Role.STUDENT,
            note=student.note,
            say=say,
            first_name=student.first_name,
        )
        accounts.append(account)
    if with_admin:
        _, account = _account(
            "admin",
            DEMO_PASSWORD_ADMIN,
            role=User.Role.TEACHER,
            note="Django admin",
            say=say,
            label="staff",
            is_staff=True,
            is_superuser=True,
        )
        accounts.append(account)

    warnings: list[str] = []
    result: DemoResult | None = None
    for spec in specs:
        say(f"Creating the course {spec.title!r}...")
        course = _build_course(spec, teacher, say, warnings)
        if result is None:
            result = DemoResult(course=course, created=True, accounts=accounts, warnings=warnings)
        # Each course its own random stream: adding a course leaves the others' activity as is.
        course_seed = seed + 1000 * DEMO_COURSES.index(spec)
        _simulate_activity(
            course, named=named, students=students, seed=course_seed, say=say, result=result
        )
    if result is None:  # unreachable: demo_seed passes at least one course
        raise ValueError("no demo course to create")
    return result
