"""Server-side grading of an answer against an exercise; the client never decides correctness."""

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

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


# A numeric answer is short: 100 characters hold any number a learner types.
NUMERIC_ANSWER_MAX_CHARS = 100
# The API's serializer allows 10,000 characters of JSON for any answer; the web form the same.
TEXT_ANSWER_MAX_CHARS = 10_000
_DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]{1,4})?"
_NUMBER = re.compile(_DECIMAL)
_FRACTION = re.compile(rf"({_DECIMAL})\s*/\s*({_DECIMAL})")


def numeric_text_value(text: str) -> float:
    """A typed number: '42', '-0,5', '1e3', full-width digits or a fraction such as '5/6'.

    Superscripts, vulgar fractions and other "number-like" symbols ('²', '½') are refused rather
    than read as digits: NFKC would turn 'x²' into 'x2'.
    """
    if len(text) > NUMERIC_ANSWER_MAX_CHARS:
        raise GradingError(
            _("The answer is longer than %(limit)d characters; type a number.")
            % {"limit": NUMERIC_ANSWER_MAX_CHARS}
        )
    if any(unicodedata.category(char) == "No" for char in text):
        raise GradingError(_("Write the number with ordinary digits (no superscripts or symbols)."))
    # NFKC maps full-width and other decimal digits to ASCII; a decimal comma becomes a point.
    plain = unicodedata.normalize("NFKC", text).strip().replace(",", ".").lower()
    plain = "".join(str(unicodedata.digit(char)) if char.isdecimal() else char for char in plain)
    if _NUMBER.fullmatch(plain):
        return float(plain)
    fraction = _FRACTION.fullmatch(plain)
    if fraction:
        numerator, denominator = float(fraction.group(1)), float(fraction.group(2))
        if denominator == 0:
            raise GradingError(_("A fraction cannot divide by zero."))
        return numerator / denominator
    raise GradingError(_("The answer must be a number (such as 0.75, -2 or 5/6)."))


def _choice_ids(answer: Any, *, many: bool) -> list[int]:
    if many:
        if not isinstance(answer, list) or not answer:
            raise GradingError(_("The answer must be a non-empty list of choice ids."))
        values = answer
    else:
        values = [answer]
    ids: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GradingError(_("Each choice id must be an integer."))
        ids.append(value)
    if len(set(ids)) != len(ids):
        raise GradingError(_("The same choice is listed twice."))
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
            raise GradingError(
                _("Choice %(id)s does not belong to this exercise.") % {"id": unknown[0]}
            )
        correct = {pk for pk, choice in options.items() if choice.is_correct}
        feedback = [options[pk].feedback for pk in picked if options[pk].feedback]
        normalised = picked[0] if kind == Exercise.Kind.SINGLE else sorted(picked)
        return GradeResult(set(picked) == correct, normalised, feedback)
    if kind == Exercise.Kind.NUMERIC:
        if isinstance(answer, bool):
            raise GradingError(_("The answer must be a number."))
        if isinstance(answer, str):
            answer = numeric_text_value(answer)
        if not isinstance(answer, int | float):
            raise GradingError(_("The answer must be a finite number."))
        try:
            value = float(answer)
        except OverflowError as error:  # a JSON integer with hundreds of digits
            raise GradingError(_("The answer must be a finite number.")) from error
        if not math.isfinite(value):
            raise GradingError(_("The answer must be a finite number."))
        expected = exercise.numeric_answer
        if expected is None:
            raise GradingError(_("This exercise has no numeric answer yet."))
        # A relative epsilon keeps 0.1 + 0.2 == 0.3 correct with a tolerance of 0.
        slack = exercise.tolerance + 1e-9 * max(1.0, abs(expected))
        return GradeResult(abs(value - expected) <= slack, value)
    if kind == Exercise.Kind.TEXT:
        if not isinstance(answer, str):
            raise GradingError(_("The answer must be text."))
        if "\x00" in answer:  # PostgreSQL cannot store it, and no one types it
            raise GradingError(_("The answer contains a null character."))
        if len(answer) > TEXT_ANSWER_MAX_CHARS:
            raise GradingError(
                _("The answer is longer than %(limit)d characters.")
                % {"limit": TEXT_ANSWER_MAX_CHARS}
            )
        text = text_normalise(answer)
        if not text:
            raise GradingError(_("The answer is empty."))
        accepted = {text_normalise(str(item)) for item in exercise.accepted_answers}
        return GradeResult(text in accepted, text)
    raise GradingError(_("Unknown exercise kind %(kind)r.") % {"kind": kind})
