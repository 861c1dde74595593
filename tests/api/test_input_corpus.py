"""A corpus of hostile input against every query parameter, path id and body field in the OpenAPI
schema, and against every form of the web pages: not one answer is a 5xx.

The corpus: unicode digits, NUL, huge numbers, deep JSON, long strings, markup and SQL. Each API
operation is called as the owning teacher (who reaches the most code), with the corpus value in
each query parameter, in each path id, and in every body field at once.
"""

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from tests.api.conftest import World, error_of

TEXT_CORPUS = [
    "\u00b2",  # superscript two: str.isdigit() says yes, int() says no
    "\u0663\u0661",  # Arabic-Indic digits
    "\uff11\uff12",  # full-width digits
    "\x00",
    "a\x00b",
    "9" * 5000,
    "-1",
    "0",
    "1e309",
    "NaN",
    "x" * 100_000,
    "[" * 3000 + "]" * 3000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\U0001f4a5",
    " ",
]
JSON_CORPUS: list[Any] = [
    *TEXT_CORPUS,
    10**400,
    -(10**30),
    1e308,
    -1,
    True,
    None,
    [],
    {},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    {"a": {"b": {"c": ["\x00"]}}},
]


@pytest.fixture
def schema(world: World) -> dict[str, Any]:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def _real_path(path: str, world: World) -> str:
    content = world.published
    ids = {
        "courses": content.course.pk,
        "modules": content.module.pk,
        "lessons": content.lesson.pk,
        "blocks": content.video_block.pk,
        "skills": content.skill_2.pk,
        "exercises": content.exercise.pk,
        "enrollments": world.enrollment_a.pk,
        "attempts": world.attempt_a.pk,
        "lesson-events": world.event_a.pk,
        "training-runs": world.course_run.pk,
    }
    resource = path.split("/")[3]
    path = path.replace("{id}", str(ids.get(resource, 1)))
    path = path.replace("{requires_id}", str(content.skill.pk))
    return path.replace("{position}", "1")


def _call(client, method: str, path: str, **kwargs: Any):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code < 500, (method, path, kwargs.get("data"), response.content[:300])
    if response.status_code >= 400:
        error_of(response)  # the JSON error body, with a message
    return response


@pytest.fixture
def owner(world: World):
    client = world.client("owner")
    client.raise_request_exception = False  # a crash must show as the 500 it would be
    yield client
    client.raise_request_exception = True


def test_no_query_parameter_answers_a_5xx(world: World, schema, owner) -> None:
    calls = 0
    for path, method, operation in _operations(schema):
        query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for name in query:
            for value in TEXT_CORPUS:
                _call(owner, method, f"{_real_path(path, world)}?{name}={quote(value)}")
                calls += 1
    assert calls > 200  # every filter, page and page_size was tried


def test_no_path_id_answers_a_5xx(world: World, schema, owner) -> None:
    for path, method, _operation in _operations(schema):
        if "{" not in path:
            continue
        for value in TEXT_CORPUS[:10]:
            hostile = re.sub(r"\{[a-z_]+\}", quote(value, safe=""), path)
            _call(owner, method, hostile[:8000], data={}, format="json")


def _body_fields(operation: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].split("/")[-1]]
    return list(body.get("properties", {}))


def test_no_body_field_answers_a_5xx(world: World, schema, owner) -> None:
    operations = 0
    for path, method, operation in _operations(schema):
        fields = _body_fields(operation, schema)
        if not fields:
            continue
        operations += 1
        target = _real_path(path, world)
        for value in JSON_CORPUS:
            _call(owner, method, target, data=dict.fromkeys(fields, value), format="json")
        # 3,000 levels deep: more than the encoder (and Python's json) would nest.
        deep = "[" * 3000 + "1" + "]" * 3000
        body = "{" + ", ".join(f'"{name}": {deep}' for name in fields) + "}"
        response = owner.generic(method.upper(), target, body, content_type="application/json")
        assert response.status_code == 400, (method, target)
        assert "nested" in error_of(response)["message"]
    assert operations > 20


# Web forms --------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The POST forms of a page: action and field names."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            action = attributes.get("action") or attributes.get("hx-post") or ""
            self.forms.append((action, []))
        elif tag in ("input", "select", "textarea") and self.forms and attributes.get("name"):
            name = attributes["name"] or ""
            if name != "csrfmiddlewaretoken":
                self.forms[-1][1].append(name)


def _pages(world: World) -> list[str]:
    content = world.published
    course = content.course
    return [
        "/",
        "/courses/",
        "/accounts/signup/",
        "/accounts/login/",
        "/accounts/profile/",
        "/accounts/password/",
        "/accounts/password-reset/",
        f"/courses/{course.slug}/",
        f"/courses/{course.slug}/lessons/{content.lesson.pk}/",
        "/dashboard/",
        "/studio/",
        "/studio/courses/new/",
        f"/studio/courses/{course.slug}/",
        f"/studio/courses/{course.slug}/exercises/",
        f"/studio/courses/{course.slug}/skills/",
        f"/studio/courses/{course.slug}/class/",
        f"/studio/courses/{course.slug}/lessons/{content.lesson.pk}/",
    ]


@pytest.mark.parametrize("actor", ["student_a", "owner"])
def test_no_web_form_answers_a_5xx(world: World, actor: str) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.users[actor])
    forms: dict[str, set[str]] = {}
    for page in _pages(world):
        response = client.get(page)
        assert response.status_code < 500, page
        parser = _Forms()
        parser.feed(response.content.decode())
        for action, names in parser.forms:
            forms.setdefault(action or page, set()).update(names)
    assert len(forms) >= 5, forms
    for action, names in forms.items():
        if "logout" in action:
            continue
        for value in TEXT_CORPUS:
            response = client.post(action, dict.fromkeys(names, value))
            assert response.status_code < 500, (action, names, value[:40])
        client.force_login(world.users[actor])  # a form may have changed the session


@pytest.mark.parametrize("value", TEXT_CORPUS, ids=range(len(TEXT_CORPUS)))
def test_no_catalogue_query_answers_a_5xx(world: World, value: str) -> None:
    client = Client(raise_request_exception=False)
    for name in ("q", "language", "page"):
        assert client.get("/courses/", {name: value}).status_code < 500
