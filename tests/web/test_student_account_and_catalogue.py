"""Leaving a course, the language kept in the profile, catalogue filters, favicon and plurals."""

import numpy as np
import pytest
from django.urls import reverse

from adaptive.models import LearnerState, mastery_encode
from courses.models import Course
from learners.models import Attempt, Enrollment
from tests.factories import (
    AttemptFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# Leaving a course ---------------------------------------------------------------------------------


def test_leaving_drops_the_enrolment_keeps_the_history_and_enrolling_again_shows_it(
    client, classroom
):
    student, course = classroom.student, classroom.course
    AttemptFactory(user=student, exercise=classroom.single, answer=0, is_correct=True)
    client.force_login(student)
    page = client.get(reverse("learners:course_detail", args=[course.slug])).content.decode()
    assert "Leave this course" in page
    assert "Yes, leave the course" in page

    # when
    response = client.post(reverse("learners:leave", args=[course.slug]), follow=True)

    # then: dropped, not deleted; the lessons close; the history is shown and kept
    enrollment = Enrollment.objects.get(user=student, course=course)
    assert enrollment.status == Enrollment.Status.DROPPED
    assert Attempt.objects.filter(user=student, course=course).count() == 1
    page = response.content.decode()
    assert "You have left “Algebra basics”" in page
    assert "You left this course." in page
    assert "Exercises solved: 1 of 2." in page
    assert "Enrol again" in page
    lesson = reverse("learners:lesson", args=[course.slug, classroom.lessons[0].pk])
    closed = client.get(lesson)
    assert (closed.status_code, closed["Location"]) == (302, f"/courses/{course.slug}/")

    # when: enrolling again
    response = client.post(reverse("learners:enrol", args=[course.slug]), follow=True)

    # then: the same enrolment is active again, with the earlier progress
    page = response.content.decode()
    assert "Welcome back! Your earlier answers and progress are kept." in page
    assert "Exercises solved: 1 of 2." in page
    assert Enrollment.objects.get(pk=enrollment.pk).status == Enrollment.Status.ACTIVE
    assert client.get(lesson).status_code == 200


def test_leaving_needs_a_post_a_login_and_an_enrolment(client, classroom):
    url = reverse("learners:leave", args=[classroom.course.slug])
    assert client.post(url).status_code == 302  # to the login page
    assert Enrollment.objects.get(user=classroom.student).status == Enrollment.Status.ACTIVE
    client.force_login(classroom.student)
    assert client.get(url).status_code == 405
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)
    response = client.post(url, follow=True)
    assert "You are not enrolled in this course." in response.content.decode()
    assert not Enrollment.objects.filter(user=stranger).exists()
    assert client.post(reverse("learners:leave", args=["no-such-course"])).status_code == 404


def test_another_student_cannot_drop_your_enrolment_through_the_api(client, classroom):
    # The web action only ever reads the caller's own enrolment; the API looks it up by id.
    mine = Enrollment.objects.get(user=classroom.student)
    other = UserFactory(username="other")
    client.force_login(other)
    response = client.post(f"/api/v1/enrollments/{mine.pk}/drop")
    assert response.status_code == 404
    assert Enrollment.objects.get(pk=mine.pk).status == Enrollment.Status.ACTIVE
    client.force_login(classroom.student)
    response = client.post(f"/api/v1/enrollments/{mine.pk}/drop")
    assert response.status_code == 200
    assert response.json()["status"] == "dropped"


# Language ---------------------------------------------------------------------------------------


def test_the_header_language_is_kept_in_the_profile_and_saving_the_profile_keeps_it(client):
    user = UserFactory(username="mei", preferred_language="en")
    client.force_login(user)

    # when: the header switcher
    response = client.post(
        reverse("learners:language"), {"language": "zh-hans", "next": "/accounts/profile/"}
    )

    # then
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"
    user.refresh_from_db()
    assert user.preferred_language == "zh-hans"
    page = client.get(reverse("learners:profile")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert '<option value="zh-hans" selected>' in page

    # when: the profile is saved with another field changed
    response = client.post(
        reverse("learners:profile"),
        {
            "first_name": "Mei",
            "last_name": "",
            "email": "mei@example.org",
            "preferred_language": "zh-hans",
        },
        follow=True,
    )

    # then: the interface stays in Chinese
    assert '<html lang="zh-hans">' in response.content.decode()
    user.refresh_from_db()
    assert (user.first_name, user.preferred_language) == ("Mei", "zh-hans")


def test_an_anonymous_visitor_switches_language_without_a_profile(client):
    response = client.post(reverse("learners:language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"


def test_an_unknown_language_changes_nothing(client):
    user = UserFactory(username="ana", preferred_language="en")
    client.force_login(user)
    client.post(reverse("learners:language"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.preferred_language == "en"


def test_the_course_language_name_is_translated(client, classroom):
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("learners:course_detail", args=[classroom.course.slug]))
    assert "英语" in page.content.decode()


# Catalogue filters --------------------------------------------------------------------------------


@pytest.fixture
def shelf(db):
    CourseFactory(title="Algebra", subject="mathematics", level="beginner")
    CourseFactory(title="Calculus", subject="mathematics", level="advanced")
    CourseFactory(title="Statistics", subject="statistics", level="intermediate")
    CourseFactory(
        title="Draft stats", subject="statistics", status=Course.Status.DRAFT, published_at=None
    )


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("", ["Algebra", "Calculus", "Statistics"]),
        ("subject=mathematics", ["Algebra", "Calculus"]),
        ("subject=statistics", ["Statistics"]),
        ("level=advanced", ["Calculus"]),
        ("subject=mathematics&level=beginner", ["Algebra"]),
        ("subject=statistics&level=advanced", []),
        ("subject=astrology", ["Algebra", "Calculus", "Statistics"]),  # unknown: ignored
    ],
)
def test_catalogue_filters_by_subject_and_level(client, shelf, query, titles):
    response = client.get(reverse("courses:catalogue") + "?" + query)
    assert response.status_code == 200
    assert [course.title for course in response.context["page"].object_list] == titles


def test_catalogue_shows_the_filters_and_how_many_courses_match(client, shelf):
    page = client.get(reverse("courses:catalogue") + "?subject=mathematics").content.decode()
    assert '<option value="mathematics" selected>' in page
    assert "2 courses match." in page
    assert "Clear filters" in page
    page = client.get(reverse("courses:catalogue") + "?level=advanced").content.decode()
    assert "1 course matches." in page


# Favicon and plurals --------------------------------------------------------------------------


def test_favicon_ico_leads_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")


def test_admin_shows_a_learners_raw_mastery_as_a_readable_list(admin_client):
    # given a stored mastery vector over two skills, one of which was deleted since
    course = CourseFactory(slug="vectors")
    fractions = SkillFactory(course=course, name="Fractions")
    learner = UserFactory()
    mastery, skill_ids = mastery_encode([fractions.pk, 999_999], np.array([0.8125, 0.25]))
    state = LearnerState.objects.create(
        user=learner, course=course, state=b"", mastery=mastery, mastery_skill_ids=skill_ids
    )

    index = admin_client.get(reverse("admin:index")).content.decode()
    listing = admin_client.get(reverse("admin:adaptive_learnerstate_changelist")).content.decode()
    page = admin_client.get(
        reverse("admin:adaptive_learnerstate_change", args=[state.pk])
    ).content.decode()

    assert "Learner states" in index
    assert "masterys" not in index
    assert '<td class="field-skills_count">2</td>' in listing
    assert "<li>Fractions: 0.8125</li>" in page
    assert "<li>deleted skill 999999: 0.2500</li>" in page


def test_lesson_blocks_have_unique_landmark_names(client, classroom):
    client.force_login(classroom.student)
    page = client.get(
        reverse("learners:lesson", args=[classroom.course.slug, classroom.lessons[0].pk])
    ).content.decode()
    assert 'aria-label="Text 1"' in page
    assert 'aria-label="Video 2"' in page
    assert 'aria-label="Exercise 3: Half"' in page


def test_progress_counts_read_right_for_a_count_of_one(client, db):
    course = CourseFactory(slug="one")
    LessonFactory(module=ModuleFactory(course=course, position=1), position=1)
    student = UserFactory(username="solo")
    EnrollmentFactory(user=student, course=course)
    client.force_login(student)
    page = client.get(reverse("learners:course_detail", args=["one"])).content.decode()
    assert "Lessons complete: 0 of 1. Exercises solved: 0 of 0. 0.0% of the course done." in page
