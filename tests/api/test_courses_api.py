"""Catalogue API behaviour: what each caller sees and what the editors' writes store."""

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from courses.models import Course, Exercise, LessonBlock, Module, SkillPrerequisite
from tests.api.conftest import World, database_snapshot, error_of
from tests.factories import ExerciseFactory, HintFactory

API = "/api/v1"
ANSWER_KEYS = {
    "is_correct",
    "numeric_answer",
    "accepted_answers",
    "explanation_md",
    "explanation_html",
    "feedback",
    "hints",
    "tolerance",
}


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_anywhere(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_anywhere(item)}
    return set()


def png_upload(name: str = "chart.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 90, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# Courses ----------------------------------------------------------------------------------------


def test_course_list_shows_drafts_only_to_their_editors(world: World) -> None:
    def slugs(actor: str) -> list[str]:
        response = world.client(actor).get(f"{API}/courses")
        assert response.status_code == 200
        return [course["slug"] for course in response.json()["results"]]

    assert slugs("anonymous") == ["published-course"]
    assert slugs("student_a") == ["published-course"]
    assert slugs("other_teacher") == ["published-course"]
    assert slugs("owner") == ["draft-course", "published-course"]
    assert slugs("staff") == ["draft-course", "published-course"]


def test_course_list_is_paginated(world: World) -> None:
    response = world.client("owner").get(f"{API}/courses?page_size=1")

    body = response.json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"].endswith("page=2&page_size=1")
    assert body["previous"] is None


def test_course_create_makes_the_caller_owner_whatever_the_body_says(world: World) -> None:
    # given: a body that tries to set the owner, status and dates
    body = {
        "title": "Probability",
        "owner": world.users["student_b"].pk,
        "status": "published",
        "published_at": "2020-01-01T00:00:00Z",
        "description_md": "Dice <script>alert(1)</script> and **coins**.",
    }

    # when
    response = world.client("other_teacher").post(f"{API}/courses", body, format="json")

    # then
    assert response.status_code == 201, response.content
    course = Course.objects.get(pk=response.json()["id"])
    assert course.owner == world.users["other_teacher"]
    assert course.status == Course.Status.DRAFT
    assert course.published_at is None
    assert course.slug == "probability"
    assert response.json()["description_html"] == "<p>Dice  and <strong>coins</strong>.</p>"


def test_course_markdown_is_rendered_sanitised(world: World) -> None:
    Course.objects.filter(pk=world.published.course.pk).update(
        description_md='[x](javascript:alert(1)) <img src=x onerror="alert(1)">'
    )

    response = world.client("anonymous").get(f"{API}/courses/{world.published.course.pk}")

    html = response.json()["description_html"]
    assert "javascript:" not in html
    assert "onerror" not in html
    assert response.json()["description_md"].startswith("[x](javascript:")


def test_course_update_ignores_owner_and_status(world: World) -> None:
    course = world.published.course

    response = world.client("owner").patch(
        f"{API}/courses/{course.pk}",
        {"title": "Fractions, again", "owner": world.users["other_teacher"].pk, "status": "draft"},
        format="json",
    )

    assert response.status_code == 200
    course.refresh_from_db()
    assert course.title == "Fractions, again"
    assert course.owner == world.users["owner"]
    assert course.status == Course.Status.PUBLISHED


def test_course_cover_upload_is_stored(world: World) -> None:
    response = world.client("owner").patch(
        f"{API}/courses/{world.published.course.pk}",
        {"cover": png_upload("cover.png")},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    assert response.json()["cover"].startswith("http://testserver/media/courses/covers/cover")


def test_course_delete_archives_and_hides_it_from_students(world: World) -> None:
    course = world.published.course

    response = world.client("owner").delete(f"{API}/courses/{course.pk}")

    assert response.status_code == 204
    course.refresh_from_db()
    assert course.status == Course.Status.ARCHIVED
    assert world.client("student_a").get(f"{API}/courses/{course.pk}").status_code == 404
    assert world.client("owner").get(f"{API}/courses/{course.pk}").status_code == 200


def test_publish_and_unpublish(world: World) -> None:
    draft = world.draft.course

    published = world.client("owner").post(f"{API}/courses/{draft.pk}/publish")
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert published.json()["published_at"] is not None
    assert world.client("student_a").get(f"{API}/courses/{draft.pk}").status_code == 200

    unpublished = world.client("staff").post(f"{API}/courses/{draft.pk}/unpublish")
    assert unpublished.json()["status"] == "draft"
    assert world.client("student_a").get(f"{API}/courses/{draft.pk}").status_code == 404


def test_publishing_a_course_without_lessons_is_refused(world: World) -> None:
    created = world.client("owner").post(f"{API}/courses", {"title": "Empty"}, format="json")
    course_id = created.json()["id"]

    response = world.client("owner").post(f"{API}/courses/{course_id}/publish")

    assert response.status_code == 400
    assert error_of(response)["message"] == (
        "A course needs at least one lesson before it can be published."
    )
    assert Course.objects.get(pk=course_id).status == Course.Status.DRAFT


def test_instructor_may_edit_like_the_owner(world: World) -> None:
    course = world.published.course
    course.instructors.add(world.users["other_teacher"])

    response = world.client("other_teacher").patch(
        f"{API}/courses/{course.pk}", {"summary": "Co-taught."}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["instructors"] == [world.users["other_teacher"].pk]


# Modules, lessons, blocks -----------------------------------------------------------------------


def test_module_create_appends_and_reorder_renumbers(world: World) -> None:
    course = world.published.course
    client = world.client("owner")

    created = client.post(f"{API}/modules", {"course": course.pk, "title": "Ratios"}, format="json")
    assert created.status_code == 201
    assert created.json()["position"] == 3

    order = list(
        Module.objects.filter(course=course).order_by("-position").values_list("pk", flat=True)
    )
    response = client.post(
        f"{API}/modules/reorder", {"course": course.pk, "order": order}, format="json"
    )

    assert response.status_code == 200
    assert [module["id"] for module in response.json()] == order
    assert [module["position"] for module in response.json()] == [1, 2, 3]


def test_module_list_filters_by_course(world: World) -> None:
    response = world.client("owner").get(f"{API}/modules?course={world.draft.course.pk}")

    titles = [module["title"] for module in response.json()["results"]]
    assert titles == ["draft module", "draft second module"]


def test_lesson_create_with_skills_and_update_them(world: World) -> None:
    content = world.published
    client = world.client("owner")

    created = client.post(
        f"{API}/lessons",
        {"module": content.module.pk, "title": "Adding fractions", "skills": [content.skill.pk]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "adding-fractions"
    assert created.json()["skills"] == [content.skill.pk]
    assert created.json()["course"] == content.course.pk

    updated = client.patch(
        f"{API}/lessons/{created.json()['id']}",
        {"skills": [content.skill_2.pk, content.skill_3.pk]},
        format="json",
    )
    assert sorted(updated.json()["skills"]) == sorted([content.skill_2.pk, content.skill_3.pk])


def test_block_list_renders_markdown(world: World) -> None:
    response = world.client("student_a").get(f"{API}/blocks?lesson={world.published.lesson.pk}")

    blocks = response.json()["results"]
    assert [block["kind"] for block in blocks] == ["text", "video", "exercise"]
    assert blocks[0]["body_html"] == "<p>Read <em>this</em>.</p>"
    assert blocks[1]["media"] == "http://testserver/media/lessons/media/clip.mp4"
    assert blocks[2]["exercise"] == world.published.exercise.pk


def test_image_block_upload_is_checked_and_stored(world: World) -> None:
    response = world.client("owner").post(
        f"{API}/blocks",
        {
            "lesson": world.published.lesson.pk,
            "kind": "image",
            "alt_text": "A bar chart",
            "media": png_upload(),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    block = LessonBlock.objects.get(pk=response.json()["id"])
    assert block.position == 4
    assert block.media.name.startswith("lessons/media/chart")
    assert block.media.storage.exists(block.media.name)


def test_video_block_with_captions_upload(world: World) -> None:
    response = world.client("owner").post(
        f"{API}/blocks",
        {
            "lesson": world.published.lesson.pk,
            "kind": "video",
            "media": SimpleUploadedFile("intro.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64),
            "captions": SimpleUploadedFile("intro.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi"),
            "duration_seconds": "60",
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert response.json()["duration_seconds"] == 60
    assert response.json()["captions"].endswith(".vtt")


def test_block_reorder(world: World) -> None:
    lesson = world.published.lesson
    order = [world.published.exercise_block.pk, world.published.text_block.pk]
    order.append(world.published.video_block.pk)

    response = world.client("owner").post(
        f"{API}/blocks/reorder", {"lesson": lesson.pk, "order": order}, format="json"
    )

    assert response.status_code == 200
    positions = dict(LessonBlock.objects.filter(lesson=lesson).values_list("pk", "position"))
    assert [positions[pk] for pk in order] == [1, 2, 3]


# Skills -----------------------------------------------------------------------------------------


def test_prerequisite_add_and_remove(world: World) -> None:
    content = world.published
    client = world.client("owner")

    added = client.post(
        f"{API}/skills/{content.skill_3.pk}/prerequisites",
        {"requires": content.skill_2.pk},
        format="json",
    )
    assert added.status_code == 201
    assert added.json()["prerequisites"] == [content.skill_2.pk]

    removed = client.delete(f"{API}/skills/{content.skill_3.pk}/prerequisites/{content.skill_2.pk}")
    assert removed.status_code == 204
    assert not SkillPrerequisite.objects.filter(skill=content.skill_3).exists()


def test_prerequisite_from_another_course_is_refused(world: World) -> None:
    before = database_snapshot()

    response = world.client("owner").post(
        f"{API}/skills/{world.published.skill_3.pk}/prerequisites",
        {"requires": world.draft.skill.pk},
        format="json",
    )

    assert response.status_code == 400
    assert error_of(response)["message"] == (
        "A prerequisite must belong to the same course as the skill."
    )
    assert database_snapshot() == before


# Exercises --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["anonymous", "student_a", "other_teacher"])
@pytest.mark.parametrize("kind", ["single", "numeric", "text"])
def test_learners_never_receive_answers(world: World, actor: str, kind: str) -> None:
    # given: an exercise of each kind, with hints, in the published course
    exercise = world.published.exercise
    if kind != "single":
        exercise = ExerciseFactory(
            course=world.published.course,
            kind=kind,
            numeric_answer=42.0 if kind == "numeric" else None,
            accepted_answers=["forty-two"] if kind == "text" else [],
            explanation_md="Because.",
        )
        HintFactory(exercise=exercise, position=1, text="Think.")
    client = world.client(actor)

    # when
    detail = client.get(f"{API}/exercises/{exercise.pk}")
    listing = client.get(f"{API}/exercises?course={world.published.course.pk}")

    # then
    assert detail.status_code == 200
    assert keys_anywhere(detail.json()) & ANSWER_KEYS == set()
    assert keys_anywhere(listing.json()) & ANSWER_KEYS == set()
    assert "forty-two" not in detail.content.decode()
    assert "Because." not in detail.content.decode()
    assert detail.json()["hint_count"] == (2 if kind == "single" else 1)


def test_learner_sees_choices_without_correctness(world: World) -> None:
    response = world.client("student_a").get(f"{API}/exercises/{world.published.exercise.pk}")

    assert response.json()["choices"] == [
        {"id": world.published.correct_choice.pk, "text": "1/2", "text_html": "1/2", "position": 1},
        {"id": world.published.wrong_choice.pk, "text": "1/3", "text_html": "1/3", "position": 2},
    ]
    assert response.json()["prompt_html"] == "<p>Which is <em>half</em>?</p>"


@pytest.mark.parametrize("actor", ["owner", "staff"])
def test_editors_see_everything(world: World, actor: str) -> None:
    response = world.client(actor).get(f"{API}/exercises/{world.published.exercise.pk}")

    body = response.json()
    assert body["choices"][0] == {
        "id": world.published.correct_choice.pk,
        "text": "1/2",
        "text_html": "1/2",
        "position": 1,
        "is_correct": True,
        "feedback": "Right.",
        "feedback_html": "Right.",
    }
    assert body["hints"] == [
        {"position": 1, "text": "Split it in two.", "text_html": "Split it in two."},
        {"position": 2, "text": "Two equal parts.", "text_html": "Two equal parts."},
    ]
    assert body["explanation_md"] == "One half is 1/2."
    assert body["explanation_html"] == "<p>One half is 1/2.</p>"


def test_exercise_list_shows_answers_only_for_courses_the_caller_edits(world: World) -> None:
    # given: the other teacher edits their own course too
    world.client("other_teacher").post(f"{API}/courses", {"title": "Mine"}, format="json")
    own = Course.objects.get(slug="mine")
    ExerciseFactory(course=own, accepted_answers=[])

    response = world.client("other_teacher").get(f"{API}/exercises")

    shapes = {item["course"]: "explanation_md" in item for item in response.json()["results"]}
    assert shapes == {world.published.course.pk: False, own.pk: True}


def test_editors_read_hints_one_at_a_time(world: World) -> None:
    exercise = world.published.exercise
    client = world.client("owner")

    first = client.get(f"{API}/exercises/{exercise.pk}/hints/1")
    second = client.get(f"{API}/exercises/{exercise.pk}/hints/2")
    third = client.get(f"{API}/exercises/{exercise.pk}/hints/3")

    assert first.json() == {
        "position": 1,
        "text": "Split it in two.",
        "text_html": "Split it in two.",
        "hint_count": 2,
    }
    assert second.json()["text"] == "Two equal parts."
    assert third.status_code == 404


def test_a_learner_is_sent_to_the_recorded_hint_reveal(world: World) -> None:
    exercise = world.published.exercise

    response = world.client("student_a").get(f"{API}/exercises/{exercise.pk}/hints/1")

    assert response.status_code == 403
    assert f"POST /api/v1/exercises/{exercise.pk}/hints/next" in response.json()["error"]["message"]


def test_exercise_create_with_choices_hints_and_skills(world: World) -> None:
    content = world.published
    body = {
        "course": content.course.pk,
        "kind": "multiple",
        "title": "Even numbers",
        "prompt_md": "Pick the **even** numbers.",
        "choices": [
            {"text": "2", "is_correct": True, "feedback": "Yes."},
            {"text": "3"},
            {"text": "4", "is_correct": True},
        ],
        "hints": ["Divide by two."],
        "skills": [content.skill.pk],
        "explanation_md": "2 and 4 divide by 2.",
    }

    response = world.client("owner").post(f"{API}/exercises", body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert [(c["text"], c["is_correct"]) for c in created["choices"]] == [
        ("2", True),
        ("3", False),
        ("4", True),
    ]
    assert created["hints"] == [
        {"position": 1, "text": "Divide by two.", "text_html": "Divide by two."}
    ]
    assert created["skills"] == [content.skill.pk]
    assert Exercise.objects.get(pk=created["id"]).kind == Exercise.Kind.MULTIPLE


def test_exercise_update_replaces_choices(world: World) -> None:
    exercise = world.published.exercise

    response = world.client("owner").patch(
        f"{API}/exercises/{exercise.pk}",
        {"choices": [{"text": "0.5", "is_correct": True}, {"text": "0.3"}]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert [c["text"] for c in response.json()["choices"]] == ["0.5", "0.3"]


def test_unused_exercise_can_be_removed(world: World) -> None:
    exercise = ExerciseFactory(course=world.published.course)

    response = world.client("owner").delete(f"{API}/exercises/{exercise.pk}")

    assert response.status_code == 204
    assert not Exercise.objects.filter(pk=exercise.pk).exists()
