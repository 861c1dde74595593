"""Bad input gets 400/404/413/415 in the error shape, never a 500, and writes nothing."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from courses.models import Choice, Exercise, LessonBlock, Module
from learners.models import Attempt, LessonEvent
from tests.api.conftest import World, database_snapshot, error_of

API = "/api/v1"


def png_bytes(size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def raw_post(world: World, actor: str, path: str, body: bytes | str, content_type: str):
    return world.client(actor).generic("POST", path, body, content_type=content_type)


# Malformed bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b"{'exercise': 1}", id="single-quotes"),
        pytest.param(b'{"exercise": NaN, "answer": 1}', id="nan"),
        pytest.param(b'{"exercise": 1, "answer": Infinity}', id="infinity"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b"[" * 50_000 + b"]" * 50_000, id="nested-too-deep"),
    ],
)
def test_malformed_json_is_a_400_parse_error(world: World, body: bytes) -> None:
    before = database_snapshot()

    response = raw_post(world, "student_a", f"{API}/attempts", body, "application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "parse_error"
    assert error["message"].startswith("JSON parse error")
    assert database_snapshot() == before


def test_json_number_overflowing_to_infinity_is_a_400(world: World) -> None:
    body = f'{{"lesson": {world.published.lesson.pk}, "verb": "played", "position_seconds": 1e400}}'
    before = database_snapshot()

    response = raw_post(world, "student_a", f"{API}/lesson-events", body, "application/json")

    assert response.status_code == 400
    assert "position_seconds" in error_of(response)["fields"]
    assert database_snapshot() == before


def test_json_that_is_not_an_object_is_a_400(world: World) -> None:
    before = database_snapshot()

    response = raw_post(world, "student_a", f"{API}/attempts", b"[1, 2]", "application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert database_snapshot() == before


def test_unsupported_content_type_is_a_415(world: World) -> None:
    before = database_snapshot()

    response = raw_post(world, "owner", f"{API}/courses", "title=x", "text/plain")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert database_snapshot() == before


# Oversized bodies -------------------------------------------------------------------------------


def test_json_body_over_the_default_limit_is_a_413(world: World, settings) -> None:
    # given: a body one byte over DATA_UPLOAD_MAX_MEMORY_SIZE (2 MiB by default)
    padding = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"title": "Too big", "description_md": padding}).encode()
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    before = database_snapshot()

    response = raw_post(world, "owner", f"{API}/courses", body, "application/json")

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "request_too_large"
    assert "limit" in error["message"]
    assert database_snapshot() == before


def test_form_body_over_the_limit_is_a_413(world: World, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = database_snapshot()

    response = raw_post(
        world,
        "owner",
        f"{API}/courses",
        "title=Big&summary=" + "y" * 2000,
        "application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"
    assert database_snapshot() == before


def test_multipart_text_field_over_the_limit_is_a_413(world: World, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = database_snapshot()

    response = world.client("owner").post(
        f"{API}/blocks",
        {"lesson": world.published.lesson.pk, "kind": "text", "body_md": "z" * 5000},
        format="multipart",
    )

    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"
    assert database_snapshot() == before


def test_multipart_upload_over_every_limit_is_a_413(world: World, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.PATHWISE_MAX_UPLOAD_BYTES = 1000
    before = database_snapshot()

    response = world.client("owner").post(
        f"{API}/blocks",
        {
            "lesson": world.published.lesson.pk,
            "kind": "video",
            "media": SimpleUploadedFile("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"0" * 5000),
        },
        format="multipart",
    )

    assert response.status_code == 413
    assert database_snapshot() == before


# Bad uploads ------------------------------------------------------------------------------------


def _upload_block(world: World, **fields):
    return world.client("owner").post(
        f"{API}/blocks", {"lesson": world.published.lesson.pk, **fields}, format="multipart"
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        pytest.param(
            {"kind": "image", "alt_text": "A", "media": ("chart.png", b"this is not a png")},
            "media",
            "not a valid image",
            id="png-that-is-not-an-image",
        ),
        pytest.param(
            {"kind": "image", "alt_text": "A", "media": ("chart.exe", "PNG")},
            "media",
            "must end in one of",
            id="image-with-wrong-extension",
        ),
        pytest.param(
            {"kind": "video", "media": ("clip.mp4", b"plain text pretending")},
            "media",
            "not a video",
            id="mp4-that-is-not-a-video",
        ),
        pytest.param(
            {"kind": "audio", "media": ("sound.mp3", b"")},
            "media",
            "empty",
            id="empty-file",
        ),
        pytest.param(
            {
                "kind": "video",
                "media": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"0" * 64),
                "captions": ("captions.vtt", b"1\n00:00.000 --> 00:01.000\nHi"),
            },
            "captions",
            "WEBVTT",
            id="captions-that-are-not-webvtt",
        ),
        pytest.param(
            {"kind": "text", "body_md": "Hi", "media": ("page.html", b"<script>alert(1)</script>")},
            "media",
            "carries no media file",
            id="file-on-a-text-block",
        ),
        pytest.param(
            {"kind": "image", "media": ("chart.png", "PNG")},
            "alt_text",
            "",
            id="image-without-alt-text",
        ),
    ],
)
def test_bad_upload_is_a_400_and_stores_no_block(
    world: World, fields: dict, field: str, words: str
) -> None:
    # given
    payload = dict(fields)
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, content = value
            content = png_bytes() if content == "PNG" else content
            payload[name] = SimpleUploadedFile(filename, content)
    blocks_before = LessonBlock.objects.count()
    before = database_snapshot()

    # when
    response = _upload_block(world, **payload)

    # then
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert field in error["message"] or field in error["fields"] or "alt" in error["message"]
    assert words in error["message"] or any(words in str(v) for v in error["fields"].values())
    assert LessonBlock.objects.count() == blocks_before
    assert database_snapshot() == before


def test_image_over_the_size_limit_is_a_400(world: World, settings) -> None:
    settings.PATHWISE_MAX_IMAGE_BYTES = 50
    before = database_snapshot()

    response = _upload_block(
        world, kind="image", alt_text="Chart", media=SimpleUploadedFile("chart.png", png_bytes())
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["fields"]["media"] == [
        f"The file is {len(png_bytes())} bytes; the limit is 50 bytes."
    ]
    assert database_snapshot() == before


def test_course_cover_that_is_not_an_image_is_a_400(world: World) -> None:
    before = database_snapshot()

    response = world.client("owner").patch(
        f"{API}/courses/{world.published.course.pk}",
        {"cover": SimpleUploadedFile("cover.png", b"GIF89a but not really")},
        format="multipart",
    )

    assert response.status_code == 400
    assert "cover" in error_of(response)["fields"]
    assert database_snapshot() == before


# Wrong types and values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"exercise": "abc"}, "exercise", id="exercise-not-an-id"),
        pytest.param({"exercise": 1.5}, "exercise", id="exercise-a-float"),
        pytest.param({"exercise": True}, "exercise", id="exercise-a-boolean"),
        pytest.param({"exercise": [1]}, "exercise", id="exercise-a-list"),
        pytest.param({"exercise": 987654321}, "exercise", id="exercise-unknown"),
        pytest.param({"exercise": 99999999999999999999}, "exercise", id="exercise-huge"),
        pytest.param({"hints_used": "many"}, "hints_used", id="hints-not-a-number"),
        pytest.param({"hints_used": -1}, "hints_used", id="hints-negative"),
        pytest.param({"duration_ms": -5}, "duration_ms", id="duration-negative"),
        pytest.param({"answer": "half"}, "non_field_errors", id="answer-text-for-single"),
        pytest.param({"answer": [1, 2]}, "non_field_errors", id="answer-list-for-single"),
        pytest.param({"answer": None}, "answer", id="answer-null"),
        pytest.param({"answer": 123456789}, "non_field_errors", id="answer-unknown-choice"),
        pytest.param({"answer": "a\u0000b"}, "answer", id="answer-with-null-character"),
        pytest.param({"answer": "x" * 20_000}, "answer", id="answer-too-long"),
    ],
)
def test_bad_attempt_is_a_400_and_stores_nothing(world: World, changes: dict, field: str) -> None:
    body = {"exercise": world.published.exercise.pk, "answer": world.published.correct_choice.pk}
    body.update(changes)
    attempts_before = Attempt.objects.count()
    before = database_snapshot()

    response = world.client("student_a").post(f"{API}/attempts", body, format="json")

    assert response.status_code == 400, response.content
    error = error_of(response)
    assert field in error["fields"]
    assert Attempt.objects.count() == attempts_before
    assert database_snapshot() == before


def test_missing_attempt_fields_are_named(world: World) -> None:
    response = world.client("student_a").post(f"{API}/attempts", {}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["fields"] == {
        "exercise": ["This field is required."],
        "answer": ["This field is required."],
    }
    assert error["message"] == "exercise: This field is required."


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"verb": "danced"}, id="unknown-verb"),
        pytest.param({"position_seconds": "later"}, id="position-not-a-number"),
        pytest.param({"position_seconds": -1}, id="position-negative"),
        pytest.param({"position_seconds": "Infinity"}, id="position-infinite"),
        pytest.param({"position_seconds": "nan"}, id="position-nan"),
        pytest.param({"position_seconds": 500}, id="position-past-the-end"),
        pytest.param({"lesson": "first"}, id="lesson-not-an-id"),
        pytest.param({"block": 987654321}, id="block-unknown"),
        pytest.param({"block": "TEXT_BLOCK_OF_OTHER_LESSON"}, id="block-of-another-lesson"),
    ],
)
def test_bad_lesson_event_is_a_400_and_stores_nothing(world: World, body: dict) -> None:
    payload = {
        "lesson": world.published.lesson.pk,
        "block": world.published.video_block.pk,
        "verb": "played",
        "position_seconds": 10,
        **body,
    }
    if payload["block"] == "TEXT_BLOCK_OF_OTHER_LESSON":
        other_lesson = world.published.module.lessons.exclude(pk=world.published.lesson.pk).get()
        payload["lesson"] = other_lesson.pk
        payload["block"] = world.published.video_block.pk
    events_before = LessonEvent.objects.count()

    response = world.client("student_a").post(f"{API}/lesson-events", payload, format="json")

    assert response.status_code == 400, response.content
    error_of(response)
    assert LessonEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("modules", {"course": "PUBLISHED", "title": ["a"]}, id="module-title-list"),
        pytest.param("modules", {"course": 987654321, "title": "M"}, id="module-course-unknown"),
        pytest.param("modules", {"title": "M"}, id="module-course-missing"),
        pytest.param("modules", {"course": "PUBLISHED", "title": ""}, id="module-title-empty"),
        pytest.param(
            "modules", {"course": "PUBLISHED", "title": "x" * 201}, id="module-title-too-long"
        ),
        pytest.param(
            "lessons",
            {"module": "MODULE", "title": "L", "estimated_minutes": -3},
            id="lesson-minutes-negative",
        ),
        pytest.param(
            "lessons",
            {"module": "MODULE", "title": "L", "slug": "not a slug!"},
            id="lesson-slug-invalid",
        ),
        pytest.param(
            "lessons",
            {"module": "MODULE", "title": "L", "skills": ["DRAFT_SKILL"]},
            id="lesson-skill-of-draft-course",
        ),
        pytest.param("blocks", {"lesson": "LESSON", "kind": "poem"}, id="block-kind-unknown"),
        pytest.param("blocks", {"lesson": "LESSON", "kind": "exercise"}, id="block-no-exercise"),
        pytest.param(
            "blocks",
            {"lesson": "LESSON", "kind": "exercise", "exercise": "DRAFT_EXERCISE"},
            id="block-exercise-of-another-course",
        ),
        pytest.param(
            "skills", {"course": "PUBLISHED", "name": "published fractions"}, id="skill-dup"
        ),
        pytest.param(
            "exercises",
            {"course": "PUBLISHED", "kind": "single", "prompt_md": "?"},
            id="exercise-single-without-choices",
        ),
        pytest.param(
            "exercises",
            {
                "course": "PUBLISHED",
                "kind": "single",
                "prompt_md": "?",
                "choices": [{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}],
            },
            id="exercise-single-two-correct",
        ),
        pytest.param(
            "exercises",
            {"course": "PUBLISHED", "kind": "numeric", "prompt_md": "?"},
            id="exercise-numeric-without-answer",
        ),
        pytest.param(
            "exercises",
            {"course": "PUBLISHED", "kind": "numeric", "prompt_md": "?", "numeric_answer": "x"},
            id="exercise-numeric-answer-not-a-number",
        ),
        pytest.param(
            "exercises",
            {"course": "PUBLISHED", "kind": "text", "prompt_md": "?", "accepted_answers": []},
            id="exercise-text-without-answers",
        ),
        pytest.param(
            "exercises",
            {
                "course": "PUBLISHED",
                "kind": "numeric",
                "prompt_md": "?",
                "numeric_answer": 1,
                "tolerance": -1,
            },
            id="exercise-negative-tolerance",
        ),
        pytest.param(
            "exercises",
            {
                "course": "PUBLISHED",
                "kind": "numeric",
                "prompt_md": "?",
                "numeric_answer": 1,
                "hints": ["  "],
            },
            id="exercise-blank-hint",
        ),
        pytest.param("courses", {"title": "C", "language": "klingon"}, id="course-language"),
        pytest.param("courses", {"title": "C", "slug": "published-course"}, id="course-slug-taken"),
        pytest.param("courses", {"summary": "no title"}, id="course-title-missing"),
    ],
)
def test_bad_catalogue_input_is_a_400_and_writes_nothing(
    world: World, path: str, body: dict
) -> None:
    # given: placeholders name objects of the world
    names = {
        "PUBLISHED": world.published.course.pk,
        "MODULE": world.published.module.pk,
        "LESSON": world.published.lesson.pk,
        "DRAFT_SKILL": world.draft.skill.pk,
        "DRAFT_EXERCISE": world.draft.exercise.pk,
    }

    def resolve(value):
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return names.get(value, value) if isinstance(value, str) else value

    payload = {key: resolve(value) for key, value in body.items()}
    before = database_snapshot()

    # when
    response = world.client("owner").post(f"{API}/{path}", payload, format="json")

    # then
    assert response.status_code == 400, response.content
    error_of(response)
    assert database_snapshot() == before


def test_prerequisite_cycle_names_the_cycle_and_adds_nothing(world: World) -> None:
    # given: "decimals" already requires "fractions"
    content = world.published
    before = database_snapshot()

    # when: "fractions" would require "decimals"
    response = world.client("owner").post(
        f"{API}/skills/{content.skill.pk}/prerequisites",
        {"requires": content.skill_2.pk},
        format="json",
    )

    # then
    assert response.status_code == 400
    error = error_of(response)
    assert error["message"] == (
        "This prerequisite would close a cycle: published fractions requires "
        "published decimals requires published fractions."
    )
    assert database_snapshot() == before


def test_reorder_with_a_wrong_id_list_changes_no_position(world: World) -> None:
    module_ids = list(
        Module.objects.filter(course=world.published.course)
        .order_by("position")
        .values_list("pk", "position")
    )
    before = database_snapshot()

    response = world.client("owner").post(
        f"{API}/modules/reorder",
        {"course": world.published.course.pk, "order": [module_ids[0][0]]},
        format="json",
    )

    assert response.status_code == 400
    assert "exactly once" in error_of(response)["message"]
    assert database_snapshot() == before


def test_removing_an_answered_exercise_is_refused(world: World) -> None:
    before = database_snapshot()

    response = world.client("owner").delete(f"{API}/exercises/{world.published.exercise.pk}")

    assert response.status_code == 400
    assert "cannot be removed" in error_of(response)["message"]
    assert Exercise.objects.filter(pk=world.published.exercise.pk).exists()
    assert Choice.objects.filter(exercise=world.published.exercise).count() == 2
    assert database_snapshot() == before


# Unknown ids and paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "courses/987654321",
        "courses/abc",
        "courses/99999999999999999999",
        "courses/-1",
        "modules/987654321",
        "lessons/1.5",
        "blocks/987654321/resume",
        "exercises/987654321/hints/1",
        "exercises/EXERCISE/hints/0",
        "exercises/EXERCISE/hints/99999999999",
        "attempts/987654321",
        "enrollments/987654321",
        "lesson-events/987654321",
        "no/such/endpoint",
    ],
)
def test_unknown_ids_and_paths_are_404_in_the_error_shape(world: World, path: str) -> None:
    path = path.replace("EXERCISE", str(world.published.exercise.pk))

    response = world.client("owner").get(f"{API}/{path}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_removing_an_unknown_prerequisite_is_a_404(world: World) -> None:
    before = database_snapshot()

    response = world.client("owner").delete(
        f"{API}/skills/{world.published.skill.pk}/prerequisites/987654321"
    )

    assert response.status_code == 404
    error_of(response)
    assert database_snapshot() == before


@pytest.mark.parametrize(
    "query",
    ["modules?course=abc", "lessons?module=-2", "attempts?course=1.5", "skills?course=1e3"],
)
def test_bad_filter_is_a_400(world: World, query: str) -> None:
    response = world.client("student_a").get(f"{API}/{query}")

    assert response.status_code == 400
    error_of(response)


def test_page_out_of_range_is_a_404(world: World) -> None:
    response = world.client("student_a").get(f"{API}/courses?page=999")

    assert response.status_code == 404
    error_of(response)


def test_method_not_allowed_has_its_own_code(world: World) -> None:
    response = world.client("student_a").put(f"{API}/me", {}, format="json")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


GARBAGE_BODIES = [
    [],
    "just a string",
    12345,
    None,
    {"title": {"nested": [1, 2]}, "name": ["x"], "kind": 5, "verb": []},
    {"course": 99999999999999999999, "module": -1, "lesson": "1; DROP TABLE", "order": "abc"},
    {"exercise": "EXERCISE", "answer": {"a": [1, {"b": 2}]}, "hints_used": 10**30},
    {"lesson": "LESSON", "verb": "played", "position_seconds": True, "block": False},
    dict.fromkeys(
        (
            "course",
            "module",
            "lesson",
            "title",
            "kind",
            "prompt_md",
            "choices",
            "hints",
            "skills",
            "order",
            "requires",
            "exercise",
            "answer",
            "verb",
            "media",
            "email",
        )
    ),
    {"course": "COURSE", "kind": "single", "prompt_md": "?", "choices": [{"text": None}, 3]},
    {"course": "COURSE", "order": [0, -1, 2**40]},
    {"requires": "SKILL", "skills": ["SKILL", "SKILL", "x"]},
]

WRITE_PATHS = [
    "courses",
    "courses/COURSE",
    "courses/COURSE/publish",
    "modules",
    "modules/MODULE",
    "modules/reorder",
    "lessons",
    "lessons/LESSON",
    "lessons/reorder",
    "blocks",
    "blocks/BLOCK",
    "blocks/reorder",
    "skills",
    "skills/SKILL",
    "skills/SKILL3/prerequisites",
    "exercises",
    "exercises/EXERCISE",
    "enrollments",
    "enrollments/ENROLLMENT/drop",
    "attempts",
    "lesson-events",
    "me",
    "auth/token",
]


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_garbage_never_causes_a_server_error(world: World, path: str) -> None:
    # given: placeholders name objects of the world
    content = world.published
    names = {
        "COURSE": content.course.pk,
        "MODULE": content.module.pk,
        "LESSON": content.lesson.pk,
        "BLOCK": content.text_block.pk,
        "SKILL3": content.skill_3.pk,
        "SKILL": content.skill.pk,
        "EXERCISE": content.exercise.pk,
        "ENROLLMENT": world.enrollment_a.pk,
    }

    def resolve(value):
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return names.get(value, value) if isinstance(value, str) else value

    url = f"{API}/{path}"
    for name, pk in names.items():
        url = url.replace(name, str(pk))

    # The owner gets past every permission check, so the input reaches validation.
    client = world.client("owner")
    for body in GARBAGE_BODIES:
        for method in ("post", "put", "patch"):
            # when
            response = getattr(client, method)(url, resolve(body), format="json")

            # then: refused in the error shape, or accepted; never a crash
            assert response.status_code < 500, (method, url, body, response.content)
            if response.status_code >= 400:
                error_of(response)
