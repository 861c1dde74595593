"""A small course with planted learner behaviour, and an isolated artifact directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from courses.models import Course, Exercise, Skill
from learners.models import Attempt, Enrollment, User
from tests.factories import (
    CourseFactory,
    ExerciseFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    UserFactory,
)

N_SKILLS = 4
N_LEARNERS = 120
ATTEMPTS_PER_LEARNER = 24


@dataclass(frozen=True)
class PlantedCourse:
    course: Course
    skills: list[Skill]
    exercises: list[Exercise]
    learners: list[User]


@pytest.fixture(autouse=True)
def _model_root(settings, tmp_path):
    settings.PATHWISE_MODEL_ROOT = tmp_path / "models"


def planted_course(*, slug: str = "planted", seed: int = 5) -> PlantedCourse:
    """Learners strong on the first half of the skills and weak on the rest, or the reverse."""
    rng = np.random.default_rng(seed)
    course = CourseFactory(slug=slug)
    skills = [SkillFactory(course=course) for _ in range(N_SKILLS)]
    exercises = []
    for index in range(N_SKILLS * 2):
        exercise = ExerciseFactory(course=course)
        exercise.skills.add(skills[index % N_SKILLS])
        exercises.append(exercise)
    learners = User.objects.bulk_create(
        [
            User(username=f"{slug}-learner-{i}", email=f"{slug}{i}@example.org")
            for i in range(N_LEARNERS)
        ]
    )
    start = timezone.now() - timedelta(days=1)
    attempts = []
    for learner in learners:
        strong_first = rng.random() < 0.5
        for t in range(ATTEMPTS_PER_LEARNER):
            exercise_index = int(rng.integers(len(exercises)))
            expected = strong_first == (exercise_index % N_SKILLS < N_SKILLS // 2)
            answer = expected if rng.random() < 0.9 else not expected
            attempts.append(
                Attempt(
                    user=learner,
                    exercise=exercises[exercise_index],
                    course=course,
                    answer=42,
                    is_correct=bool(answer),
                    created_at=start + timedelta(minutes=t),
                )
            )
    Attempt.objects.bulk_create(attempts)
    return PlantedCourse(course=course, skills=skills, exercises=exercises, learners=learners)


@pytest.fixture
def planted(db) -> PlantedCourse:
    return planted_course()


def course_with_history(
    *, learners: int, seed: int, attempts: tuple[int, int]
) -> tuple[Course, list[Skill], list[Exercise], list[User]]:
    """Three skills (a lesson teaches the first), one exercise each, enrolled learners with a
    random number of attempts in `[attempts[0], attempts[1])` cycling through the exercises."""
    course = CourseFactory()
    skills = [SkillFactory(course=course, name=f"S{i}") for i in range(3)]
    lesson = LessonFactory(module=ModuleFactory(course=course))
    lesson.skills.set(skills[:1])
    exercises = []
    for skill in skills:
        exercise = ExerciseFactory(course=course)
        exercise.skills.set([skill])
        exercises.append(exercise)
    users = [UserFactory() for _ in range(learners)]
    rng = np.random.default_rng(seed)
    for learner in users:
        Enrollment.objects.create(user=learner, course=course)
        for step in range(int(rng.integers(*attempts))):
            Attempt.objects.create(
                user=learner,
                exercise=exercises[step % 3],
                course=course,
                answer=1,
                is_correct=bool(rng.random() < 0.6),
            )
    return course, skills, exercises, users
