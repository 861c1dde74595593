"""Who may change the catalogue through the API, and who may learn in a course (web and API).

Reads of the catalogue are decided by the visible querysets; `learning_access` is the one
publication rule for the lesson pages, lesson events, attempts and hints.
"""

import enum
from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from courses.models import Course, Exercise, Lesson, LessonBlock, Module, Skill
from courses.selectors import course_is_editable_by, user_can_author


def course_of(content: Any) -> Course:
    """The course a piece of content belongs to."""
    if isinstance(content, Course):
        return content
    if isinstance(content, Module | Skill | Exercise):
        return content.course
    if isinstance(content, Lesson):
        return content.module.course
    if isinstance(content, LessonBlock):
        return content.lesson.module.course
    raise TypeError(f"{type(content).__name__} does not belong to a course.")


class IsAuthorOrReadOnly(BasePermission):
    """Anyone reads; only teachers and staff write (anonymous callers are asked to log in)."""

    message = "Only teachers can change courses, and only their own."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return user_can_author(user=request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return course_is_editable_by(course=course_of(obj), user=request.user)


class CanEditCourse(BasePermission):
    """Only the owner, an instructor or staff may see editor-only data or change the course."""

    message = "Only the course's owner, its instructors or staff can do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_can_author(user=request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return course_is_editable_by(course=course_of(obj), user=request.user)


class LearningAccess(enum.Enum):
    """What a user may do with a course's lessons and exercises."""

    LEARN = "learn"  # an enrolled learner of a published course: records attempts and events
    PREVIEW = "preview"  # an editor: sees and tries everything, nothing is recorded
    NONE = "none"


def learning_access(
    *, course: Course, user: AbstractUser | AnonymousUser, is_enrolled: bool
) -> LearningAccess:
    """The publication rule: learning happens in published courses; editors always preview.

    `is_enrolled` is the caller's active enrolment (learners.selectors knows enrolments; this
    app sits below it). A learner enrolled in a course that was later unpublished or archived
    gets NONE: no attempts, events or lesson pages until it is published again.
    """
    if is_enrolled and course.status == Course.Status.PUBLISHED:
        return LearningAccess.LEARN
    if course_is_editable_by(course=course, user=user):
        return LearningAccess.PREVIEW
    return LearningAccess.NONE
