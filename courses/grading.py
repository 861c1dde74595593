"""Server-side grading of an answer against an exercise; the client never decides correctness."""

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from courses.exceptions import GradingError
from courses.models import Choice, Exercise


@dataclass(frozen=True)
class GradeResult:
    is_correct: bool
    normalised_answer: Any
    feedback: list[str] = field(default_factory=list)


def text_normalise(text: str) -> str:
    """NFKC, case-folded, white space collapsed (so full-width digits equal ASCII ones)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _choice_ids(answer: Any, *, many: bool) -> list[int]:
    if many:
        if not isinstance(answer, list) or not answer:
            raise GradingError("The answer must be a non-empty list of choice ids.")
        values = answer
    else:
        values = [answer]
    ids: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GradingError("Each choice id must be an integer.")
        ids.append(value)
    if len(set(ids)) != len(ids):
        raise GradingError("The same choice is listed twice.")
    return ids


def answer_grade(
    *, exercise: Exercise, answer: Any, choices: list[Choice] | None = None
) -> GradeResult:
    """Grade `answer` for `exercise`: choice sets exact, numbers in tolerance, text normalised."""
    kind = exercise.kind
    if kind in (Exercise.Kind.SINGLE, Exercise.Kind.MULTIPLE):
        options = {choice.pk: choice for choice in (choices or list(exercise.choices.all()))}
        picked = _choice_ids(answer, many=kind == Exercise.Kind.MULTIPLE)
        unknown = [pk for pk in picked if pk not in options]
        if unknown:
            raise GradingError(f"Choice {unknown[0]} does not belong to this exercise.")
        correct = {pk for pk, choice in options.items() if choice.is_correct}
        feedback = [options[pk].feedback for pk in picked if options[pk].feedback]
        normalised = picked[0] if kind == Exercise.Kind.SINGLE else sorted(picked)
        return GradeResult(set(picked) == correct, normalised, feedback)
    if kind == Exercise.Kind.NUMERIC:
        if isinstance(answer, bool):
            raise GradingError("The answer must be a number.")
        if isinstance(answer, str):
            try:
                answer = float(unicodedata.normalize("NFKC", answer).strip().replace(",", "."))
            except ValueError as error:
                raise GradingError("The answer must be a number.") from error
        if not isinstance(answer, int | float):
            raise GradingError("The answer must be a finite number.")
        try:
            value = float(answer)
        except OverflowError as error:  # a JSON integer with hundreds of digits
            raise GradingError("The answer must be a finite number.") from error
        if not math.isfinite(value):
            raise GradingError("The answer must be a finite number.")
        expected = exercise.numeric_answer
        if expected is None:
            raise GradingError("This exercise has no numeric answer yet.")
        # A relative epsilon keeps 0.1 + 0.2 == 0.3 correct with a tolerance of 0.
        slack = exercise.tolerance + 1e-9 * max(1.0, abs(expected))
        return GradeResult(abs(value - expected) <= slack, value)
    if kind == Exercise.Kind.TEXT:
        if not isinstance(answer, str):
            raise GradingError("The answer must be text.")
        text = text_normalise(answer)
        if not text:
            raise GradingError("The answer is empty.")
        accepted = {text_normalise(str(item)) for item in exercise.accepted_answers}
        return GradeResult(text in accepted, text)
    raise GradingError(f"Unknown exercise kind {kind!r}.")
