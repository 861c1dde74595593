"""Teachers set how many graded attempts an exercise allows, in the studio and the admin."""

import pytest
from django.urls import reverse

from courses.models import Exercise

pytestmark = pytest.mark.django_db


def _numeric(**extra):
    return {
        "title": "Product",
        "kind": "numeric",
        "prompt_md": "6 x 7?",
        "numeric_answer": "42",
        "choices-TOTAL_FORMS": "0",
        "choices-INITIAL_FORMS": "0",
        **extra,
    }


def test_the_studio_form_sets_and_keeps_the_attempts_allowed(client, classroom):
    client.force_login(classroom.teacher)
    exercise = classroom.numeric
    url = reverse("courses:studio_exercise_edit", args=["algebra", exercise.pk])

    form = client.get(url).content.decode()
    saved = client.post(url, _numeric(max_attempts="5"))
    kept = client.post(url, _numeric())  # left empty: the exercise keeps its setting

    assert 'name="max_attempts" value="3"' in form
    assert (saved.status_code, kept.status_code) == (302, 302)
    exercise.refresh_from_db()
    assert exercise.max_attempts == 5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("21", "less than or equal to 20"),
        ("many", "Enter a whole number"),
    ],
)
def test_the_studio_form_refuses_attempts_out_of_range(client, classroom, value, message):
    client.force_login(classroom.teacher)
    exercise = classroom.numeric
    url = reverse("courses:studio_exercise_edit", args=["algebra", exercise.pk])

    response = client.post(url, _numeric(max_attempts=value))

    assert response.status_code == 200
    assert message in response.content.decode()
    exercise.refresh_from_db()
    assert exercise.max_attempts == 3


def test_a_new_exercise_allows_three_attempts_by_default(client, classroom):
    client.force_login(classroom.teacher)

    client.post(reverse("courses:studio_exercise_create", args=["algebra"]), _numeric())

    assert Exercise.objects.get(title="Product", pk__gt=classroom.numeric.pk).max_attempts == 3


def test_the_admin_form_has_the_attempts_allowed(admin_client, classroom):
    url = reverse("admin:courses_exercise_change", args=[classroom.numeric.pk])

    page = admin_client.get(url).content.decode()

    assert 'name="max_attempts"' in page
