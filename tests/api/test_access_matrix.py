"""Access rules as a matrix: every endpoint x every method x six actors, exact status codes.

Actors, in the order of every expectation tuple: anonymous, student A, student B, the owning
teacher, another teacher, staff. Student A and B are enrolled in the published course; the
draft course belongs to the owning teacher. A refused request (4xx) and every read must leave
the database exactly as it was.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import ACTORS, PASSWORD, World, database_snapshot, error_of

Expected = tuple[int, int, int, int, int, int]


def everyone(code: int) -> Expected:
    return (code,) * 6


def signed_in(code: int) -> Expected:
    """Anyone logged in gets `code`; the anonymous caller is asked to log in."""
    return (401, code, code, code, code, code)


def editors_of_published(code: int) -> Expected:
    """Owner and staff may; the other teacher sees the course but may not change it."""
    return (401, 403, 403, code, 403, code)


def editors_of_draft(code: int) -> Expected:
    """Owner and staff may; to the other teacher the draft does not exist."""
    return (401, 403, 403, code, 404, code)


def learners(code: int, others: int) -> Expected:
    """The enrolled students get `code`; teachers and staff (not enrolled) get `others`."""
    return (401, code, code, others, others, others)


def student_a_only(code: int) -> Expected:
    return (401, code, 404, 404, 404, 404)


DRAFT_READ: Expected = (404, 404, 404, 200, 404, 200)
CREATE_IN_DRAFT: Expected = (401, 403, 403, 201, 400, 201)
REORDER_IN_DRAFT: Expected = (401, 403, 403, 200, 400, 200)
# Catalogue writes need a teacher before the method is even looked at.
TEACHER_THEN_405: Expected = (401, 403, 403, 405, 405, 405)

Body = Callable[[World], dict[str, Any]] | None


@dataclass(frozen=True)
class Case:
    method: str
    label: str
    path: Callable[[World], str]
    expected: Expected
    body: Body = None


CASES: list[Case] = []


def case(
    method: str, label: str, path: Callable[[World], str], expected: Expected, body: Body = None
) -> None:
    CASES.append(Case(method, label, path, expected, body))


API = "/api/v1"

# Courses ----------------------------------------------------------------------------------------
case("GET", "courses", lambda w: f"{API}/courses", everyone(200))
case(
    "POST",
    "courses",
    lambda w: f"{API}/courses",
    (401, 403, 403, 201, 201, 201),
    lambda w: {"title": "Brand new course"},
)
for method in ("PUT", "PATCH", "DELETE"):
    case(method, "courses", lambda w: f"{API}/courses", TEACHER_THEN_405)
for state, read, edit in (
    ("published", everyone(200), editors_of_published),
    ("draft", DRAFT_READ, editors_of_draft),
):

    def course_path(w: World, state: str = state) -> str:
        return f"{API}/courses/{getattr(w, state).course.pk}"

    case("GET", f"course-{state}", course_path, read)
    case("PUT", f"course-{state}", course_path, edit(200), lambda w: {"title": "Retitled"})
    case("PATCH", f"course-{state}", course_path, edit(200), lambda w: {"summary": "Shorter."})
    case("DELETE", f"course-{state}", course_path, edit(204))
    case("POST", f"course-{state}", course_path, TEACHER_THEN_405)
    for verb in ("publish", "unpublish"):
        case(
            "POST",
            f"course-{state}-{verb}",
            lambda w, state=state, verb=verb: f"{course_path(w, state)}/{verb}",
            edit(200),
        )
        case(
            "GET",
            f"course-{state}-{verb}",
            lambda w, state=state, verb=verb: f"{course_path(w, state)}/{verb}",
            everyone(405),
        )

    # Co-instructors: only the owner and staff choose them (a co-instructor edits, not this).
    case(
        "POST",
        f"course-{state}-instructors",
        lambda w, state=state: f"{course_path(w, state)}/instructors",
        edit(201),
        lambda w: {"username": w.users["other_teacher"].username},
    )
    case(
        "POST",
        f"course-{state}-instructors-student",
        lambda w, state=state: f"{course_path(w, state)}/instructors",
        edit(400),
        lambda w: {"username": w.users["student_a"].username},
    )
    case(
        "POST",
        f"course-{state}-instructors-nobody",
        lambda w, state=state: f"{course_path(w, state)}/instructors",
        edit(400),
        lambda w: {"username": "no-such-person"},
    )
    case(
        "DELETE",
        f"course-{state}-instructor",
        lambda w, state=state: f"{course_path(w, state)}/instructors/{w.users['other_teacher'].pk}",
        edit(204),
    )
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        case(
            method,
            f"course-{state}-instructors",
            lambda w, state=state: f"{course_path(w, state)}/instructors",
            everyone(405) if method == "GET" else TEACHER_THEN_405,
        )


# Content: modules, lessons, blocks, skills, exercises -------------------------------------------


@dataclass(frozen=True)
class Resource:
    prefix: str
    item: Callable[[Any], Any]
    create: Callable[[Any], dict[str, Any]]
    update: dict[str, Any]
    delete_code: int = 204
    reorder: Callable[[Any], dict[str, Any]] | None = None
    # The published course's module and lesson carry learner events, which outlive content.
    delete_code_published: int | None = None


RESOURCES = (
    Resource(
        "modules",
        lambda c: c.module,
        lambda c: {"course": c.course.pk, "title": "New module"},
        {"title": "Renamed module"},
        delete_code_published=400,
        reorder=lambda c: {
            "course": c.course.pk,
            "order": list(c.course.modules.order_by("-position").values_list("pk", flat=True)),
        },
    ),
    Resource(
        "lessons",
        lambda c: c.lesson,
        lambda c: {"module": c.module.pk, "title": "New lesson", "skills": [c.skill.pk]},
        {"title": "Renamed lesson"},
        delete_code_published=400,
        reorder=lambda c: {
            "module": c.module.pk,
            "order": list(c.module.lessons.order_by("-position").values_list("pk", flat=True)),
        },
    ),
    Resource(
        "blocks",
        lambda c: c.text_block,
        lambda c: {"lesson": c.lesson.pk, "kind": "text", "body_md": "More *text*."},
        {"kind": "text", "body_md": "Changed."},
        reorder=lambda c: {
            "lesson": c.lesson.pk,
            "order": list(c.lesson.blocks.order_by("-position").values_list("pk", flat=True)),
        },
    ),
    Resource(
        "skills",
        lambda c: c.skill_3,
        lambda c: {"course": c.course.pk, "name": "Ratios"},
        {"name": "Renamed skill"},
    ),
    Resource(
        "exercises",
        lambda c: c.exercise,
        lambda c: {
            "course": c.course.pk,
            "kind": "numeric",
            "prompt_md": "1 + 1?",
            "numeric_answer": 2,
        },
        {"kind": "single", "prompt_md": "Which one is *half*?"},
        # The exercise is shown in a lesson (and answered), so removing it is refused.
        delete_code=400,
    ),
)

for resource in RESOURCES:
    prefix = resource.prefix
    collection = f"{API}/{prefix}"
    case("GET", prefix, lambda w, c=collection: c, everyone(200))
    case(
        "POST",
        f"{prefix}-in-published",
        lambda w, c=collection: c,
        editors_of_published(201),
        lambda w, r=resource: r.create(w.published),
    )
    case(
        "POST",
        f"{prefix}-in-draft",
        lambda w, c=collection: c,
        CREATE_IN_DRAFT,
        lambda w, r=resource: r.create(w.draft),
    )
    for method in ("PUT", "PATCH", "DELETE"):
        case(method, prefix, lambda w, c=collection: c, TEACHER_THEN_405)
    for state, read, edit in (
        ("published", everyone(200), editors_of_published),
        ("draft", DRAFT_READ, editors_of_draft),
    ):

        def item_path(w: World, r: Resource = resource, state: str = state) -> str:
            return f"{API}/{r.prefix}/{r.item(getattr(w, state)).pk}"

        label = f"{prefix}-{state}"
        case("GET", label, item_path, read)
        case("PUT", label, item_path, edit(200), lambda w, r=resource: r.update)
        case("PATCH", label, item_path, edit(200), lambda w, r=resource: r.update)
        delete_code = resource.delete_code
        if state == "published" and resource.delete_code_published is not None:
            delete_code = resource.delete_code_published
        case("DELETE", label, item_path, edit(delete_code))
        case("POST", label, item_path, TEACHER_THEN_405)
    if resource.reorder is not None:
        reorder_path = f"{collection}/reorder"
        case(
            "POST",
            f"{prefix}-reorder-published",
            lambda w, p=reorder_path: p,
            editors_of_published(200),
            lambda w, r=resource: r.reorder(w.published),
        )
        case(
            "POST",
            f"{prefix}-reorder-draft",
            lambda w, p=reorder_path: p,
            REORDER_IN_DRAFT,
            lambda w, r=resource: r.reorder(w.draft),
        )
        case("GET", f"{prefix}-reorder", lambda w, p=reorder_path: p, everyone(405))

for state, _read, edit in (
    ("published", everyone(200), editors_of_published),
    ("draft", DRAFT_READ, editors_of_draft),
):

    def content(w: World, state: str = state) -> Any:
        return getattr(w, state)

    # Skill prerequisites: add (skill_3 requires skill_2), add closing a cycle, remove.
    case(
        "POST",
        f"skill-prerequisite-add-{state}",
        lambda w, s=state: f"{API}/skills/{content(w, s).skill_3.pk}/prerequisites",
        edit(201),
        lambda w, s=state: {"requires": content(w, s).skill_2.pk},
    )
    case(
        "POST",
        f"skill-prerequisite-cycle-{state}",
        lambda w, s=state: f"{API}/skills/{content(w, s).skill.pk}/prerequisites",
        edit(400),
        lambda w, s=state: {"requires": content(w, s).skill_2.pk},
    )
    case(
        "GET",
        f"skill-prerequisites-{state}",
        lambda w, s=state: f"{API}/skills/{content(w, s).skill.pk}/prerequisites",
        everyone(405),
    )
    case(
        "DELETE",
        f"skill-prerequisite-remove-{state}",
        lambda w, s=state: (
            f"{API}/skills/{content(w, s).skill_2.pk}/prerequisites/{content(w, s).skill.pk}"
        ),
        edit(204),
    )
    # Hints, one at a time, for enrolled learners and editors only (courses.permissions).
    case(
        "GET",
        f"exercise-hint-{state}",
        lambda w, s=state: f"{API}/exercises/{content(w, s).exercise.pk}/hints/1",
        # learners reveal hints with POST hints/next, which records them; a draft stays unseen
        edit(200) if state == "published" else DRAFT_READ,
    )
    case(
        "GET",
        f"exercise-hint-missing-{state}",
        lambda w, s=state: f"{API}/exercises/{content(w, s).exercise.pk}/hints/3",
        edit(404) if state == "published" else everyone(404),
    )
    case(
        "POST",
        f"exercise-hint-{state}",
        lambda w, s=state: f"{API}/exercises/{content(w, s).exercise.pk}/hints/1",
        TEACHER_THEN_405,
    )
    # The attempt policy: the caller's own state, recorded hint reveals and solutions; an
    # editor who is not enrolled may look but records nothing (400: enrol first).
    published = state == "published"
    case(
        "GET",
        f"exercise-state-{state}",
        lambda w, s=state: f"{API}/exercises/{content(w, s).exercise.pk}/state",
        signed_in(200) if published else (401, 404, 404, 200, 404, 200),
    )
    for action in ("hints/next", "solution"):
        case(
            "POST",
            f"exercise-{action}-{state}",
            lambda w, s=state, a=action: f"{API}/exercises/{content(w, s).exercise.pk}/{a}",
            learners(200, 400) if published else (401, 404, 404, 400, 404, 400),
        )
    case(
        "GET",
        f"block-resume-{state}",
        lambda w, s=state: f"{API}/blocks/{content(w, s).video_block.pk}/resume",
        signed_in(200) if state == "published" else (401, 404, 404, 200, 404, 200),
    )
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        case(
            method,
            f"block-resume-{state}",
            lambda w, s=state: f"{API}/blocks/{content(w, s).video_block.pk}/resume",
            signed_in(405),
        )

# Learner activity -------------------------------------------------------------------------------
case("GET", "enrollments", lambda w: f"{API}/enrollments", signed_in(200))
case(
    "POST",
    "enrollments-published",
    lambda w: f"{API}/enrollments",
    signed_in(201),
    lambda w: {"course": w.published.course.pk},
)
case(
    "POST",
    "enrollments-draft",
    lambda w: f"{API}/enrollments",
    signed_in(400),
    lambda w: {"course": w.draft.course.pk},
)
case(
    "GET",
    "enrollment-of-a",
    lambda w: f"{API}/enrollments/{w.enrollment_a.pk}",
    student_a_only(200),
)
case(
    "POST",
    "enrollment-of-a-drop",
    lambda w: f"{API}/enrollments/{w.enrollment_a.pk}/drop",
    student_a_only(200),
)
case(
    "GET",
    "enrollment-of-a-drop",
    lambda w: f"{API}/enrollments/{w.enrollment_a.pk}/drop",
    signed_in(405),
)
for method in ("PUT", "PATCH", "DELETE"):
    case(method, "enrollments", lambda w: f"{API}/enrollments", signed_in(405))
for method in ("POST", "PUT", "PATCH", "DELETE"):
    case(
        method,
        "enrollment-of-a",
        lambda w: f"{API}/enrollments/{w.enrollment_a.pk}",
        signed_in(405),
    )

case("GET", "attempts", lambda w: f"{API}/attempts", signed_in(200))
case(
    "GET",
    "attempts-of-course",
    lambda w: f"{API}/attempts?course={w.published.course.pk}",
    signed_in(200),
)
case(
    "POST",
    "attempts-published",
    lambda w: f"{API}/attempts",
    learners(201, 400),
    lambda w: {"exercise": w.published.exercise.pk, "answer": w.published.correct_choice.pk},
)
case(
    "POST",
    "attempts-draft",
    lambda w: f"{API}/attempts",
    signed_in(400),
    lambda w: {"exercise": w.draft.exercise.pk, "answer": w.draft.correct_choice.pk},
)
for method in ("PUT", "PATCH", "DELETE"):
    case(method, "attempts", lambda w: f"{API}/attempts", signed_in(405))
case("GET", "attempt-of-a", lambda w: f"{API}/attempts/{w.attempt_a.pk}", student_a_only(200))
for method in ("POST", "PUT", "PATCH", "DELETE"):
    case(
        method,
        "attempt-of-a",
        lambda w: f"{API}/attempts/{w.attempt_a.pk}",
        signed_in(405),
        lambda w: {"is_correct": False},
    )

case("GET", "lesson-events", lambda w: f"{API}/lesson-events", signed_in(200))
case(
    "POST",
    "lesson-events-published",
    lambda w: f"{API}/lesson-events",
    learners(201, 400),
    lambda w: {
        "lesson": w.published.lesson.pk,
        "block": w.published.video_block.pk,
        "verb": "played",
        "position_seconds": 12.5,
    },
)
case(
    "POST",
    "lesson-events-draft",
    lambda w: f"{API}/lesson-events",
    signed_in(400),
    lambda w: {"lesson": w.draft.lesson.pk, "verb": "viewed"},
)
for method in ("PUT", "PATCH", "DELETE"):
    case(method, "lesson-events", lambda w: f"{API}/lesson-events", signed_in(405))
case(
    "GET", "lesson-event-of-a", lambda w: f"{API}/lesson-events/{w.event_a.pk}", student_a_only(200)
)
for method in ("POST", "PUT", "PATCH", "DELETE"):
    case(
        method, "lesson-event-of-a", lambda w: f"{API}/lesson-events/{w.event_a.pk}", signed_in(405)
    )

case("GET", "me", lambda w: f"{API}/me", signed_in(200))
case("PATCH", "me", lambda w: f"{API}/me", signed_in(200), lambda w: {"first_name": "Ada"})
for method in ("POST", "PUT", "DELETE"):
    case(method, "me", lambda w: f"{API}/me", signed_in(405))
case("GET", "me-progress", lambda w: f"{API}/me/progress", signed_in(200))
for method in ("POST", "PUT", "PATCH", "DELETE"):
    case(method, "me-progress", lambda w: f"{API}/me/progress", signed_in(405))

case(
    "POST",
    "auth-token",
    lambda w: f"{API}/auth/token",
    everyone(200),
    lambda w: {"username": "student_a", "password": PASSWORD},
)
for method in ("GET", "PUT", "PATCH", "DELETE"):
    case(method, "auth-token", lambda w: f"{API}/auth/token", everyone(405))

# Adaptive loop ----------------------------------------------------------------------------------
EDIT_DRAFT_OR_HIDE: Expected = (401, 404, 404, 200, 404, 200)
for method in ("GET", "PUT", "PATCH", "DELETE"):
    case(method, "recommend", lambda w: f"{API}/recommend", signed_in(405))
case(
    "POST",
    "recommend-for-student-a",
    lambda w: f"{API}/recommend",
    (401, 200, 403, 200, 403, 200),
    lambda w: {"user_id": w.users["student_a"].pk, "course": w.published.course.pk},
)
case(
    "POST",
    "recommend-in-draft",
    lambda w: f"{API}/recommend",
    (401, 404, 404, 400, 404, 400),
    lambda w: {"user_id": w.users["student_a"].pk, "last_lesson": w.draft.lesson.pk},
)
for name in ("learning-path", "mastery"):
    case("GET", f"me-{name}", lambda w, n=name: f"{API}/me/{n}", signed_in(200))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        case(method, f"me-{name}", lambda w, n=name: f"{API}/me/{n}", signed_in(405))
for name in ("mastery", "models"):
    case(
        "GET",
        f"course-{name}-published",
        lambda w, n=name: f"{API}/courses/{w.published.course.pk}/{n}",
        editors_of_published(200),
    )
    case(
        "GET",
        f"course-{name}-draft",
        lambda w, n=name: f"{API}/courses/{w.draft.course.pk}/{n}",
        EDIT_DRAFT_OR_HIDE,
    )
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        case(
            method,
            f"course-{name}",
            lambda w, n=name: f"{API}/courses/{w.published.course.pk}/{n}",
            signed_in(405),
        )
case(
    "POST",
    "course-retrain-published",
    lambda w: f"{API}/courses/{w.published.course.pk}/retrain",
    editors_of_published(202),
    lambda w: {"kind": "bkt"},
)
case(
    "POST",
    "course-retrain-draft",
    lambda w: f"{API}/courses/{w.draft.course.pk}/retrain",
    (401, 404, 404, 202, 404, 202),
    lambda w: {"kind": "gru", "epochs": 2},
)
for method in ("GET", "PUT", "PATCH", "DELETE"):
    case(
        method,
        "course-retrain",
        lambda w: f"{API}/courses/{w.published.course.pk}/retrain",
        signed_in(405),
    )
case(
    "GET",
    "training-run-of-course",
    lambda w: f"{API}/training-runs/{w.course_run.pk}",
    (401, 404, 404, 200, 404, 200),
)
case(
    "GET",
    "training-run-global",
    lambda w: f"{API}/training-runs/{w.global_run.pk}",
    (401, 404, 404, 404, 404, 200),
)
case("GET", "training-run-unknown", lambda w: f"{API}/training-runs/999999", signed_in(404))
for method in ("POST", "PUT", "PATCH", "DELETE"):
    case(
        method,
        "training-run",
        lambda w: f"{API}/training-runs/{w.course_run.pk}",
        signed_in(405),
    )

case("GET", "unknown-endpoint", lambda w: f"{API}/no-such-thing", everyone(404))
case("POST", "unknown-endpoint", lambda w: f"{API}/courses/1/no-such-action", everyone(404))


PARAMS = [
    pytest.param(item, actor, index, id=f"{item.method} {item.label} as {actor}")
    for item in CASES
    for index, actor in enumerate(ACTORS)
]


@pytest.mark.parametrize(("item", "actor", "index"), PARAMS)
def test_access(world: World, item: Case, actor: str, index: int) -> None:
    # given
    expected = item.expected[index]
    path = item.path(world)
    body = item.body(world) if item.body else None
    before = database_snapshot()

    # when
    response = getattr(world.client(actor), item.method.lower())(path, body, format="json")

    # then
    assert response.status_code == expected, (path, response.content[:500])
    if expected >= 400:
        error_of(response)
    if expected >= 400 or item.method == "GET":
        assert database_snapshot() == before


OPTIONS_PATHS = [
    ("courses", 200),
    ("courses/{draft_course}", 200),
    ("courses/{draft_course}/publish", 200),
    ("modules", 200),
    ("modules/reorder", 200),
    ("lessons/{draft_lesson}", 200),
    ("blocks", 200),
    ("skills/{draft_skill}/prerequisites", 200),
    ("exercises/{draft_exercise}", 200),
    ("exercises/{draft_exercise}/hints/1", 200),
    ("auth/token", 200),
    ("enrollments", 401),
    ("attempts", 401),
    ("attempts/{attempt_a}", 401),
    ("lesson-events", 401),
    ("me", 401),
    ("me/progress", 401),
    ("blocks/{draft_video}/resume", 401),
]


@pytest.mark.parametrize(("template", "anonymous_code"), OPTIONS_PATHS)
@pytest.mark.parametrize("actor", ["anonymous", "student_b", "other_teacher"])
def test_options_and_head_reveal_nothing_and_change_nothing(
    world: World, template: str, anonymous_code: int, actor: str
) -> None:
    # given
    path = f"{API}/" + template.format(
        draft_course=world.draft.course.pk,
        draft_lesson=world.draft.lesson.pk,
        draft_skill=world.draft.skill.pk,
        draft_exercise=world.draft.exercise.pk,
        draft_video=world.draft.video_block.pk,
        attempt_a=world.attempt_a.pk,
    )
    before = database_snapshot()
    client = world.client(actor)

    # when
    options = client.options(path)
    head = client.head(path)

    # then
    assert options.status_code == (anonymous_code if actor == "anonymous" else 200)
    for private in (b"Draft course", b"draft module", b"Split it in two", b"student_a"):
        assert private not in options.content
    assert head.status_code < 500
    assert database_snapshot() == before


def test_a_co_instructor_added_through_the_api_edits_but_does_not_choose_instructors(
    world: World,
) -> None:
    # given
    course = world.published.course
    colleague = world.users["other_teacher"]
    owner = world.client("owner")

    # when
    added = owner.post(
        f"{API}/courses/{course.pk}/instructors", {"user": colleague.pk}, format="json"
    )

    # then
    assert added.status_code == 201
    assert added.json()["instructors"] == [colleague.pk]
    as_colleague = world.client("other_teacher")
    edited = as_colleague.patch(
        f"{API}/courses/{course.pk}", {"summary": "Co-taught."}, format="json"
    )
    assert edited.status_code == 200
    refused = as_colleague.delete(f"{API}/courses/{course.pk}/instructors/{colleague.pk}")
    assert refused.status_code == 403
    assert "owner" in error_of(refused)["message"]
    removed = world.client("owner").delete(f"{API}/courses/{course.pk}/instructors/{colleague.pk}")
    assert removed.status_code == 204
    assert not course.instructors.exists()
    again = world.client("other_teacher").patch(
        f"{API}/courses/{course.pk}", {"summary": "Not any more."}, format="json"
    )
    assert again.status_code == 403
