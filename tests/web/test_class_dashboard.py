"""The class dashboard at scale: figures equal the learners' own, paged lists, the learner page,
who may see it, the debounced recompute, and queries that do not grow with the class."""

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from adaptive.display import STATUSES
from adaptive.display_store import learner_shown
from adaptive.models import ClassLearnerSummary, ClassSkillSummary, ClassSummary
from adaptive.services.class_summary import class_summary_compute, class_summary_schedule
from courses.models import Exercise, Skill
from learners.models import Attempt, Enrollment, LessonEvent
from learners.selectors import course_progress
from learners.services import attempt_submit, lesson_event_record
from tests.factories import CourseFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


def _class_with_answers(classroom, django_capture_on_commit_callbacks):
    """Five learners with different answers, every one folded by the real (eager) update task."""
    right = classroom.single.choices.get(is_correct=True).pk
    wrong = classroom.single.choices.get(is_correct=False).pk
    plans = {
        "ada": [(classroom.numeric, 42)] * 3,  # three right in a row: Equations mastered
        "bob": [(classroom.numeric, 7), (classroom.numeric, 42)],
        "cy": [(classroom.single, right), (classroom.numeric, 42), (classroom.numeric, 42)],
        "dee": [(classroom.single, wrong), (classroom.single, wrong), (classroom.numeric, 7)],
        "eve": [],
    }
    learners = {}
    for name, answers in plans.items():
        user = UserFactory(username=name, first_name=name.title(), last_name="Lovelace")
        Enrollment.objects.create(user=user, course=classroom.course)
        for exercise, answer in answers:
            with django_capture_on_commit_callbacks(execute=True):
                attempt_submit(user=user, exercise=exercise, answer=answer)
        learners[name] = user
    return learners


def test_the_skill_counts_equal_what_each_learner_sees_on_their_own_dashboard(
    classroom, django_capture_on_commit_callbacks
):
    _class_with_answers(classroom, django_capture_on_commit_callbacks)
    # when
    class_summary_compute(course_id=classroom.course.pk)
    # then: per skill and status, the number of learners whose own dashboard says so
    seen: Counter = Counter()
    for user_id in Enrollment.objects.filter(course=classroom.course).values_list(
        "user_id", flat=True
    ):
        for item in learner_shown(user_id=user_id, course_id=classroom.course.pk).skills:
            seen[(item.skill_id, item.status)] += 1
    stored = {
        (row.skill_id, status): getattr(row, status)
        for row in ClassSkillSummary.objects.filter(course=classroom.course)
        for status in STATUSES
    }
    assert stored == {
        (skill.pk, status): seen[(skill.pk, status)]
        for skill in classroom.skills
        for status in STATUSES
    }
    equations = ClassSkillSummary.objects.get(skill__name="Equations")
    assert (equations.not_started, equations.mastered) == (2, 1)  # student and eve; ada
    assert equations.learning + equations.almost == 3  # bob, cy, dee
    # and each learner's row has their own dashboard's progress and answers
    for row in ClassLearnerSummary.objects.filter(course=classroom.course).select_related("user"):
        enrollment = Enrollment.objects.get(user=row.user, course=classroom.course)
        progress = course_progress(user=row.user, enrollment=enrollment)
        assert row.progress_percent == progress.percent_complete
        assert (row.attempts, row.correct_attempts) == (
            progress.attempts,
            progress.correct_attempts,
        )
        shown = learner_shown(user_id=row.user_id, course_id=classroom.course.pk).skills
        assert row.skills_mastered == sum(item.status == "mastered" for item in shown)


def _names(page: str) -> list[str]:
    return re.findall(r'<tr data-learner="\d+">\s*<th scope="row"><a [^>]*>([\w-]+)</a>', page)


def test_the_learner_list_is_searched_filtered_and_sorted(
    client, classroom, django_capture_on_commit_callbacks
):
    learners = _class_with_answers(classroom, django_capture_on_commit_callbacks)
    learners["bob"].email = "robert@school.example"
    learners["bob"].save(update_fields=["email"])
    client.force_login(classroom.teacher)
    url = reverse("adaptive:class_learners", args=["algebra"])
    assert _names(client.get(url).content.decode()) == ["ada", "bob", "cy", "dee", "eve", "student"]
    # search: username, e-mail, first or last name, case-insensitive
    assert _names(client.get(url, {"q": "ROBERT@"}).content.decode()) == ["bob"]
    assert _names(client.get(url, {"q": "cy"}).content.decode()) == ["cy"]
    assert len(_names(client.get(url, {"q": "lovelace"}).content.decode())) == 5
    assert "No learner matches." in client.get(url, {"q": "nobody"}).content.decode()
    # struggling: 3+ answers and under half right (dee: 0 of 3); not struggling: cy 3 of 3
    struggling = client.get(url, {"show": "struggling"}).content.decode()
    assert _names(struggling) == ["dee"]
    assert "1 learner matches." in struggling
    assert _names(client.get(url, {"show": "not_started"}).content.decode()) == ["eve", "student"]
    # lowest rate of right answers first, learners without answers last
    page = client.get(url, {"sort": "correct_low"}).content.decode()
    assert _names(page) == ["dee", "bob", "ada", "cy", "eve", "student"]
    # ada alone mastered a skill (three right in a row); the others by name
    assert _names(client.get(url, {"sort": "mastered"}).content.decode()) == [
        "ada",
        "bob",
        "cy",
        "dee",
        "eve",
        "student",
    ]
    # an unknown order or filter, or a page past the end, is the default, never a 500
    response = client.get(url, {"sort": "password", "show": "x", "page": "999"})
    assert response.status_code == 200
    assert _names(response.content.decode())[0] == "ada"


def test_the_learner_list_is_paged_by_25(client, classroom):
    users = [UserFactory(username=f"learner-{n:03d}") for n in range(60)]
    Enrollment.objects.bulk_create(Enrollment(user=u, course=classroom.course) for u in users)
    client.force_login(classroom.teacher)
    url = reverse("adaptive:class_learners", args=["algebra"])
    first = client.get(url).content.decode()
    assert len(_names(first)) == 25
    assert "Page 1 of 3" in first
    third = client.get(url, {"page": 3, "sort": "name"}).content.decode()
    assert _names(third) == [f"learner-{n:03d}" for n in range(50, 60)] + ["student"]
    assert "?page=2&amp;sort=name" in third
    assert "61 enrolled learners" in third


def test_the_learner_page_shows_mastery_path_answers_and_activity(
    client, classroom, django_capture_on_commit_callbacks
):
    learners = _class_with_answers(classroom, django_capture_on_commit_callbacks)
    ada = learners["ada"]
    lesson_event_record(user=ada, lesson=classroom.lessons[0], verb=LessonEvent.Verb.COMPLETED)
    client.force_login(classroom.teacher)
    page = client.get(reverse("adaptive:class_learner", args=["algebra", ada.pk])).content.decode()
    shown = {
        item.name: item
        for item in learner_shown(user_id=ada.pk, course_id=classroom.course.pk).skills
    }
    equations = shown["Equations"]
    assert equations.status == "mastered"
    assert f'data-shown-percent="{equations.percent}" data-status="mastered"' in page
    assert 'data-shown-percent="" data-status="not_started"' in page  # Fractions
    assert page.count('data-correct="true"') == 3
    assert "Answers 1 to 3 of 3, newest first" in page
    assert classroom.lessons[0].title in page  # lesson activity
    assert "1 of 2" in page  # lessons completed
    assert 'data-empty="learning-path"' not in page  # planned by the online update


@pytest.mark.parametrize(
    ("who", "expected"), [("owner", 200), ("other_teacher", 403), ("student", 403), ("self", 403)]
)
def test_only_the_course_editors_see_a_learner_page(client, classroom, who, expected):
    learner = UserFactory(username="watched")
    Enrollment.objects.create(user=learner, course=classroom.course)
    viewer = {
        "owner": classroom.teacher,
        "other_teacher": TeacherFactory(username="other-teacher"),
        "student": classroom.student,
        "self": learner,
    }[who]
    client.force_login(viewer)
    url = reverse("adaptive:class_learner", args=["algebra", learner.pk])
    response = client.get(url)
    assert response.status_code == expected
    assert ("data-shown-percent" in response.content.decode()) == (expected == 200)
    if expected == 403:
        assert client.get(reverse("adaptive:class_learners", args=["algebra"])).status_code == 403


def test_a_learner_page_of_someone_not_enrolled_is_404(client, classroom):
    outsider = UserFactory(username="outsider")
    client.force_login(classroom.teacher)
    for user_id in (outsider.pk, 999999):
        response = client.get(reverse("adaptive:class_learner", args=["algebra", user_id]))
        assert response.status_code == 404


def test_a_large_class_is_recomputed_by_the_queued_task_not_by_the_page(
    client, classroom, settings, django_capture_on_commit_callbacks
):
    settings.PATHWISE_CLASS_SUMMARY_INLINE_LEARNERS = 0
    client.force_login(classroom.teacher)
    url = reverse("adaptive:class_dashboard", args=["algebra"])
    # first view: nothing computed yet; the page says so and queues the (eager) task
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.get(url).content.decode()
    assert 'data-summary="pending"' in page
    assert len(callbacks) == 1
    assert ClassSummary.objects.get(course=classroom.course).queued_at is not None
    # a second change while it is queued queues nothing more (debounced)
    with django_capture_on_commit_callbacks(execute=False) as more:
        assert class_summary_schedule(course_id=classroom.course.pk) is False
    assert more == []
    callbacks[0]()  # the task runs
    summary = ClassSummary.objects.get(course=classroom.course)
    assert (summary.learners, summary.queued_at) == (1, None)
    page = client.get(url).content.decode()
    assert 'data-summary="current"' in page
    # a new answer makes the figures behind: shown as such, with the time they are from
    Attempt.objects.create(
        user=classroom.student,
        exercise=classroom.numeric,
        course=classroom.course,
        answer=42,
        is_correct=True,
    )
    with django_capture_on_commit_callbacks(execute=False):
        page = client.get(url).content.decode()
    assert 'data-summary="behind"' in page
    assert "Figures as of" in page


def _course_of(name: str, learners: int):
    teacher = TeacherFactory(username=f"{name}-teacher")
    course = CourseFactory(owner=teacher, slug=name)
    skills = Skill.objects.bulk_create(Skill(course=course, name=f"Skill {n}") for n in range(6))
    exercises = Exercise.objects.bulk_create(
        Exercise(course=course, title=f"E{n}", prompt_md="?", kind="numeric", numeric_answer=1)
        for n in range(12)
    )
    for n, exercise in enumerate(exercises):
        exercise.skills.set([skills[n % 6]])
    users = [UserFactory(username=f"{name}-learner{n:04d}") for n in range(learners)]
    Enrollment.objects.bulk_create(Enrollment(user=user, course=course) for user in users)
    Attempt.objects.bulk_create(
        Attempt(user=user, exercise=exercise, course=course, answer=1, is_correct=n % 3 != 0)
        for n, (user, exercise) in enumerate(
            (user, exercise) for user in users for exercise in exercises[:4]
        )
    )
    return teacher, course, users[len(users) // 2]


def _queries(client, teacher, url, params=None) -> int:
    client.force_login(teacher)
    client.get(url, params)  # warm per-process caches and the summary
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("adaptive:class_dashboard", None),
        ("adaptive:class_dashboard", {"skills_page": 2, "exercises_page": 2}),
        ("adaptive:class_learners", None),
        ("adaptive:class_learners", {"page": 2, "sort": "correct_low"}),
        ("adaptive:class_learners", {"q": "learner00", "show": "struggling"}),
        ("adaptive:class_learner", None),
    ],
)
def test_class_pages_issue_the_same_queries_for_20_and_200_learners(
    client, settings, url_name, params
):
    # The path a large class takes: figures read from the summary, never recomputed in the view.
    settings.PATHWISE_CLASS_SUMMARY_INLINE_LEARNERS = 0
    counts = []
    for name, size in (("small", 20), ("large", 200)):
        teacher, course, learner = _course_of(name, size)
        class_summary_compute(course_id=course.pk)
        args = [course.slug, learner.pk] if url_name == "adaptive:class_learner" else [course.slug]
        counts.append(_queries(client, teacher, reverse(url_name, args=args), params))
    assert counts[0] == counts[1]
    assert counts[0] <= 20
