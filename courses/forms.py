"""Forms of the teacher studio; they parse input, the authoring services validate and write."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from courses.models import (
    DEFAULT_MAX_ATTEMPTS,
    MAX_ATTEMPTS_LIMIT,
    Course,
    Exercise,
    LessonBlock,
    Skill,
)
from courses.services import ChoiceData


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "title",
            "slug",
            "summary",
            "description_md",
            "language",
            "subject",
            "level",
            "cover",
        ]
        labels = {
            "title": _("Title"),
            "slug": _("Address (slug)"),
            "summary": _("Summary"),
            "description_md": _("Description (Markdown)"),
            "language": _("Language"),
            "subject": _("Subject"),
            "level": _("Level"),
            "cover": _("Cover image"),
        }
        help_texts = {"slug": _("Leave empty to derive it from the title.")}
        widgets = {"description_md": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        # Added after the first release: a client that does not send them keeps what is there.
        self.fields["subject"].required = False
        self.fields["level"].required = False

    def clean_subject(self) -> str:
        return self.cleaned_data.get("subject") or self.instance.subject

    def clean_level(self) -> str:
        return self.cleaned_data.get("level") or self.instance.level

    def validate_unique(self) -> None:
        # The service derives a free slug and the database refuses duplicates; an empty slug
        # must not be reported as taken here.
        if self.cleaned_data.get("slug"):
            super().validate_unique()


class ModuleForm(forms.Form):
    title = forms.CharField(label=_("Module title"), max_length=200)
    summary = forms.CharField(
        label=_("Module summary"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LessonForm(forms.Form):
    title = forms.CharField(label=_("Lesson title"), max_length=200)
    estimated_minutes = forms.IntegerField(label=_("Estimated minutes"), min_value=1, initial=10)
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills taught"),
        queryset=Skill.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skills"].queryset = Skill.objects.filter(course=course).order_by("name")


class BlockForm(forms.Form):
    # The fields each kind of block uses; the page shows only these (static/js/pathwise.js).
    KIND_FIELDS = {
        LessonBlock.Kind.TEXT: ("body_md",),
        LessonBlock.Kind.VIDEO: ("media", "captions", "duration_seconds", "transcript", "body_md"),
        LessonBlock.Kind.AUDIO: ("media", "duration_seconds", "transcript", "body_md"),
        LessonBlock.Kind.IMAGE: ("media", "alt_text", "body_md"),
        LessonBlock.Kind.EXERCISE: ("exercise",),
    }

    kind = forms.ChoiceField(label=_("Kind"), choices=LessonBlock.Kind.choices)
    body_md = forms.CharField(
        label=_("Text (Markdown)"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    media = forms.FileField(label=_("Media file (video, audio or image)"), required=False)
    captions = forms.FileField(label=_("Captions (WebVTT .vtt)"), required=False)
    transcript = forms.CharField(
        label=_("Transcript"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    alt_text = forms.CharField(label=_("Alternative text (images)"), max_length=500, required=False)
    duration_seconds = forms.IntegerField(
        label=_("Duration in seconds"), min_value=0, required=False
    )
    exercise = forms.ModelChoiceField(
        label=_("Exercise"), queryset=Exercise.objects.none(), required=False
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exercise"].queryset = Exercise.objects.filter(course=course).order_by("id")

    def kinds_of(self, name: str) -> str:
        """Space-separated kinds that use field `name` (for the page's data-kinds)."""
        return " ".join(kind for kind, names in self.KIND_FIELDS.items() if name in names)

    def fields_with_kinds(self) -> list[tuple[Any, str]]:
        """(bound field, kinds using it) for every visible field but the kind selector."""
        return [
            (field, self.kinds_of(field.name))
            for field in self.visible_fields()
            if field.name != "kind"
        ]

    def service_fields(self, *, editing: bool) -> dict[str, Any]:
        """Cleaned values for lesson_block_create/update; a file left empty keeps the old one."""
        data = dict(self.cleaned_data)
        kind = data.pop("kind")
        # Fields of other kinds are hidden on the page: what they still hold is not this
        # block's content (text typed before switching to "exercise", say).
        used = set(self.KIND_FIELDS.get(kind, ()))
        for name in list(data):
            if name not in used and name in ("media", "captions"):
                data.pop(name)
            elif name not in used and name in ("body_md", "transcript", "alt_text"):
                data[name] = ""
            elif name not in used and name in ("duration_seconds", "exercise"):
                data[name] = None
        for name in ("media", "captions"):
            if not data.get(name):
                data.pop(name, None)
        if data.get("duration_seconds") is None and "duration_seconds" in used:
            data.pop("duration_seconds")
        if not editing and data.get("exercise") is None:
            data.pop("exercise")
        return data


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ExerciseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Exercise.Kind.choices)
    prompt_md = forms.CharField(
        label=_("Question (Markdown)"), widget=forms.Textarea(attrs={"rows": 4})
    )
    numeric_answer = forms.FloatField(label=_("Numeric answer"), required=False)
    tolerance = forms.FloatField(label=_("Tolerance"), min_value=0, initial=0, required=False)
    accepted_answers = forms.CharField(
        label=_("Accepted answers (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    explanation_md = forms.CharField(
        label=_("Explanation shown after answering (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    max_attempts = forms.IntegerField(
        label=_("Attempts allowed"),
        min_value=1,
        max_value=MAX_ATTEMPTS_LIMIT,
        initial=DEFAULT_MAX_ATTEMPTS,
        required=False,
        help_text=_(
            "Graded answers a learner gets; the correct answer and the explanation are shown "
            "after a right answer, after the last attempt, or when the learner asks for them."
        ),
    )
    hints = forms.CharField(
        label=_("Hints (one per line, in order)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills practised"),
        queryset=Skill.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skills"].queryset = Skill.objects.filter(course=course).order_by("name")

    def service_fields(self) -> dict[str, Any]:
        """Cleaned values in the shape exercise_create/update take (without choices)."""
        data = dict(self.cleaned_data)
        data["accepted_answers"] = _lines(data.get("accepted_answers") or "")
        data["hints"] = _lines(data.get("hints") or "")
        data["skills"] = list(data["skills"])
        if data.get("tolerance") is None:
            data["tolerance"] = 0.0
        if data.get("max_attempts") is None:  # left empty: keep the exercise's (or the default)
            data.pop("max_attempts", None)
        return data


class ChoiceForm(forms.Form):
    text = forms.CharField(label=_("Choice"), max_length=500, required=False)
    is_correct = forms.BooleanField(label=_("Correct"), required=False)
    feedback = forms.CharField(label=_("Feedback"), required=False)


MAX_CHOICES = 50

# Any number of choices: the page adds rows ("Add a choice") and removes them (DELETE box).
ChoiceFormSet = forms.formset_factory(
    ChoiceForm,
    extra=0,
    min_num=2,
    max_num=MAX_CHOICES,
    validate_max=True,
    absolute_max=MAX_CHOICES,
    can_delete=True,
)


def choices_from_formset(formset: Any) -> list[ChoiceData]:
    """The filled-in rows of a choice formset (rows without text are ignored)."""
    return [
        ChoiceData(
            text=row["text"].strip(),
            is_correct=bool(row.get("is_correct")),
            feedback=row.get("feedback", ""),
        )
        for row in formset.cleaned_data
        if row and not row.get("DELETE") and row.get("text", "").strip()
    ]


class SkillForm(forms.Form):
    name = forms.CharField(label=_("Skill name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False)


class PrerequisiteForm(forms.Form):
    skill = forms.ModelChoiceField(label=_("Skill"), queryset=Skill.objects.none())
    requires = forms.ModelChoiceField(label=_("requires"), queryset=Skill.objects.none())

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        skills = Skill.objects.filter(course=course).order_by("name")
        self.fields["skill"].queryset = skills
        self.fields["requires"].queryset = skills
