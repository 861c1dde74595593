"""`manage.py seed_demo` and the generative model of learning behind its simulated students."""

import re
import subprocess
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from courses.grading import answer_grade
from courses.models import (
    Choice,
    Course,
    Exercise,
    Hint,
    Lesson,
    LessonBlock,
    Module,
    Skill,
    SkillPrerequisite,
)
from courses.selectors import skill_prerequisite_graph
from courses.validators import validate_audio, validate_captions, validate_image, validate_video
from learners.demo import media
from learners.demo.seeding import DEMO_PASSWORD_STUDENT, DEMO_PASSWORD_TEACHER
from learners.demo.simulation import (
    LearnerState,
    SimulatedItem,
    cohort_simulate,
    learner_profile_sample,
    prerequisites_order,
    response_probability,
)
from learners.models import Attempt, Enrollment, LessonEvent, User

MODELS = (
    User,
    Course,
    Module,
    Lesson,
    LessonBlock,
    Skill,
    SkillPrerequisite,
    Exercise,
    Choice,
    Hint,
    Enrollment,
    Attempt,
    LessonEvent,
)


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--students", "5", "--seed", "7", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
def test_seed_demo_builds_the_promised_course_and_activity(client):
    # when
    output = _seed()
    # then: the catalogue
    course = Course.objects.get(slug="foundations-of-algebra")
    assert course.is_published
    assert course.owner.username == "teacher"
    assert Module.objects.filter(course=course).count() >= 3
    assert Lesson.objects.filter(module__course=course).count() >= 10
    assert Skill.objects.filter(course=course).count() >= 15
    exercises = list(Exercise.objects.filter(course=course).prefetch_related("hints", "choices"))
    assert len(exercises) >= 40
    assert {exercise.kind for exercise in exercises} == set(Exercise.Kind.values)
    assert all(exercise.hints.all() and exercise.explanation_md for exercise in exercises)
    assert all(
        choice.feedback
        for exercise in exercises
        for choice in exercise.choices.all()
        if exercise.kind in ("single", "multiple")
    )
    assert any(exercise.tolerance > 0 for exercise in exercises if exercise.kind == "numeric")
    # every exercise sits in a lesson; every lesson has text
    blocks = LessonBlock.objects.filter(lesson__module__course=course)
    assert set(blocks.exclude(exercise=None).values_list("exercise_id", flat=True)) == {
        exercise.pk for exercise in exercises
    }
    lessons = Lesson.objects.filter(module__course=course).count()
    assert blocks.filter(kind="text").values("lesson").distinct().count() == lessons
    assert blocks.filter(kind="text", body_md__contains="```python").exists()
    assert blocks.filter(kind="text", body_md__contains="$$").exists()
    # then: the prerequisite graph is a DAG with real edges
    graph = skill_prerequisite_graph(course=course)
    assert len(prerequisites_order(graph)) == len(graph)
    assert SkillPrerequisite.objects.filter(skill__course=course).count() >= 15
    # then: the accounts
    assert "teach-algebra-demo" in output
    assert client.login(username="teacher", password=DEMO_PASSWORD_TEACHER)
    assert client.login(username="maya", password=DEMO_PASSWORD_STUDENT)
    assert User.objects.get(username="teacher").role == User.Role.TEACHER
    assert User.objects.filter(username__startswith="sim-student-").count() == 5
    assert Enrollment.objects.filter(course=course).count() == 5 + 3
    # then: simulated attempts are graded the way the server would grade them
    attempts = list(Attempt.objects.filter(course=course).select_related("exercise"))
    assert len(attempts) > 100
    assert {attempt.user.username for attempt in attempts} >= {"maya", "leo"}
    assert not Attempt.objects.filter(user__username="sam").exists()
    assert all(
        answer_grade(exercise=attempt.exercise, answer=attempt.answer).is_correct
        == attempt.is_correct
        for attempt in attempts
    )
    assert LessonEvent.objects.filter(verb=LessonEvent.Verb.VIEWED).exists()
    assert (course.subject, course.level) == ("mathematics", "beginner")


@pytest.mark.django_db
def test_seed_demo_adds_a_statistics_course_with_its_own_skill_graph():
    _seed()
    course = Course.objects.get(slug="introduction-to-statistics")
    assert course.is_published
    assert (course.subject, course.level) == ("statistics", "intermediate")
    assert 8 <= Skill.objects.filter(course=course).count() <= 10
    graph = skill_prerequisite_graph(course=course)
    assert len(prerequisites_order(graph)) == len(graph)
    assert SkillPrerequisite.objects.filter(skill__course=course).count() >= 8
    exercises = list(Exercise.objects.filter(course=course).prefetch_related("hints", "choices"))
    assert len(exercises) >= 20
    assert {exercise.kind for exercise in exercises} == set(Exercise.Kind.values)
    assert all(exercise.hints.all() and exercise.explanation_md for exercise in exercises)
    blocks = LessonBlock.objects.filter(lesson__module__course=course)
    assert {"text", "image", "exercise"} <= set(blocks.values_list("kind", flat=True))
    assert blocks.filter(kind="text", body_md__contains="$$").exists()
    assert set(blocks.exclude(exercise=None).values_list("exercise_id", flat=True)) == {
        exercise.pk for exercise in exercises
    }
    # the worked numbers of the lessons are the grader's answers
    assert answer_grade(exercise=_exercise(course, "The mean"), answer="40").is_correct
    assert answer_grade(exercise=_exercise(course, "The median"), answer="37.5").is_correct
    assert answer_grade(exercise=_exercise(course, "The upper fence"), answer="62.5").is_correct
    attempts = list(Attempt.objects.filter(course=course).select_related("exercise"))
    assert len(attempts) > 50
    assert all(
        answer_grade(exercise=attempt.exercise, answer=attempt.answer).is_correct
        == attempt.is_correct
        for attempt in attempts
    )
    assert Enrollment.objects.filter(course=course).count() == 5 + 3


def _exercise(course: Course, title: str) -> Exercise:
    return Exercise.objects.get(course=course, title=title)


@pytest.mark.django_db
def test_seed_demo_media_pass_the_upload_validators():
    _seed()
    blocks = {
        block.kind: block
        for block in LessonBlock.objects.filter(
            lesson__module__course__slug="foundations-of-algebra"
        ).exclude(media="")
    }
    assert set(blocks) == {"video", "audio", "image"}
    for kind, validator in (
        ("video", validate_video),
        ("audio", validate_audio),
        ("image", validate_image),
    ):
        with blocks[kind].media.open("rb") as stored:
            validator(stored)
    with blocks["video"].captions.open("rb") as captions:
        validate_captions(captions)
    with blocks["video"].media.open("rb") as video:
        assert video.read(12)[4:8] == b"ftyp"
    assert blocks["video"].media.name.endswith(".mp4")
    assert blocks["image"].alt_text
    stats_images = LessonBlock.objects.filter(
        lesson__module__course__slug="introduction-to-statistics", kind="image"
    )
    assert stats_images.count() == 2
    for block in stats_images:
        assert block.alt_text
        with block.media.open("rb") as stored:
            validate_image(stored)


@pytest.mark.django_db
def test_demo_narration_is_spoken_and_its_captions_and_transcripts_say_exactly_it():
    assert media.speech_executable(), "espeak-ng is installed by platform/ensure_media_tools.sh"
    _seed()
    video = LessonBlock.objects.get(
        kind="video", lesson__module__course__slug="foundations-of-algebra"
    )
    audio = LessonBlock.objects.get(
        kind="audio", lesson__module__course__slug="foundations-of-algebra"
    )
    narration = media.narration_make(media.NUMBER_LINE_NARRATION)
    assert video.transcript == " ".join(media.NUMBER_LINE_NARRATION)
    assert audio.transcript == " ".join(media.EVALUATION_NARRATION)
    assert video.duration_seconds == round(narration.seconds) > 6
    # the captions: one cue per spoken sentence, in order, within the video
    with video.captions.open("rb") as stored:
        vtt = stored.read().decode()
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)", vtt)
    assert [text for _, _, text in cues] == list(media.NUMBER_LINE_NARRATION)
    assert cues[-1][1] <= f"00:00:{narration.seconds:06.3f}"
    # the MP4 carries an AAC narration track next to the H.264 video
    with video.media.open("rb") as stored:
        probe = subprocess.run(
            [media.ffmpeg_executable(), "-hide_banner", "-i", "pipe:0"],
            input=stored.read(),
            capture_output=True,
            check=False,
        ).stderr.decode()
    assert "Video: h264" in probe
    assert "Audio: aac" in probe
    # the audio block is speech of the length the narration says, not a tone
    with audio.media.open("rb") as stored:
        spoken = stored.read()
    assert len(spoken) > media.SAMPLE_RATE * 2 * 5  # over five seconds of 16-bit mono
    assert audio.duration_seconds == round(media.narration_make(media.EVALUATION_NARRATION).seconds)


def test_the_number_line_video_only_ever_shows_true_sums():
    narration = media.Narration(
        cues=(
            media.Cue("a", 0.4, 3.0),
            media.Cue("b", 3.3, 6.1),
            media.Cue("c", 6.5, 10.0),
            media.Cue("d", 10.4, 14.0),
        ),
        seconds=14.8,
        pcm=None,
    )
    shown = set()
    for frame in range(int(narration.seconds * media.VIDEO_FPS)):
        position, caption = media.number_line_state(narration, frame / media.VIDEO_FPS)
        shown.add(caption)
        sum_shown = re.fullmatch(r"-3 \+ (\d) = (-?\d+)", caption)
        if sum_shown:
            steps, total = int(sum_shown[1]), int(sum_shown[2])
            assert total == -3 + steps
            assert total <= position < total + 1  # the marker has reached the sum shown
        else:
            assert caption in {"Start at -3", "-3 + 5 = ?"}
            assert position == -3
    assert {f"-3 + {k} = {k - 3}" for k in range(1, 6)} <= shown


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    _seed()
    before = _counts()
    output = _seed()
    assert _counts() == before
    assert "already exist" in output
    assert "teacher" in output
    assert DEMO_PASSWORD_STUDENT in output


def test_prerequisites_order_puts_prerequisites_first_and_refuses_a_cycle():
    assert prerequisites_order({3: {1, 2}, 2: {1}, 1: set()}) == [1, 2, 3]
    with pytest.raises(ValueError, match="cycle"):
        prerequisites_order({1: {2}, 2: {1}})


def test_simulated_students_learn_with_practice():
    chain = {skill: ({skill - 1} if skill else set()) for skill in range(6)}
    items = [SimulatedItem(key=key, skills=(key % 6,), guess=0.2, hints=2) for key in range(18)]
    responses = cohort_simulate(learners=150, items=items, prerequisites=chain, seed=3)
    by_try: dict[int, list[bool]] = {}
    tries: dict[tuple[int, int], int] = {}
    for response in responses:
        key = (response.learner, response.skills[0])
        by_try.setdefault(tries.get(key, 0), []).append(response.is_correct)
        tries[key] = tries.get(key, 0) + 1
    first, fifth = np.mean(by_try[0]), np.mean(by_try[4])
    assert fifth > first + 0.2
    # responses are reproducible from the seed
    again = cohort_simulate(learners=150, items=items, prerequisites=chain, seed=3)
    assert again == responses


def test_response_probability_is_slip_or_guess():
    profile = learner_profile_sample(np.random.default_rng(0))
    item = SimulatedItem(key=1, skills=(1, 2), guess=0.25)
    assert response_probability(LearnerState(profile, {1}), item) == 0.25
    assert response_probability(LearnerState(profile, {1, 2}), item) == 1 - profile.slip


@pytest.mark.django_db
def test_without_espeak_the_demo_is_built_silently_with_a_warning(monkeypatch):
    real_which = media.shutil.which
    monkeypatch.setattr(
        media.shutil,
        "which",
        lambda name: None if name.startswith("espeak") else real_which(name),
    )
    media.narration_make.cache_clear()
    try:
        output = _seed()
        video = LessonBlock.objects.get(
            kind="video", lesson__module__course__slug="foundations-of-algebra"
        )
        assert not LessonBlock.objects.filter(kind="audio").exists()
        assert "No espeak-ng found" in output
        with video.captions.open("rb") as stored:
            assert media.NUMBER_LINE_NARRATION[-1] in stored.read().decode()
    finally:
        media.narration_make.cache_clear()


@pytest.mark.django_db
def test_every_demo_learner_was_enrolled_before_their_first_answer_and_lesson_event():
    from django.db.models import Min

    _seed()
    first_attempt = {
        (row["user_id"], row["course_id"]): row["first"]
        for row in Attempt.objects.values("user_id", "course_id").annotate(first=Min("created_at"))
    }
    first_event = {
        (row["user_id"], row["lesson__module__course_id"]): row["first"]
        for row in LessonEvent.objects.values("user_id", "lesson__module__course_id").annotate(
            first=Min("created_at")
        )
    }
    checked = 0
    for enrollment in Enrollment.objects.all():
        key = (enrollment.user_id, enrollment.course_id)
        for first in (first_attempt.get(key), first_event.get(key)):
            if first is not None:
                assert enrollment.enrolled_at <= first, (enrollment.user.username, key)
                checked += 1
    # The named students with a past (maya, leo) were the ones enrolled after their answers.
    for username in ("maya", "leo"):
        assert Attempt.objects.filter(user__username=username).exists()
    assert checked > 2 * 5
