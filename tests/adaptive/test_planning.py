"""The planner is pure: graphs, snapshots and steps, no database."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from adaptive.planning import (
    CourseGraph,
    ExerciseNode,
    LearnerSnapshot,
    LessonNode,
    PlannerConfig,
    SkillNode,
    plan_build,
    ready_skills,
    reason_sentence,
    skill_order,
)

# Integers -> Fractions -> Ratios; Integers -> Equations.
GRAPH = CourseGraph(
    skills=(
        SkillNode(1, "Integers"),
        SkillNode(2, "Fractions", (1,)),
        SkillNode(3, "Ratios", (2,)),
        SkillNode(4, "Equations", (1,)),
    ),
    lessons=(
        LessonNode(10, "Whole numbers", (1,), 0),
        LessonNode(11, "Parts of a whole", (2,), 1),
        LessonNode(12, "Ratios", (3,), 2),
        LessonNode(13, "Solving for x", (4,), 3),
    ),
    exercises=(
        ExerciseNode(100, "Add", (1,)),
        ExerciseNode(101, "Halves", (2,)),
        ExerciseNode(102, "Thirds", (2,)),
        ExerciseNode(103, "Quarters", (2,)),
        ExerciseNode(104, "Ratio", (3,)),
        ExerciseNode(105, "x + 1 = 2", (4,)),
    ),
)


def test_skill_order_puts_prerequisites_first():
    assert skill_order(GRAPH.skills) == [1, 2, 4, 3]


def test_only_skills_with_mastered_prerequisites_are_ready():
    # given Integers mastered, the others not
    mastery = {1: 0.97, 2: 0.3, 3: 0.0, 4: 0.5}

    # when
    ready = ready_skills(GRAPH, LearnerSnapshot(mastery=mastery), PlannerConfig())

    # then Fractions (unlocks Ratios, so more gain) before Equations; Ratios is not ready
    assert [skill for skill, _ in ready] == [2, 4]
    assert ready[0][1] == (0.95 - 0.3) * 1.5
    assert ready[1][1] == 0.95 - 0.5


def test_plan_starts_with_the_lesson_then_exercises_in_the_band_unseen_first():
    learner = LearnerSnapshot(
        mastery={1: 0.99, 2: 0.4, 3: 0.0, 4: 0.99},
        predicted_success={100: 0.97, 101: 0.6, 102: 0.7, 103: 0.3, 104: 0.1, 105: 0.95},
        attempted_exercise_ids=frozenset({102}),
    )

    steps = plan_build(GRAPH, learner, PlannerConfig(max_steps=5))

    assert [(s.kind, s.lesson_id, s.exercise_id) for s in steps] == [
        ("lesson", 11, None),
        ("exercise", None, 101),
        ("exercise", None, 102),
    ]
    assert steps[1].reason == {
        "kind": "exercise",
        "skill": "Fractions",
        "skill_id": 2,
        "status": "learning",
        "mastery": 0.4,
        "percent": 40,
        "threshold": 0.95,
        "prerequisite_of": ["Ratios"],
        "expected_gain": 0.825,
        "exercise": "Halves",
        "predicted_success": 0.6,
        "band": [0.5, 0.85],
        "seen": False,
    }


def test_completed_lessons_are_skipped_and_k_caps_the_path():
    learner = LearnerSnapshot(
        mastery={1: 0.1},
        completed_lesson_ids=frozenset({10}),
        predicted_success={100: 0.6},
    )

    steps = plan_build(GRAPH, learner, PlannerConfig(max_steps=1))

    assert [(s.kind, s.exercise_id) for s in steps] == [("exercise", 100)]


def test_spaced_review_of_a_mastered_skill_not_practised_for_a_while():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    learner = LearnerSnapshot(
        mastery={1: 0.99, 2: 0.99, 3: 0.99, 4: 0.99},
        predicted_success={100: 0.9},
        last_practised={1: now - timedelta(days=10), 2: now - timedelta(days=1)},
    )

    steps = plan_build(GRAPH, learner, now=now)

    assert [(s.kind, s.skill_id, s.exercise_id) for s in steps] == [("review", 1, 100)]
    assert steps[0].reason["days_since_practice"] == 10


def test_mastered_means_the_shown_status_one_rounding():
    # given Integers shown at 0.9496: its bar reads 95%, the goal is 95%, so it is mastered
    learner = LearnerSnapshot(mastery={1: 0.9496, 2: 0.1})

    steps = plan_build(GRAPH, learner, PlannerConfig(max_steps=1))

    # then the learner is never told "your mastery is 95% and the goal is 95%": they move on
    assert [(s.kind, s.skill_id) for s in steps] == [("lesson", 2)]
    just_below = plan_build(GRAPH, LearnerSnapshot(mastery={1: 0.9449}), PlannerConfig())
    assert just_below[0].skill_id == 1
    assert "94%" in reason_sentence(just_below[0].reason)


def test_a_solved_exercise_is_not_practised_again_while_others_remain():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    learner = LearnerSnapshot(
        mastery={1: 0.99, 2: 0.5},
        completed_lesson_ids=frozenset({11}),
        predicted_success={101: 0.6, 102: 0.6, 103: 0.6},
        attempted_exercise_ids=frozenset({101}),
        solved_at={101: now - timedelta(minutes=5)},
    )

    steps = plan_build(GRAPH, learner, PlannerConfig(max_steps=5), now=now)

    fractions = [s.exercise_id for s in steps if s.skill_id == 2]
    assert 101 not in fractions
    assert fractions == [102, 103]


def test_when_every_exercise_is_solved_one_returns_as_a_review_not_too_soon():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    solved = {101: now - timedelta(hours=3), 102: now - timedelta(hours=2), 103: now}
    learner = LearnerSnapshot(
        mastery={1: 0.99, 2: 0.8},
        completed_lesson_ids=frozenset({11}),
        predicted_success={101: 0.8, 102: 0.8, 103: 0.8},
        solved_at=solved,
    )

    steps = plan_build(GRAPH, learner, PlannerConfig(max_steps=5), now=now)

    fractions = [s for s in steps if s.skill_id == 2]
    assert [(s.kind, s.exercise_id) for s in fractions] == [("review", 101)]
    sentence = reason_sentence(fractions[0].reason)
    assert sentence.startswith("Review Halves: you solved every exercise of Fractions once")
    # and an exercise solved a minute ago never comes back, even when nothing else is left
    fresh = LearnerSnapshot(
        mastery={1: 0.99, 2: 0.8},
        completed_lesson_ids=frozenset({11}),
        solved_at=dict.fromkeys((101, 102, 103), now),
    )
    assert all(s.skill_id != 2 for s in plan_build(GRAPH, fresh, now=now))


def test_a_new_skill_gets_its_lesson_before_any_exercise():
    learner = LearnerSnapshot(mastery={1: 0.99}, predicted_success={101: 0.6, 105: 0.6})

    steps = plan_build(GRAPH, learner, PlannerConfig(max_steps=5))

    for skill_id in (2, 4):
        kinds = [s.kind for s in steps if s.skill_id == skill_id]
        assert kinds[0] == "lesson"
    assert reason_sentence(steps[0].reason).startswith(
        "Start Fractions with this lesson: you have not practised it yet."
    )


def test_review_of_a_mastered_skill_with_a_weak_prerequisite_says_why():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    learner = LearnerSnapshot(
        mastery={1: 0.4, 2: 0.99},
        last_practised={2: now - timedelta(days=9)},
        caveats={2: ("Integers",)},
    )

    steps = plan_build(GRAPH, learner, now=now)

    review = next(s for s in steps if s.kind == "review")
    sentence = reason_sentence(review.reason)
    assert sentence.startswith("Review Fractions: you mastered it, but last practised it 9 days")
    assert "although its prerequisite Integers is not mastered yet" in sentence


def test_with_everything_mastered_the_oldest_skill_is_reviewed_before_it_is_due():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    learner = LearnerSnapshot(
        mastery={1: 0.99, 2: 0.99, 3: 0.99, 4: 0.99},
        predicted_success={104: 0.9},
        last_practised={1: now - timedelta(days=1), 3: now - timedelta(days=2)},
    )

    steps = plan_build(GRAPH, learner, now=now)

    assert [(s.kind, s.skill_id, s.exercise_id) for s in steps] == [("review", 3, 104)]


def test_reason_sentences_explain_each_step():
    lesson = {
        "kind": "lesson",
        "skill": "Fractions",
        "mastery": 0.4,
        "threshold": 0.95,
        "prerequisite_of": ["Ratios"],
    }
    practice = {**lesson, "kind": "exercise", "predicted_success": 0.6}
    review = {
        "kind": "review",
        "skill": "Integers",
        "status": "mastered",
        "mastery": 0.97,
        "days_since_practice": 10,
    }

    assert reason_sentence(lesson) == (
        "Learn Fractions with this lesson: your mastery is 40% and the goal is 95%. "
        "It is a prerequisite of Ratios."
    )
    assert reason_sentence(practice).startswith(
        "Practise Fractions (mastery 40%, goal 95%): we predict a 60% chance you get this "
        "right, challenging but within reach."
    )
    # the words fit the chance: 37% and 88% are not described alike
    assert reason_sentence({**practice, "predicted_success": 0.37}) != reason_sentence(
        {**practice, "predicted_success": 0.88}
    ).replace("88%", "37%")
    assert reason_sentence(review) == (
        "Review Integers: you mastered it, but last practised it 10 days ago."
    )


def test_a_skill_still_learning_after_every_exercise_gets_its_lesson_back_as_a_review():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    read = now - timedelta(days=1)
    learner = LearnerSnapshot(
        mastery={1: 0.99, 2: 0.3},
        completed_lesson_ids=frozenset({11}),
        lesson_read_at={11: read},
        last_practised={2: now - timedelta(hours=2)},
        solved_at=dict.fromkeys((101, 102, 103), now - timedelta(hours=3)),
    )

    steps = plan_build(GRAPH, learner, now=now)

    fractions = [s for s in steps if s.skill_id == 2]
    assert [(s.kind, s.lesson_id) for s in fractions] == [("review", 11)]
    assert reason_sentence(fractions[0].reason).startswith(
        "Review the lesson Parts of a whole: you solved every exercise of Fractions"
    )
    # just reread: practise again before the lesson can come back
    reread = replace(learner, lesson_read_at={11: now})
    again = [s for s in plan_build(GRAPH, reread, now=now) if s.skill_id == 2]
    assert [(s.kind, s.exercise_id) for s in again] == [("review", 101)]


def test_wrong_answers_on_one_skill_let_another_ready_skill_go_first():
    learner = LearnerSnapshot(mastery={1: 0.99, 2: 0.3, 4: 0.3}, wrong={2: 8})

    steps = plan_build(GRAPH, learner, PlannerConfig(max_steps=1))

    # Fractions unlocks more (it would go first), but 8 wrong answers quarter its priority
    assert steps[0].skill_id == 4


def test_with_every_exercise_just_solved_the_next_lesson_of_the_syllabus_comes():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    learner = LearnerSnapshot(
        mastery={1: 0.5},
        completed_lesson_ids=frozenset({10}),
        solved_at={100: now},
    )

    steps = plan_build(GRAPH, learner, now=now)

    assert [(s.kind, s.lesson_id) for s in steps] == [("lesson", 11)]
    assert reason_sentence(steps[0].reason).startswith(
        "Go on with the lesson Parts of a whole: you have answered every exercise available"
    )


def test_when_nothing_else_is_open_a_just_solved_exercise_comes_back_saying_so():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    graph = CourseGraph(
        skills=(SkillNode(1, "Integers"),),
        lessons=(LessonNode(10, "Whole numbers", (1,), 0),),
        exercises=(ExerciseNode(100, "Add", (1,)),),
    )
    learner = LearnerSnapshot(
        mastery={1: 0.5}, completed_lesson_ids=frozenset({10}), solved_at={100: now}
    )

    steps = plan_build(graph, learner, now=now)

    assert [(s.kind, s.exercise_id) for s in steps] == [("review", 100)]
    assert reason_sentence(steps[0].reason).startswith(
        "Review Add: nothing new is open to you right now"
    )
