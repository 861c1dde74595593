"""Reads of the catalogue, each with the joins it needs."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet

from courses.graph import topological_order
from courses.models import (
    Course,
    Exercise,
    Hint,
    Lesson,
    LessonBlock,
    Module,
    Skill,
    SkillPrerequisite,
)


def user_can_author(*, user: AbstractUser | AnonymousUser) -> bool:
    """Teachers and staff may create courses."""
    return bool(
        user.is_authenticated and (user.is_staff or getattr(user, "role", None) == "teacher")
    )


def course_is_editable_by(*, course: Course, user: AbstractUser | AnonymousUser) -> bool:
    """The owner, a listed instructor or staff may change a course."""
    if not user.is_authenticated:
        return False
    if user.is_staff or course.owner_id == user.pk:
        return True
    return course.instructors.filter(pk=user.pk).exists()


def course_instructors_manageable_by(*, course: Course, user: AbstractUser | AnonymousUser) -> bool:
    """Only the owner (and staff) choose who co-teaches a course."""
    return bool(user.is_authenticated and (user.is_staff or course.owner_id == user.pk))


def course_list_visible(*, user: AbstractUser | AnonymousUser) -> QuerySet[Course]:
    """Published courses for everyone, plus the courses a teacher owns or teaches; all for staff."""
    courses = Course.objects.select_related("owner")
    if user.is_authenticated and user.is_staff:
        return courses.all()
    visible = Q(status=Course.Status.PUBLISHED)
    if user.is_authenticated:
        visible |= Q(owner=user) | Q(instructors=user)
    return courses.filter(visible).distinct()


@dataclass(frozen=True)
class CatalogueFilters:
    """What a catalogue visitor asked for; unknown choices are ignored, not an error."""

    query: str = ""
    language: str = ""
    subject: str = ""
    level: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "CatalogueFilters":
        def choice(name: str, choices: Iterable[tuple[str, object]]) -> str:
            value = str(params.get(name, ""))
            return value if value in dict(choices) else ""

        return cls(
            query=str(params.get("q", "")).strip()[:100],
            language=choice("language", list(Course._meta.get_field("language").choices or [])),
            subject=choice("subject", Course.Subject.choices),
            level=choice("level", Course.Level.choices),
        )

    @property
    def active(self) -> bool:
        return bool(self.query or self.language or self.subject or self.level)

    def as_query(self) -> str:
        """The filters as a query string, for links to other pages of the same results."""
        return urlencode(
            {
                "q": self.query,
                "subject": self.subject,
                "level": self.level,
                "language": self.language,
            }
        )


def course_catalogue(
    *, user: AbstractUser | AnonymousUser, filters: CatalogueFilters
) -> QuerySet[Course]:
    """Published courses matching the filters, with their lesson and skill counts."""
    courses = (
        course_list_visible(user=user)
        .filter(status=Course.Status.PUBLISHED)
        .annotate(
            lesson_count=Count("modules__lessons", distinct=True),
            skill_count=Count("skills", distinct=True),
        )
        .order_by("title", "id")
    )
    if filters.query:
        courses = courses.filter(
            Q(title__icontains=filters.query)
            | Q(summary__icontains=filters.query)
            | Q(skills__name__icontains=filters.query)
        ).distinct()
    if filters.language:
        courses = courses.filter(language=filters.language)
    if filters.subject:
        courses = courses.filter(subject=filters.subject)
    if filters.level:
        courses = courses.filter(level=filters.level)
    return courses


def course_list_editable(*, user: AbstractUser | AnonymousUser) -> QuerySet[Course]:
    """Courses the user may change."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_staff:
        return Course.objects.all()
    return Course.objects.filter(Q(owner=user) | Q(instructors=user)).distinct()


def course_syllabus(*, course: Course) -> list[Module]:
    """Modules with their lessons and lesson skills, in order, in three queries."""
    lessons = Lesson.objects.order_by("position").prefetch_related("skills")
    return list(
        Module.objects.filter(course=course)
        .order_by("position")
        .prefetch_related(Prefetch("lessons", queryset=lessons))
    )


@dataclass(frozen=True)
class OutlineGaps:
    """What a learner would find empty in a course: worth a warning before publishing."""

    empty_modules: list[Module]
    lessons_without_blocks: list[Lesson]

    def __bool__(self) -> bool:
        return bool(self.empty_modules or self.lessons_without_blocks)


def course_outline_gaps(*, course: Course) -> OutlineGaps:
    """Modules without lessons and lessons without blocks, in outline order."""
    modules = list(
        Module.objects.filter(course=course)
        .annotate(lesson_count=Count("lessons"))
        .order_by("position")
    )
    lessons = list(
        Lesson.objects.filter(module__course=course, blocks__isnull=True)
        .select_related("module")
        .order_by("module__position", "position")
    )
    return OutlineGaps(
        empty_modules=[module for module in modules if not module.lesson_count],
        lessons_without_blocks=lessons,
    )


def lesson_blocks(*, lesson: Lesson) -> list[LessonBlock]:
    """A lesson's blocks in order, exercises with their choices, hints and skills."""
    return list(
        LessonBlock.objects.filter(lesson=lesson)
        .order_by("position")
        .select_related("exercise")
        .prefetch_related("exercise__choices", "exercise__hints", "exercise__skills")
    )


def skill_prerequisite_graph(*, course: Course) -> dict[int, set[int]]:
    """skill id -> ids of the skills it requires, for every skill of the course."""
    graph: dict[int, set[int]] = defaultdict(set)
    for skill_id in Skill.objects.filter(course=course).values_list("pk", flat=True):
        graph[skill_id]
    links = SkillPrerequisite.objects.filter(skill__course=course).values_list(
        "skill_id", "requires_id"
    )
    for skill_id, requires_id in links:
        graph[skill_id].add(requires_id)
    return dict(graph)


def skill_topological_order(*, course: Course) -> list[int]:
    """Skill ids with every prerequisite before the skills that need it (ties by id)."""
    return topological_order(skill_prerequisite_graph(course=course))


def exercise_list_for_course(*, course: Course) -> QuerySet[Exercise]:
    """A course's exercises with choices, hints and skills prefetched."""
    return (
        Exercise.objects.filter(course=course)
        .order_by("id")
        .prefetch_related("choices", "hints", "skills")
    )


def module_list_visible(*, user: AbstractUser | AnonymousUser) -> QuerySet[Module]:
    """Modules of the courses the user may see."""
    return (
        Module.objects.filter(course__in=course_list_visible(user=user))
        .select_related("course")
        .order_by("course_id", "position")
    )


def lesson_list_visible(*, user: AbstractUser | AnonymousUser) -> QuerySet[Lesson]:
    """Lessons of the courses the user may see, with their skills."""
    return (
        Lesson.objects.filter(module__course__in=course_list_visible(user=user))
        .select_related("module__course")
        .prefetch_related("skills")
        .order_by("module__course_id", "module__position", "position")
    )


def lesson_block_list_visible(*, user: AbstractUser | AnonymousUser) -> QuerySet[LessonBlock]:
    """Blocks of the courses the user may see."""
    return (
        LessonBlock.objects.filter(lesson__module__course__in=course_list_visible(user=user))
        .select_related("lesson__module__course")
        .order_by("lesson_id", "position")
    )


def skill_list_visible(*, user: AbstractUser | AnonymousUser) -> QuerySet[Skill]:
    """Skills of the courses the user may see, with the ids of their prerequisites."""
    return (
        Skill.objects.filter(course__in=course_list_visible(user=user))
        .select_related("course")
        .prefetch_related("prerequisites")
        .order_by("course_id", "name")
    )


def exercise_list_visible(*, user: AbstractUser | AnonymousUser) -> QuerySet[Exercise]:
    """Exercises of the courses the user may see, with choices, hints and skills."""
    return (
        Exercise.objects.filter(course__in=course_list_visible(user=user))
        .select_related("course")
        .prefetch_related("choices", "hints", "skills")
        .order_by("course_id", "id")
    )


def exercise_hint_get(*, exercise: Exercise, position: int) -> Hint | None:
    """The exercise's hint at `position` (1 is the first), if there is one."""
    return Hint.objects.filter(exercise=exercise, position=position).first()
