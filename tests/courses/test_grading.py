"""Server-side grading of every exercise kind."""

import pytest

from courses.exceptions import GradingError
from courses.grading import answer_grade, text_normalise
from courses.models import Exercise
from tests.factories import ChoiceFactory, ExerciseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def numeric() -> Exercise:
    return ExerciseFactory(kind=Exercise.Kind.NUMERIC, numeric_answer=42.0, tolerance=0.5)


@pytest.fixture
def text() -> Exercise:
    return ExerciseFactory(
        kind=Exercise.Kind.TEXT, numeric_answer=None, accepted_answers=["Hello World", "bonjour"]
    )


@pytest.fixture
def single() -> Exercise:
    exercise = ExerciseFactory(kind=Exercise.Kind.SINGLE, numeric_answer=None)
    ChoiceFactory(exercise=exercise, text="wrong", feedback="Not this one.")
    ChoiceFactory(exercise=exercise, text="right", is_correct=True, feedback="Yes.")
    return exercise


@pytest.fixture
def multiple() -> Exercise:
    exercise = ExerciseFactory(kind=Exercise.Kind.MULTIPLE, numeric_answer=None)
    for text, is_correct in [("a", True), ("b", False), ("c", True), ("d", False)]:
        ChoiceFactory(exercise=exercise, text=text, is_correct=is_correct)
    return exercise


def _ids(exercise: Exercise) -> dict[str, int]:
    return dict(exercise.choices.values_list("text", "pk"))


# Numeric ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (42, (True, 42.0)),
        (42.0, (True, 42.0)),
        (42.5, (True, 42.5)),
        (41.5, (True, 41.5)),
        (42.25, (True, 42.25)),
        (42.51, (False, 42.51)),
        (41.49, (False, 41.49)),
        (-42, (False, -42.0)),
        ("42", (True, 42.0)),
        (" 42.5 ", (True, 42.5)),
        ("４２", (True, 42.0)),  # noqa: RUF001
        ("42,3", (True, 42.3)),
        ("４２，４", (True, 42.4)),  # noqa: RUF001
        ("4.2e1", (True, 42.0)),
        ("43", (False, 43.0)),
    ],
)
def test_numeric_answer_is_correct_within_the_tolerance(numeric, answer, expected):
    result = answer_grade(exercise=numeric, answer=answer)

    assert (result.is_correct, result.normalised_answer) == expected


def test_numeric_answer_with_zero_tolerance_absorbs_float_rounding():
    exercise = ExerciseFactory(numeric_answer=0.3, tolerance=0.0)

    assert answer_grade(exercise=exercise, answer=0.1 + 0.2).is_correct is True
    assert answer_grade(exercise=exercise, answer=0.3001).is_correct is False


@pytest.mark.parametrize(
    "answer",
    [
        "nan",
        "NaN",
        float("nan"),
        "inf",
        "-Infinity",
        float("inf"),
        True,
        False,
        None,
        [42],
        {"value": 42},
        "",
        "forty-two",
        "42 apples",
        pytest.param(10**400, id="huge-int"),
        pytest.param(-(10**400), id="huge-negative-int"),
    ],
)
def test_numeric_answer_that_is_not_a_finite_number_is_refused(numeric, answer):
    with pytest.raises(GradingError):
        answer_grade(exercise=numeric, answer=answer)


# Text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Hello World", (True, "hello world")),
        ("  ＨＥＬＬＯ   world ", (True, "hello world")),  # noqa: RUF001
        ("hello\tworld\n", (True, "hello world")),
        ("HELLO WORLD", (True, "hello world")),
        ("BONJOUR", (True, "bonjour")),
        ("helloworld", (False, "helloworld")),
        ("hello world!", (False, "hello world!")),
        ("goodbye", (False, "goodbye")),
    ],
)
def test_text_answer_is_compared_after_normalisation(text, answer, expected):
    result = answer_grade(exercise=text, answer=answer)

    assert (result.is_correct, result.normalised_answer) == expected


def test_text_normalise_folds_compatibility_forms_and_case():
    assert text_normalise("Ｓｔｒａßｅ  ﬁne") == "strasse fine"


@pytest.mark.parametrize("answer", [None, 42, ["hello world"], "   ", ""])
def test_text_answer_that_is_not_text_is_refused(text, answer):
    with pytest.raises(GradingError):
        answer_grade(exercise=text, answer=answer)


# Choices ----------------------------------------------------------------------------------------


def test_single_choice_is_correct_only_for_the_correct_choice(single):
    ids = _ids(single)

    right = answer_grade(exercise=single, answer=ids["right"])
    wrong = answer_grade(exercise=single, answer=ids["wrong"])

    assert (right.is_correct, right.normalised_answer, right.feedback) == (
        True,
        ids["right"],
        ["Yes."],
    )
    assert (wrong.is_correct, wrong.normalised_answer, wrong.feedback) == (
        False,
        ids["wrong"],
        ["Not this one."],
    )


def test_single_choice_uses_the_choices_passed_in(single, django_assert_num_queries):
    choices = list(single.choices.all())
    ids = _ids(single)

    with django_assert_num_queries(0):
        result = answer_grade(exercise=single, answer=ids["right"], choices=choices)

    assert result.is_correct is True


@pytest.mark.parametrize("shape", ["list", "string", "bool", "none", "float"])
def test_single_choice_with_the_wrong_type_is_refused(single, shape):
    right = _ids(single)["right"]
    answer = {
        "list": [right],
        "string": str(right),
        "bool": True,
        "none": None,
        "float": float(right),
    }[shape]

    with pytest.raises(GradingError):
        answer_grade(exercise=single, answer=answer)


def test_multiple_choice_needs_exactly_the_correct_set(multiple):
    ids = _ids(multiple)

    def grade(*texts: str) -> bool:
        return answer_grade(exercise=multiple, answer=[ids[t] for t in texts]).is_correct

    assert grade("a", "c") is True
    assert grade("c", "a") is True
    assert grade("a") is False
    assert grade("a", "b", "c") is False
    assert grade("b", "d") is False
    assert grade("a", "b", "c", "d") is False


def test_multiple_choice_answer_is_stored_sorted(multiple):
    ids = _ids(multiple)

    result = answer_grade(exercise=multiple, answer=[ids["c"], ids["a"]])

    assert result.normalised_answer == sorted([ids["a"], ids["c"]])


@pytest.mark.parametrize("shape", ["empty", "scalar", "strings", "bools", "duplicate", "nested"])
def test_multiple_choice_with_a_malformed_answer_is_refused(multiple, shape):
    ids = _ids(multiple)
    answer = {
        "empty": [],
        "scalar": ids["a"],
        "strings": [str(ids["a"]), str(ids["c"])],
        "bools": [True, False],
        "duplicate": [ids["a"], ids["a"], ids["c"]],
        "nested": [[ids["a"]], [ids["c"]]],
    }[shape]

    with pytest.raises(GradingError):
        answer_grade(exercise=multiple, answer=answer)


def test_choice_of_another_exercise_is_refused(single, multiple):
    foreign = _ids(multiple)["a"]

    with pytest.raises(GradingError, match=f"Choice {foreign} does not belong to this exercise."):
        answer_grade(exercise=single, answer=foreign)
    with pytest.raises(GradingError):
        answer_grade(exercise=multiple, answer=[_ids(multiple)["a"], _ids(single)["right"]])


def test_unknown_choice_id_is_refused(multiple):
    with pytest.raises(GradingError, match="Choice 987654321 does not belong"):
        answer_grade(exercise=multiple, answer=[987654321])
