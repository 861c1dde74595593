"""The Django admin: every registered model's pages load, logs are read-only, invariants hold."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from courses.exceptions import PrerequisiteCycleError
from courses.models import Exercise, LessonBlock, Skill, SkillPrerequisite
from courses.services import skill_prerequisites_set
from learners.models import Attempt, LessonEvent
from tests.factories import (
    AttemptFactory,
    ChoiceFactory,
    CourseFactory,
    EnrollmentFactory,
    ExerciseFactory,
    HintFactory,
    LessonBlockFactory,
    LessonEventFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    """One row of every courses/learners model, linked the way real content is."""
    course = CourseFactory(title="Algebra basics")
    module = ModuleFactory(course=course)
    lesson = LessonFactory(module=module)
    basic, advanced = SkillFactory(course=course), SkillFactory(course=course)
    SkillPrerequisite.objects.create(skill=advanced, requires=basic)
    exercise = ExerciseFactory(course=course)
    exercise.skills.set([basic])
    choice_exercise = ExerciseFactory(course=course, kind=Exercise.Kind.SINGLE, numeric_answer=None)
    ChoiceFactory(exercise=choice_exercise, is_correct=True)
    ChoiceFactory(exercise=choice_exercise)
    HintFactory(exercise=exercise)
    LessonBlockFactory(lesson=lesson)
    LessonBlockFactory(lesson=lesson, kind=LessonBlock.Kind.EXERCISE, body_md="", exercise=exercise)
    enrollment = EnrollmentFactory(course=course)
    AttemptFactory(user=enrollment.user, exercise=exercise)
    LessonEventFactory(user=enrollment.user, lesson=lesson)
    TeacherFactory()
    return {"course": course, "basic": basic, "advanced": advanced}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_courses_and_learners_model_is_registered():
    models = [*apps.get_app_config("courses").get_models()]
    models += [*apps.get_app_config("learners").get_models()]
    missing = [model.__name__ for model in models if model not in admin.site._registry]
    assert missing == []


def test_admin_pages_of_every_registered_model_load(admin_client, admin_user, rf, catalogue):
    request = rf.get("/admin/")
    request.user = admin_user
    failures = []
    for model, model_admin in admin.site._registry.items():
        pages = [(_url(model, "changelist"), 200)]
        can_add = model_admin.has_add_permission(request)
        pages.append((_url(model, "add"), 200 if can_add else 403))
        instance = model._default_manager.order_by("pk").first()
        if instance is not None:
            pages.append((_url(model, "change", instance.pk), 200))
        if model_admin.search_fields:
            pages.append((_url(model, "changelist") + "?q=algebra", 200))
        for url, expected in pages:
            status = admin_client.get(url).status_code
            if status != expected:
                failures.append(f"{url}: {status} (expected {expected})")
    assert failures == []


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("courses.course", "status__exact=published"),
        ("courses.exercise", "kind__exact=numeric"),
        ("learners.user", "role__exact=teacher"),
        ("learners.attempt", "is_correct__exact=1"),
        ("learners.lessonevent", "verb__exact=viewed"),
        ("courses.lessonblock", "kind__exact=exercise"),
    ],
)
def test_changelist_filters_narrow_the_list(admin_client, catalogue, model, query):
    model_class = apps.get_model(model)
    response = admin_client.get(f"{_url(model_class, 'changelist')}?{query}")
    assert response.status_code == 200
    field, value = query.split("__exact=")
    expected = model_class._default_manager.filter(**{field: value}).count()
    assert response.context["cl"].result_count == expected


def test_course_search_finds_by_title(admin_client, catalogue):
    CourseFactory(title="Geometry")
    response = admin_client.get(_url(apps.get_model("courses.course"), "changelist") + "?q=algebra")
    assert [course.title for course in response.context["cl"].result_list] == ["Algebra basics"]


def test_attempt_changelist_does_not_query_per_row(admin_client, django_assert_max_num_queries):
    exercise = ExerciseFactory()
    AttemptFactory.create_batch(30, exercise=exercise)
    # Session, user, count, rows, date hierarchy and filters: a constant, whatever the row count.
    with django_assert_max_num_queries(12):
        response = admin_client.get(_url(Attempt, "changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


@pytest.mark.parametrize("model", [Attempt, LessonEvent])
def test_activity_logs_are_read_only_in_admin(admin_client, catalogue, model):
    instance = model.objects.get()
    before = model.objects.count()
    change = admin_client.post(_url(model, "change", instance.pk), {"hints_used": 3})
    delete = admin_client.post(_url(model, "delete", instance.pk), {"post": "yes"})
    page = admin_client.get(_url(model, "change", instance.pk))
    assert (change.status_code, delete.status_code) == (403, 403)
    assert model.objects.count() == before
    assert page.status_code == 200
    assert not page.context["has_change_permission"]


def _skill_form(skill, requires_ids):
    data = {
        "course": skill.course_id,
        "name": skill.name,
        "description": "",
        "external_id": "",
        "prerequisite_links-TOTAL_FORMS": str(len(requires_ids)),
        "prerequisite_links-INITIAL_FORMS": "0",
        "prerequisite_links-MIN_NUM_FORMS": "0",
        "prerequisite_links-MAX_NUM_FORMS": "1000",
    }
    for index, requires_id in enumerate(requires_ids):
        data[f"prerequisite_links-{index}-requires"] = str(requires_id)
        data[f"prerequisite_links-{index}-skill"] = str(skill.pk)
    return data


def test_prerequisite_cycle_added_in_admin_is_a_form_error_naming_it(admin_client, catalogue):
    # given: advanced requires basic
    basic, advanced = catalogue["basic"], catalogue["advanced"]
    # when: basic is made to require advanced
    response = admin_client.post(
        _url(basic.__class__, "change", basic.pk), _skill_form(basic, [advanced.pk])
    )
    # then
    assert response.status_code == 200
    message = f"This prerequisite would close a cycle: {basic.name} requires {advanced.name}"
    assert message in response.content.decode()
    assert list(SkillPrerequisite.objects.values_list("skill_id", "requires_id")) == [
        (advanced.pk, basic.pk)
    ]


def test_prerequisite_added_in_admin_inline_is_saved(admin_client, catalogue):
    course = catalogue["course"]
    third = SkillFactory(course=course)
    response = admin_client.post(
        _url(third.__class__, "change", third.pk), _skill_form(third, [catalogue["advanced"].pk])
    )
    assert response.status_code == 302
    assert list(third.prerequisites.values_list("pk", flat=True)) == [catalogue["advanced"].pk]


def test_prerequisite_admin_add_refuses_a_cycle(admin_client, catalogue):
    basic, advanced = catalogue["basic"], catalogue["advanced"]
    response = admin_client.post(
        _url(SkillPrerequisite, "add"), {"skill": basic.pk, "requires": advanced.pk}
    )
    assert response.status_code == 200
    assert "would close a cycle" in response.content.decode()
    assert SkillPrerequisite.objects.count() == 1


def test_single_choice_exercise_with_two_correct_choices_is_refused(admin_client, catalogue):
    course = catalogue["course"]
    data = {
        "course": course.pk,
        "title": "Pick one",
        "prompt_md": "Which?",
        "kind": "single",
        "tolerance": "0",
        "accepted_answers": "[]",
        "explanation_md": "",
        "external_id": "",
        "choices-TOTAL_FORMS": "2",
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
        "choices-0-position": "1",
        "choices-0-text": "A",
        "choices-0-is_correct": "on",
        "choices-1-position": "2",
        "choices-1-text": "B",
        "choices-1-is_correct": "on",
        "hints-TOTAL_FORMS": "0",
        "hints-INITIAL_FORMS": "0",
        "hints-MIN_NUM_FORMS": "0",
        "hints-MAX_NUM_FORMS": "1000",
    }
    before = Exercise.objects.count()
    response = admin_client.post(_url(Exercise, "add"), data)
    assert response.status_code == 200
    assert "A single-choice exercise needs one correct choice." in response.content.decode()
    assert Exercise.objects.count() == before


def test_new_skill_with_a_prerequisite_from_another_course_is_refused(admin_client, catalogue):
    other_course_skill = SkillFactory()
    skill = Skill(course=catalogue["course"], name="Brand new")
    data = _skill_form(skill, [other_course_skill.pk])
    response = admin_client.post(_url(Skill, "add"), data)
    assert response.status_code == 200
    assert "must belong to the same course" in response.content.decode()
    assert not Skill.objects.filter(name="Brand new").exists()


def test_skill_prerequisites_set_replaces_edges_and_refuses_a_cycle(catalogue):
    basic, advanced = catalogue["basic"], catalogue["advanced"]
    third = SkillFactory(course=catalogue["course"])
    links = skill_prerequisites_set(skill=third, requires=[advanced, basic])
    assert [link.requires_id for link in links] == sorted([advanced.pk, basic.pk])
    with pytest.raises(PrerequisiteCycleError) as error:
        skill_prerequisites_set(skill=basic, requires=[third])
    assert error.value.extra["cycle"] == [basic.name, third.name, basic.name]
    assert skill_prerequisites_set(skill=third, requires=[advanced])[0].requires_id == advanced.pk
    assert SkillPrerequisite.objects.count() == 2
