"""Course authoring: every write to the catalogue goes through these functions."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F, Max, Model, ProtectedError
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from courses.exceptions import ApplicationError, CourseStateError, PrerequisiteCycleError
from courses.models import (
    Choice,
    Course,
    Exercise,
    Hint,
    Lesson,
    LessonBlock,
    Module,
    Skill,
    SkillPrerequisite,
)
from courses.selectors import skill_prerequisite_graph


@dataclass(frozen=True)
class ChoiceData:
    text: str
    is_correct: bool = False
    feedback: str = ""


def _unique_slug(base: str, taken: Iterable[str], *, max_length: int = 80) -> str:
    base = (slugify(base) or "item")[: max_length - 5]
    taken_set = set(taken)
    slug, counter = base, 2
    while slug in taken_set:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


def _apply(instance: Model, fields: dict[str, Any], allowed: set[str]) -> list[str]:
    unknown = set(fields) - allowed
    if unknown:
        raise ApplicationError(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}."
        )
    for name, value in fields.items():
        setattr(instance, name, value)
    return list(fields)


def _next_position(queryset: Any) -> int:
    return (queryset.aggregate(top=Max("position"))["top"] or 0) + 1


def _reorder(queryset: Any, ordered_ids: Sequence[int], what: str) -> None:
    """Give `ordered_ids` positions 1..n; they must be exactly the rows of `queryset`."""
    current = list(queryset.select_for_update().values_list("pk", flat=True))
    if len(ordered_ids) != len(set(ordered_ids)) or set(ordered_ids) != set(current):
        raise ApplicationError(
            f"The new order must list each {what} of this parent exactly once "
            f"(expected ids {sorted(current)})."
        )
    # Positions are unique per parent, so move every row out of the way first.
    offset = len(current) + (queryset.aggregate(top=Max("position"))["top"] or 0) + 1
    queryset.update(position=F("position") + offset)
    for position, pk in enumerate(ordered_ids, start=1):
        queryset.filter(pk=pk).update(position=position)


# Courses ---------------------------------------------------------------------------------------

COURSE_FIELDS = {
    "title",
    "slug",
    "summary",
    "description_md",
    "language",
    "subject",
    "level",
    "cover",
}


@transaction.atomic
def course_create(
    *,
    owner: Any,
    title: str,
    slug: str = "",
    summary: str = "",
    description_md: str = "",
    language: str = "en",
    subject: str = "other",
    level: str = "beginner",
    cover: File | None = None,
) -> Course:
    """Create a draft course owned by a teacher (or staff)."""
    if not (owner.is_staff or getattr(owner, "role", None) == "teacher"):
        raise ApplicationError("Only teachers can create courses.")
    if not slug:
        slug = _unique_slug(title, Course.objects.values_list("slug", flat=True))
    course = Course(
        owner=owner,
        title=title,
        slug=slug,
        summary=summary,
        description_md=description_md,
        language=language,
        subject=subject,
        level=level,
    )
    if cover is not None:
        course.cover = cover
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def course_update(*, course: Course, **fields: Any) -> Course:
    """Change a course's descriptive fields."""
    changed = _apply(course, fields, COURSE_FIELDS)
    course.full_clean()
    course.save(update_fields=[*changed, "updated_at"])
    return course


@transaction.atomic
def course_publish(*, course: Course) -> Course:
    """Publish a course that has at least one lesson."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status == Course.Status.PUBLISHED:
        return course
    if not Lesson.objects.filter(module__course=course).exists():
        raise CourseStateError("A course needs at least one lesson before it can be published.")
    course.status = Course.Status.PUBLISHED
    course.published_at = course.published_at or timezone.now()
    course.save(update_fields=["status", "published_at", "updated_at"])
    return course


@transaction.atomic
def course_unpublish(*, course: Course) -> Course:
    """Take a course back to draft (enrolments and attempts are kept)."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    course.status = Course.Status.DRAFT
    course.save(update_fields=["status", "updated_at"])
    return course


@transaction.atomic
def course_archive(*, course: Course) -> Course:
    """Archive a course: it leaves the catalogue, its history stays."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    course.status = Course.Status.ARCHIVED
    course.save(update_fields=["status", "updated_at"])
    return course


def _can_teach(user: Any) -> bool:
    return bool(user.is_staff or getattr(user, "role", None) == "teacher")


@transaction.atomic
def course_instructor_add(*, course: Course, user: Any) -> Course:
    """Make a teacher a co-instructor: they edit the course like its owner, but cannot manage
    its instructors. Adding someone twice changes nothing."""
    if not user.is_active:
        raise ApplicationError(_("The account %(name)s is disabled.") % {"name": user.username})
    if user.pk == course.owner_id:
        raise ApplicationError(_("%(name)s owns this course already.") % {"name": user.username})
    if not _can_teach(user):
        raise ApplicationError(
            _(
                "%(name)s is not a teacher yet: only teachers can co-teach "
                "(they can ask to teach, and staff approve)."
            )
            % {"name": user.username}
        )
    Course.objects.select_for_update().filter(pk=course.pk).first()
    course.instructors.add(user)
    return course


@transaction.atomic
def course_instructor_remove(*, course: Course, user: Any) -> Course:
    """Remove a co-instructor (removing someone who is not one changes nothing)."""
    Course.objects.select_for_update().filter(pk=course.pk).first()
    course.instructors.remove(user)
    return course


# Modules and lessons ----------------------------------------------------------------------------


@transaction.atomic
def module_create(*, course: Course, title: str, summary: str = "") -> Module:
    """Append a module to a course."""
    Course.objects.select_for_update().filter(pk=course.pk).first()
    module = Module(
        course=course,
        title=title,
        summary=summary,
        position=_next_position(Module.objects.filter(course=course)),
    )
    module.full_clean()
    module.save()
    return module


@transaction.atomic
def module_update(*, module: Module, **fields: Any) -> Module:
    """Change a module's title or summary."""
    changed = _apply(module, fields, {"title", "summary"})
    module.full_clean()
    module.save(update_fields=changed)
    return module


@transaction.atomic
def module_reorder(*, course: Course, module_ids: Sequence[int]) -> list[Module]:
    """Put a course's modules in the given order."""
    _reorder(Module.objects.filter(course=course), module_ids, "module")
    return list(Module.objects.filter(course=course).order_by("position"))


@transaction.atomic
def lesson_create(
    *,
    module: Module,
    title: str,
    slug: str = "",
    estimated_minutes: int = 10,
    skills: Sequence[Skill] = (),
) -> Lesson:
    """Append a lesson to a module, tagged with skills of the same course."""
    Module.objects.select_for_update().filter(pk=module.pk).first()
    siblings = Lesson.objects.filter(module=module)
    if not slug:
        slug = _unique_slug(title, siblings.values_list("slug", flat=True))
    lesson = Lesson(
        module=module,
        title=title,
        slug=slug,
        estimated_minutes=estimated_minutes,
        position=_next_position(siblings),
    )
    lesson.full_clean()
    lesson.save()
    lesson_skills_set(lesson=lesson, skills=skills)
    return lesson


@transaction.atomic
def lesson_update(
    *, lesson: Lesson, skills: Sequence[Skill] | None = None, **fields: Any
) -> Lesson:
    """Change a lesson's title, slug, estimated minutes or skills."""
    changed = _apply(lesson, fields, {"title", "slug", "estimated_minutes"})
    lesson.full_clean()
    if changed:
        lesson.save(update_fields=changed)
    if skills is not None:
        lesson_skills_set(lesson=lesson, skills=skills)
    return lesson


def _check_same_course(course_id: int, skills: Sequence[Skill]) -> None:
    foreign = [skill.name for skill in skills if skill.course_id != course_id]
    if foreign:
        raise ApplicationError(f"Skill {foreign[0]!r} belongs to another course.")


def skills_same_course_check(*, course_id: int, skills: Sequence[Skill]) -> None:
    """Raise `ApplicationError` unless every skill belongs to the course (the admin's forms)."""
    _check_same_course(course_id, skills)


def lesson_skills_set(*, lesson: Lesson, skills: Sequence[Skill]) -> None:
    """Replace the skills a lesson teaches."""
    _check_same_course(lesson.module.course_id, skills)
    lesson.skills.set(skills)


@transaction.atomic
def lesson_reorder(*, module: Module, lesson_ids: Sequence[int]) -> list[Lesson]:
    """Put a module's lessons in the given order."""
    _reorder(Lesson.objects.filter(module=module), lesson_ids, "lesson")
    return list(Lesson.objects.filter(module=module).order_by("position"))


# Blocks -----------------------------------------------------------------------------------------

BLOCK_FIELDS = {
    "kind",
    "body_md",
    "media",
    "captions",
    "transcript",
    "alt_text",
    "duration_seconds",
    "exercise",
}


def _block_validate(block: LessonBlock) -> None:
    # Field errors first, then the kind's rules in words an author understands, and only then
    # the database constraints (whose generic "Constraint ... is violated" would otherwise win).
    block.full_clean(validate_constraints=False)
    kind = block.kind
    if kind in LessonBlock.MEDIA_VALIDATORS and not block.media:
        raise ValidationError({"media": [f"This {kind} block needs a media file."]})
    if kind == LessonBlock.Kind.IMAGE and not block.alt_text.strip():
        raise ValidationError({"alt_text": ["An image block needs alt text."]})
    if kind == LessonBlock.Kind.EXERCISE and block.exercise is None:
        raise ValidationError({"exercise": ["An exercise block needs an exercise."]})
    if kind != LessonBlock.Kind.EXERCISE and block.exercise is not None:
        raise ValidationError({"exercise": ["Only an exercise block links an exercise."]})
    # A file on a text or exercise block would be stored unchecked (and served as it came).
    if kind not in LessonBlock.MEDIA_VALIDATORS and not getattr(block.media, "_committed", True):
        raise ValidationError({"media": [f"A {kind} block carries no media file."]})
    block.validate_constraints()
    validator = LessonBlock.MEDIA_VALIDATORS.get(block.kind)
    media = block.media
    # Only a newly attached file is read; a stored one was checked when it arrived.
    if validator and media and not getattr(media, "_committed", True):
        try:
            validator(media.file)
        except ValidationError as error:
            raise ValidationError({"media": error.messages}) from error
    if (
        block.kind == LessonBlock.Kind.EXERCISE
        and block.exercise is not None
        and block.exercise.course_id != block.lesson.module.course_id
    ):
        raise ValidationError({"exercise": ["The exercise belongs to another course."]})


@transaction.atomic
def lesson_block_create(*, lesson: Lesson, kind: str, **fields: Any) -> LessonBlock:
    """Append a block (text, video, audio, image or exercise) to a lesson."""
    Lesson.objects.select_for_update().filter(pk=lesson.pk).first()
    block = LessonBlock(
        lesson=lesson,
        kind=kind,
        position=_next_position(LessonBlock.objects.filter(lesson=lesson)),
    )
    _apply(block, fields, BLOCK_FIELDS - {"kind"})
    _block_validate(block)
    block.save()
    return block


@transaction.atomic
def lesson_block_update(*, block: LessonBlock, **fields: Any) -> LessonBlock:
    """Change a block's content."""
    changed = _apply(block, fields, BLOCK_FIELDS)
    _block_validate(block)
    block.save(update_fields=changed)
    return block


@transaction.atomic
def lesson_block_reorder(*, lesson: Lesson, block_ids: Sequence[int]) -> list[LessonBlock]:
    """Put a lesson's blocks in the given order."""
    _reorder(LessonBlock.objects.filter(lesson=lesson), block_ids, "block")
    return list(LessonBlock.objects.filter(lesson=lesson).order_by("position"))


# Skills -----------------------------------------------------------------------------------------


@transaction.atomic
def skill_create(
    *, course: Course, name: str, description: str = "", external_id: str = ""
) -> Skill:
    """Add a skill to a course."""
    skill = Skill(course=course, name=name, description=description, external_id=external_id)
    skill.full_clean()
    skill.save()
    return skill


@transaction.atomic
def skill_update(*, skill: Skill, **fields: Any) -> Skill:
    """Rename or describe a skill."""
    changed = _apply(skill, fields, {"name", "description"})
    skill.full_clean()
    skill.save(update_fields=changed)
    return skill


def _path(graph: dict[int, set[int]], start: int, goal: int) -> list[int] | None:
    """A path start -> ... -> goal following `requires` edges, found depth-first."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen = {start}
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        for nxt in sorted(graph.get(node, ())):
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


@transaction.atomic
def skill_prerequisite_add(*, skill: Skill, requires: Skill) -> SkillPrerequisite:
    """Record that `skill` requires `requires`; refuse an edge that would close a cycle."""
    if skill.course_id != requires.course_id:
        raise ApplicationError("A prerequisite must belong to the same course as the skill.")
    if skill.pk == requires.pk:
        raise PrerequisiteCycleError(f"Skill {skill.name!r} cannot require itself.")
    # Serialise graph edits per course so two concurrent edits cannot close a cycle together.
    Course.objects.select_for_update().filter(pk=skill.course_id).first()
    existing = SkillPrerequisite.objects.filter(skill=skill, requires=requires).first()
    if existing:
        return existing
    graph = skill_prerequisite_graph(course=skill.course)
    path = _path(graph, requires.pk, skill.pk)
    if path is not None:
        names = dict(Skill.objects.filter(pk__in=path).values_list("pk", "name"))
        cycle = " requires ".join([names[skill.pk], *(names[pk] for pk in path)])
        raise PrerequisiteCycleError(
            f"This prerequisite would close a cycle: {cycle}.",
            extra={"cycle": [names[skill.pk], *(names[pk] for pk in path)]},
        )
    link = SkillPrerequisite(skill=skill, requires=requires)
    link.full_clean()
    link.save()
    return link


def skill_prerequisite_cycle(*, skill: Skill, requires: Sequence[Skill]) -> list[str]:
    """Names along the cycle that giving `skill` exactly these prerequisites would close, or []."""
    if any(other.course_id != skill.course_id for other in requires):
        raise ApplicationError("A prerequisite must belong to the same course as the skill.")
    if any(other.pk == skill.pk for other in requires):
        return [skill.name, skill.name]
    graph = skill_prerequisite_graph(course=skill.course)
    graph[skill.pk] = {other.pk for other in requires}
    for other in sorted(graph[skill.pk]):
        path = _path(graph, other, skill.pk)
        if path is not None:
            names = dict(Skill.objects.filter(pk__in=path).values_list("pk", "name"))
            return [names[skill.pk], *(names[pk] for pk in path)]
    return []


@transaction.atomic
def skill_prerequisites_set(*, skill: Skill, requires: Sequence[Skill]) -> list[SkillPrerequisite]:
    """Replace the prerequisites of `skill`; refuse a set that would close a cycle."""
    # Serialise graph edits per course so two concurrent edits cannot close a cycle together.
    Course.objects.select_for_update().filter(pk=skill.course_id).first()
    cycle = skill_prerequisite_cycle(skill=skill, requires=requires)
    if cycle:
        raise PrerequisiteCycleError(
            f"This prerequisite would close a cycle: {' requires '.join(cycle)}.",
            extra={"cycle": cycle},
        )
    wanted = {other.pk for other in requires}
    SkillPrerequisite.objects.filter(skill=skill).exclude(requires_id__in=wanted).delete()
    existing = set(
        SkillPrerequisite.objects.filter(skill=skill).values_list("requires_id", flat=True)
    )
    for requires_id in sorted(wanted - existing):
        link = SkillPrerequisite(skill=skill, requires_id=requires_id)
        link.full_clean()
        link.save()
    return list(SkillPrerequisite.objects.filter(skill=skill).order_by("requires_id"))


@transaction.atomic
def skill_prerequisite_remove(*, skill: Skill, requires: Skill) -> None:
    """Remove a prerequisite edge (a missing edge is not an error)."""
    SkillPrerequisite.objects.filter(skill=skill, requires=requires).delete()


# Exercises --------------------------------------------------------------------------------------

EXERCISE_FIELDS = {
    "title",
    "prompt_md",
    "kind",
    "numeric_answer",
    "tolerance",
    "accepted_answers",
    "explanation_md",
    "max_attempts",
    "external_id",
}


def _exercise_validate(exercise: Exercise, choices: Sequence[ChoiceData] | None) -> None:
    # Constraints last, so a numeric exercise without its answer gets the message below rather
    # than the database constraint's generic one.
    exercise.full_clean(validate_constraints=False)
    kind = exercise.kind
    if kind in (Exercise.Kind.SINGLE, Exercise.Kind.MULTIPLE):
        if choices is None:
            return
        if len(choices) < 2:
            raise ValidationError({"choices": ["A choice exercise needs at least two choices."]})
        correct = sum(1 for choice in choices if choice.is_correct)
        if kind == Exercise.Kind.SINGLE and correct != 1:
            raise ValidationError(
                {"choices": ["A single-choice exercise needs one correct choice."]}
            )
        if kind == Exercise.Kind.MULTIPLE and correct < 1:
            raise ValidationError({"choices": ["Mark at least one choice correct."]})
        if any(not isinstance(choice.text, str) or not choice.text.strip() for choice in choices):
            raise ValidationError({"choices": ["Every choice needs text."]})
        # Choices are bulk-created without full_clean(), so their length is checked here.
        limit = Choice._meta.get_field("text").max_length or 0
        if any(len(choice.text) > limit for choice in choices):
            raise ValidationError({"choices": [f"A choice is at most {limit} characters."]})
    elif kind == Exercise.Kind.TEXT:
        answers = exercise.accepted_answers
        if (
            not isinstance(answers, list)
            or not answers
            or not all(isinstance(item, str) and item.strip() for item in answers)
        ):
            raise ValidationError(
                {"accepted_answers": ["A short-text exercise needs a list of accepted answers."]}
            )
    elif kind == Exercise.Kind.NUMERIC and exercise.numeric_answer is None:
        raise ValidationError({"numeric_answer": ["A numeric exercise needs its answer."]})
    exercise.validate_constraints()


def exercise_rules_check(*, exercise: Exercise, choices: Sequence[ChoiceData] | None) -> None:
    """The authoring rules of an exercise and its choices, for a form that saves it itself.

    The admin's inlines save choices through the ORM; they check with the same rules as
    `exercise_create` and `exercise_update` here rather than restating them.
    """
    is_choice = exercise.kind in (Exercise.Kind.SINGLE, Exercise.Kind.MULTIPLE)
    if not is_choice and choices:
        raise ValidationError({"choices": ["Only choice exercises have choices."]})
    _exercise_validate(exercise, list(choices or []) if is_choice else None)


def _exercise_children_set(
    exercise: Exercise, choices: Sequence[ChoiceData] | None, hints: Sequence[str] | None
) -> None:
    if choices is not None:
        exercise.choices.all().delete()
        Choice.objects.bulk_create(
            Choice(
                exercise=exercise,
                text=choice.text,
                is_correct=choice.is_correct,
                feedback=choice.feedback,
                position=position,
            )
            for position, choice in enumerate(choices, start=1)
        )
    if hints is not None:
        if any(not isinstance(hint, str) or not hint.strip() for hint in hints):
            raise ValidationError({"hints": ["A hint cannot be empty."]})
        exercise.hints.all().delete()
        Hint.objects.bulk_create(
            Hint(exercise=exercise, position=position, text=text)
            for position, text in enumerate(hints, start=1)
        )


@transaction.atomic
def exercise_create(
    *,
    course: Course,
    kind: str,
    prompt_md: str,
    choices: Sequence[ChoiceData] = (),
    hints: Sequence[str] = (),
    skills: Sequence[Skill] = (),
    **fields: Any,
) -> Exercise:
    """Create an exercise with its choices, hints and skill tags."""
    exercise = Exercise(course=course, kind=kind, prompt_md=prompt_md)
    _apply(exercise, fields, EXERCISE_FIELDS - {"kind", "prompt_md"})
    is_choice = kind in (Exercise.Kind.SINGLE, Exercise.Kind.MULTIPLE)
    _exercise_validate(exercise, list(choices) if is_choice else None)
    if not is_choice and choices:
        raise ValidationError({"choices": ["Only choice exercises have choices."]})
    _check_same_course(course.pk, skills)
    exercise.save()
    _exercise_children_set(exercise, list(choices) if is_choice else None, list(hints))
    exercise.skills.set(skills)
    return exercise


@transaction.atomic
def exercise_update(
    *,
    exercise: Exercise,
    choices: Sequence[ChoiceData] | None = None,
    hints: Sequence[str] | None = None,
    skills: Sequence[Skill] | None = None,
    **fields: Any,
) -> Exercise:
    """Change an exercise; choices, hints and skills are replaced when given."""
    changed = _apply(exercise, fields, EXERCISE_FIELDS)
    is_choice = exercise.kind in (Exercise.Kind.SINGLE, Exercise.Kind.MULTIPLE)
    if is_choice and choices is None and "kind" in changed:
        choices = [ChoiceData(c.text, c.is_correct, c.feedback) for c in exercise.choices.all()]
    _exercise_validate(exercise, choices if is_choice else None)
    if not is_choice and choices:
        raise ValidationError({"choices": ["Only choice exercises have choices."]})
    if skills is not None:
        _check_same_course(exercise.course_id, skills)
    if changed:
        exercise.save(update_fields=[*changed, "updated_at"])
    # A choice exercise turned numeric or text keeps no choices: they would still be served
    # (and graded nowhere) as part of the exercise.
    leaves_choices = not is_choice and "kind" in changed
    _exercise_children_set(
        exercise, choices if is_choice else ([] if leaves_choices or choices == [] else None), hints
    )
    if skills is not None:
        exercise.skills.set(skills)
    return exercise


# Removals ---------------------------------------------------------------------------------------


@transaction.atomic
def module_delete(*, module: Module) -> None:
    """Remove a module with its lessons and blocks (the exercises stay in the course)."""
    _delete_unless_used(
        module,
        "This module has lessons with learner activity; it cannot be removed "
        "(archive or unpublish the course instead).",
    )


@transaction.atomic
def lesson_delete(*, lesson: Lesson) -> None:
    """Remove a lesson with its blocks (the exercises stay in the course)."""
    _delete_unless_used(
        lesson,
        "This lesson has learner activity; it cannot be removed "
        "(archive or unpublish the course instead).",
    )


def _delete_unless_used(content: Model, message: str) -> None:
    """Delete, or refuse with `message` when learner records protect the content."""
    try:
        # A savepoint, so that a refused delete leaves the caller's transaction usable.
        with transaction.atomic():
            content.delete()
    except ProtectedError as error:
        raise ApplicationError(message) from error


@transaction.atomic
def lesson_block_delete(*, block: LessonBlock) -> None:
    """Remove one block from a lesson."""
    block.delete()


@transaction.atomic
def skill_delete(*, skill: Skill) -> None:
    """Remove a skill; its prerequisite links and tags go with it."""
    skill.delete()


@transaction.atomic
def exercise_delete(*, exercise: Exercise) -> None:
    """Remove an exercise that no block shows and nobody has answered yet."""
    _delete_unless_used(
        exercise, "This exercise is shown in a lesson or has attempts; it cannot be removed."
    )
