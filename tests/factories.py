"""factory-boy factories shared by every test package."""

import factory
from django.utils import timezone

from courses.models import Choice, Course, Exercise, Hint, Lesson, LessonBlock, Module, Skill
from learners.models import Attempt, Enrollment, LessonEvent, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("pass-word-123")
    role = User.Role.STUDENT


class TeacherFactory(UserFactory):
    username = factory.Sequence(lambda n: f"teacher{n}")
    role = User.Role.TEACHER


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    summary = "A course."
    owner = factory.SubFactory(TeacherFactory)
    status = Course.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Module {n}")
    position = factory.Sequence(lambda n: n + 1)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    position = factory.Sequence(lambda n: n + 1)


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    course = factory.SubFactory(CourseFactory)
    name = factory.Sequence(lambda n: f"Skill {n}")


class ExerciseFactory(factory.django.DjangoModelFactory):
    """A numeric exercise (answer 42, tolerance 0.5) unless told otherwise."""

    class Meta:
        model = Exercise

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Exercise {n}")
    prompt_md = "What is 6 x 7?"
    kind = Exercise.Kind.NUMERIC
    numeric_answer = 42.0
    tolerance = 0.5
    explanation_md = "6 x 7 = 42."


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    exercise = factory.SubFactory(ExerciseFactory, kind=Exercise.Kind.SINGLE, numeric_answer=None)
    text = factory.Sequence(lambda n: f"Choice {n}")
    position = factory.Sequence(lambda n: n + 1)


class HintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hint

    exercise = factory.SubFactory(ExerciseFactory)
    position = factory.Sequence(lambda n: n + 1)
    text = "Think about it."


class LessonBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LessonBlock

    lesson = factory.SubFactory(LessonFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = LessonBlock.Kind.TEXT
    body_md = "Some **text**."


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attempt

    user = factory.SubFactory(UserFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    course = factory.LazyAttribute(lambda attempt: attempt.exercise.course)
    answer = 42.0
    is_correct = True


class LessonEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LessonEvent

    user = factory.SubFactory(UserFactory)
    lesson = factory.SubFactory(LessonFactory)
    verb = LessonEvent.Verb.VIEWED
