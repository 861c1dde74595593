"""Forms of the learner pages: sign-up, profile, answers to exercises."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from config.validation import is_ascii_id, small_count
from courses.models import Exercise
from learners.models import User


class SignupForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=settings.LANGUAGES
    )

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email", "")
        # The model's constraint says the same; asking first gives the message at the field.
        if email and User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Another account already uses this e-mail address."))
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "preferred_language"]
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "email": _("E-mail"),
            "preferred_language": _("Preferred language"),
        }


def answer_from_post(*, exercise: Exercise, data: Any) -> Any:
    """The answer in the shape `attempt_submit` expects, read from the exercise's form fields."""
    # Anything but an id (config.validation's ASCII rule) stays text; grading refuses it.
    if exercise.kind == Exercise.Kind.SINGLE:
        value = data.get("answer", "")
        return int(value) if is_ascii_id(value) else value or None
    if exercise.kind == Exercise.Kind.MULTIPLE:
        values = data.getlist("answer")
        return [int(value) if is_ascii_id(value) else value for value in values]
    return data.get("answer", "")


def int_from_post(data: Any, name: str, default: int = 0) -> int:
    """A small non-negative integer field, or `default` when absent or malformed."""
    try:
        return small_count(str(data.get(name, "")).strip(), name=name)
    except ValidationError:
        return default
