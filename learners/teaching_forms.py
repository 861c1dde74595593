"""Forms of teacher onboarding: the request to teach and the staff invitation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from learners.teaching_services import MOTIVATION_MAX


class TeacherRequestForm(forms.Form):
    motivation = forms.CharField(
        label=_("What would you like to teach, and why?"),
        max_length=MOTIVATION_MAX,
        help_text=_("A few sentences are enough; staff read every request."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class TeacherInvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address to invite"))
