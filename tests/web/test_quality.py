"""CSRF on every form, translated pages, landmarks and labels."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _pages(classroom):
    lesson = classroom.lessons[0]
    student_pages = [
        reverse("home"),
        reverse("courses:catalogue"),
        reverse("learners:course_detail", args=["algebra"]),
        reverse("learners:lesson", args=["algebra", lesson.pk]),
        reverse("adaptive:dashboard"),
        reverse("learners:profile"),
        reverse("learners:teach_request"),
    ]
    teacher_pages = [
        reverse("courses:studio_home"),
        reverse("courses:studio_course_create"),
        reverse("courses:studio_course", args=["algebra"]),
        reverse("courses:studio_lesson", args=["algebra", lesson.pk]),
        reverse("courses:studio_block_create", args=["algebra", lesson.pk]),
        reverse("courses:studio_block_edit", args=["algebra", classroom.video.pk]),
        reverse("courses:studio_exercises", args=["algebra"]),
        reverse("courses:studio_exercise_create", args=["algebra"]),
        reverse("courses:studio_exercise_edit", args=["algebra", classroom.single.pk]),
        reverse("courses:studio_skills", args=["algebra"]),
        reverse("adaptive:class_dashboard", args=["algebra"]),
        reverse("adaptive:class_learners", args=["algebra"]),
        reverse("adaptive:class_learner", args=["algebra", classroom.student.pk]),
    ]
    return student_pages, teacher_pages


def _all_pages(client, classroom):
    student_pages, teacher_pages = _pages(classroom)
    client.force_login(classroom.student)
    for url in student_pages:
        yield url, client.get(url)
    client.force_login(classroom.teacher)
    for url in teacher_pages:
        yield url, client.get(url)
    client.logout()
    for url in (
        reverse("learners:login"),
        reverse("learners:signup"),
        reverse("learners:password_reset"),
    ):
        yield url, client.get(url)


def test_every_post_form_carries_a_csrf_token(client, classroom):
    forms_seen = 0
    for url, response in _all_pages(client, classroom):
        assert response.status_code == 200, url
        html = response.content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
            if re.search(r'method="post"|hx-post=', form, flags=re.I):
                forms_seen += 1
                assert "csrfmiddlewaretoken" in form, (url, form[:200])
    assert forms_seen > 30


def test_a_post_without_csrf_token_is_refused(classroom):
    client = Client(enforce_csrf_checks=True)
    client.force_login(classroom.student)
    response = client.post(
        reverse("learners:attempt", args=[classroom.numeric.pk]), {"answer": "42"}
    )
    assert response.status_code == 403
    assert not classroom.numeric.attempts.exists()


def test_every_page_has_lang_landmarks_and_labelled_inputs(client, classroom):
    for url, response in _all_pages(client, classroom):
        html = response.content.decode()
        assert re.search(r'<html lang="en">', html), url
        for landmark in ('<main id="main"', "<nav ", "<header", "<footer"):
            assert landmark in html, (url, landmark)
        ids_with_label = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if re.search(r'type="(hidden|submit|radio|checkbox)"', tag):
                continue
            input_id = re.search(r'id="([^"]+)"', tag)
            assert input_id, (url, tag)
            assert input_id.group(1) in ids_with_label, (url, tag)


def test_pages_are_translated_into_simplified_chinese(client, classroom):
    client.cookies["django_language"] = "zh-hans"
    client.force_login(classroom.student)
    page = client.get(reverse("learners:course_detail", args=["algebra"])).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "课程大纲" in page  # "Syllabus"
    dashboard = client.get(reverse("adaptive:dashboard")).content.decode()
    assert "我的学习路径" in dashboard  # "My learning path"


def test_every_string_of_the_catalogue_has_a_chinese_translation():
    from pathlib import Path

    po = (Path(__file__).resolve().parents[2] / "locale/zh_Hans/LC_MESSAGES/django.po").read_text()
    entries = po.split("\n\n")[1:]
    untranslated = [
        entry for entry in entries if re.search(r'^msgstr(\[0\])? ""\Z', entry.strip(), re.M)
    ]
    assert len(entries) > 300
    assert untranslated == []
    assert "#, fuzzy" not in po
