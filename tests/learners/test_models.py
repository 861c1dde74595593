"""Learner invariants that the database enforces, and the custom user model."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from learners.models import Attempt, Enrollment, LessonEvent, User
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_the_user_model_is_learners_user():
    assert get_user_model() is User
    assert User._meta.label == "learners.User"


def test_user_roles_are_student_and_teacher():
    assert User.Role.choices == [("student", "Student"), ("teacher", "Teacher")]
    assert User._meta.get_field("role").default == "student"


def test_role_properties_follow_the_role():
    student = UserFactory()
    teacher = TeacherFactory()

    assert (student.is_student, student.is_teacher) == (True, False)
    assert (teacher.is_student, teacher.is_teacher) == (False, True)


def test_unknown_role_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="mallory", role="admin")

    assert not User.objects.filter(username="mallory").exists()


def test_a_user_enrols_in_a_course_once():
    enrollment = EnrollmentFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(user=enrollment.user, course=enrollment.course)

    assert Enrollment.objects.count() == 1


def test_completed_enrollment_needs_completed_at():
    user = UserFactory()
    course = CourseFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(
            user=user, course=course, status=Enrollment.Status.COMPLETED, completed_at=None
        )

    assert Enrollment.objects.count() == 0


def test_event_position_cannot_be_negative():
    user = UserFactory()
    lesson = LessonFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        LessonEvent.objects.create(
            user=user, lesson=lesson, verb=LessonEvent.Verb.PAUSED, position_seconds=-1.0
        )

    assert LessonEvent.objects.count() == 0


def test_attempts_are_indexed_by_user_and_by_course_in_time():
    indexes = {index.name: index.fields for index in Attempt._meta.indexes}

    assert indexes == {
        "attempt_user_created": ["user", "created_at"],
        "attempt_course_created": ["course", "created_at"],
    }
