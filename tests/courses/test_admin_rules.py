"""The catalogue admin checks exercises with the authoring service's rules, not its own copy."""

import pytest
from django.urls import reverse

from courses.models import Exercise
from tests.factories import CourseFactory, SkillFactory, UserFactory

pytestmark = pytest.mark.django_db


def exercise_form(course, **overrides):
    data = {
        "course": course.pk,
        "title": "Solve it",
        "prompt_md": "Solve",
        "kind": "text",
        "tolerance": "0",
        "accepted_answers": "[]",
        "explanation_md": "",
        "external_id": "",
        "choices-TOTAL_FORMS": "0",
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
        "hints-TOTAL_FORMS": "0",
        "hints-INITIAL_FORMS": "0",
        "hints-MIN_NUM_FORMS": "0",
        "hints-MAX_NUM_FORMS": "1000",
    }
    return {**data, **overrides}


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "A short-text exercise needs a list of accepted answers."),
        ({"kind": "numeric"}, "A numeric exercise needs its answer."),
        (
            {
                "kind": "numeric",
                "numeric_answer": "3",
                "choices-TOTAL_FORMS": "1",
                "choices-0-position": "1",
                "choices-0-text": "A",
            },
            "Only choice exercises have choices.",
        ),
    ],
)
def test_the_admin_refuses_an_exercise_with_the_services_message(admin_client, overrides, message):
    course = CourseFactory()
    response = admin_client.post(
        reverse("admin:courses_exercise_add"), exercise_form(course, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Exercise.objects.exists()


def test_the_admin_refuses_a_skill_of_another_course(admin_client):
    course = CourseFactory()
    foreign = SkillFactory(name="Elsewhere")
    response = admin_client.post(
        reverse("admin:courses_exercise_add"),
        exercise_form(course, kind="numeric", numeric_answer="3", skills=[foreign.pk]),
    )
    assert response.status_code == 200
    assert "belongs to another course" in response.content.decode()
    assert not Exercise.objects.exists()
