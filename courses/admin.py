"""Django admin for the catalogue; writes that guard an invariant go through courses.services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from courses.exceptions import ApplicationError
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
from courses.services import (
    ChoiceData,
    course_archive,
    course_publish,
    course_unpublish,
    exercise_rules_check,
    skill_prerequisite_add,
    skill_prerequisite_cycle,
    skill_prerequisites_set,
    skills_same_course_check,
)


def _skills_check(form: forms.ModelForm, course_id: int | None, skills) -> None:
    """The service's same-course rule, as a field error."""
    if course_id is None or not skills:
        return
    try:
        skills_same_course_check(course_id=course_id, skills=list(skills))
    except ApplicationError as error:
        form.add_error("skills", error.message)


# Courses ---------------------------------------------------------------------------------------


class ModuleInline(admin.TabularInline):
    model = Module
    fields = ["position", "title", "summary"]
    extra = 0
    ordering = ["position"]
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "language", "owner", "published_at", "created_at"]
    list_filter = ["status", "language", "created_at"]
    search_fields = ["title", "slug", "summary", "owner__username"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner", "instructors"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [ModuleInline]
    actions = ["publish_selected", "unpublish_selected", "archive_selected"]

    def _run(self, request: HttpRequest, queryset: QuerySet[Course], service, verb: str) -> None:
        done = 0
        for course in queryset:
            try:
                service(course=course)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{course}: {error.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} course(s).", messages.SUCCESS)

    @admin.action(description=_("Publish the selected courses"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self._run(request, queryset, course_publish, "Published")

    @admin.action(description=_("Take the selected courses back to draft"))
    def unpublish_selected(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self._run(request, queryset, course_unpublish, "Unpublished")

    @admin.action(description=_("Archive the selected courses"))
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self._run(request, queryset, course_archive, "Archived")


class LessonInline(admin.TabularInline):
    model = Lesson
    fields = ["position", "title", "slug", "estimated_minutes"]
    extra = 0
    ordering = ["position"]
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position", "lesson_count"]
    list_filter = ["course__status", "course"]
    search_fields = ["title", "summary", "course__title"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    ordering = ["course", "position"]
    inlines = [LessonInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Module]:
        return super().get_queryset(request).annotate(lesson_total=Count("lessons"))

    @admin.display(description=_("Lessons"), ordering="lesson_total")
    def lesson_count(self, module: Module) -> int:
        return module.lesson_total


class LessonBlockInline(admin.StackedInline):
    model = LessonBlock
    fields = [
        ("position", "kind"),
        "body_md",
        ("media", "captions"),
        ("alt_text", "duration_seconds"),
        "transcript",
        "exercise",
    ]
    extra = 0
    ordering = ["position"]
    autocomplete_fields = ["exercise"]


class LessonBlockForm(forms.ModelForm):
    """Media are checked by their signature, as the authoring service does."""

    class Meta:
        model = LessonBlock
        fields = [
            "lesson",
            "position",
            "kind",
            "body_md",
            "media",
            "captions",
            "transcript",
            "alt_text",
            "duration_seconds",
            "exercise",
        ]

    def clean(self):
        cleaned = super().clean()
        kind, media = cleaned.get("kind"), cleaned.get("media")
        validator = LessonBlock.MEDIA_VALIDATORS.get(kind)
        if validator and media and not getattr(media, "_committed", True):
            try:
                validator(media)
            except ValidationError as error:
                self.add_error("media", error)
        return cleaned


LessonBlockInline.form = LessonBlockForm


class LessonForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = ["module", "title", "slug", "position", "estimated_minutes", "skills"]

    def clean(self):
        cleaned = super().clean()
        module = cleaned.get("module")
        _skills_check(self, module.course_id if module else None, cleaned.get("skills"))
        return cleaned


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    form = LessonForm
    list_display = ["title", "module", "course_title", "position", "estimated_minutes"]
    list_filter = ["module__course"]
    search_fields = ["title", "slug", "module__title", "module__course__title"]
    list_select_related = ["module__course"]
    autocomplete_fields = ["module", "skills"]
    ordering = ["module__course", "module__position", "position"]
    inlines = [LessonBlockInline]

    @admin.display(description=_("Course"), ordering="module__course__title")
    def course_title(self, lesson: Lesson) -> str:
        return lesson.module.course.title


@admin.register(LessonBlock)
class LessonBlockAdmin(admin.ModelAdmin):
    form = LessonBlockForm
    list_display = ["__str__", "lesson", "kind", "position", "exercise"]
    list_filter = ["kind", "lesson__module__course"]
    search_fields = ["body_md", "transcript", "alt_text", "lesson__title"]
    list_select_related = ["lesson", "exercise"]
    autocomplete_fields = ["lesson", "exercise"]
    ordering = ["lesson", "position"]


# Skills -----------------------------------------------------------------------------------------


class SkillPrerequisiteFormSet(forms.BaseInlineFormSet):
    """Refuses a set of prerequisites that would close a cycle, naming it."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        requires = [
            form.cleaned_data["requires"]
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("requires") is not None
        ]
        if any(other.course_id != self.instance.course_id for other in requires):
            raise ValidationError(_("A prerequisite must belong to the same course as the skill."))
        if self.instance.pk is None:  # nothing requires a new skill yet, so no cycle is possible
            return
        cycle = skill_prerequisite_cycle(skill=self.instance, requires=requires)
        if cycle:
            raise ValidationError(
                _("This prerequisite would close a cycle: %(cycle)s."),
                code="prerequisite_cycle",
                params={"cycle": " requires ".join(cycle)},
            )


class SkillPrerequisiteInline(admin.TabularInline):
    model = SkillPrerequisite
    fk_name = "skill"
    formset = SkillPrerequisiteFormSet
    fields = ["requires"]
    autocomplete_fields = ["requires"]
    extra = 0
    verbose_name = _("prerequisite")
    verbose_name_plural = _("prerequisites (skills required first)")


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "external_id", "prerequisite_count"]
    list_filter = ["course"]
    search_fields = ["name", "description", "external_id", "course__title"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    inlines = [SkillPrerequisiteInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        queryset = super().get_queryset(request)
        return queryset.annotate(prerequisite_total=Count("prerequisite_links"))

    @admin.display(description=_("Prerequisites"), ordering="prerequisite_total")
    def prerequisite_count(self, skill: Skill) -> int:
        return skill.prerequisite_total

    def save_formset(self, request, form, formset, change) -> None:
        if not isinstance(formset, SkillPrerequisiteFormSet):
            super().save_formset(request, form, formset, change)
            return
        # The admin's change message reads new/changed/deleted objects from the formset.
        formset.save(commit=False)
        requires = [
            inline.cleaned_data["requires"]
            for inline in formset.forms
            if inline.cleaned_data
            and not inline.cleaned_data.get("DELETE")
            and inline.cleaned_data.get("requires") is not None
        ]
        skill_prerequisites_set(skill=form.instance, requires=requires)


class SkillPrerequisiteForm(forms.ModelForm):
    class Meta:
        model = SkillPrerequisite
        fields = ["skill", "requires"]

    def clean(self):
        cleaned = super().clean()
        skill, requires = cleaned.get("skill"), cleaned.get("requires")
        if skill is None or requires is None or self.instance.pk:
            return cleaned
        if skill.course_id != requires.course_id:
            raise ValidationError(_("A prerequisite must belong to the same course as the skill."))
        current = list(skill.prerequisites.all())
        cycle = skill_prerequisite_cycle(skill=skill, requires=[*current, requires])
        if cycle:
            raise ValidationError(
                _("This prerequisite would close a cycle: %(cycle)s."),
                code="prerequisite_cycle",
                params={"cycle": " requires ".join(cycle)},
            )
        return cleaned


@admin.register(SkillPrerequisite)
class SkillPrerequisiteAdmin(admin.ModelAdmin):
    form = SkillPrerequisiteForm
    list_display = ["skill", "requires", "course"]
    list_filter = ["skill__course"]
    search_fields = ["skill__name", "requires__name"]
    list_select_related = ["skill__course", "requires"]
    autocomplete_fields = ["skill", "requires"]

    @admin.display(description=_("Course"), ordering="skill__course__title")
    def course(self, link: SkillPrerequisite) -> str:
        return link.skill.course.title

    def get_readonly_fields(self, request, obj=None):
        # An edge is added or removed, never re-pointed: that would bypass the cycle check.
        return ["skill", "requires"] if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        with transaction.atomic():
            saved = skill_prerequisite_add(skill=obj.skill, requires=obj.requires)
        obj.pk = saved.pk


# Exercises --------------------------------------------------------------------------------------


class ChoiceFormSet(forms.BaseInlineFormSet):
    """The authoring service's rules (`exercise_rules_check`), on the exercise being saved."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            ChoiceData(data.get("text", ""), bool(data.get("is_correct")), data.get("feedback", ""))
            for data in (form.cleaned_data for form in self.forms)
            if data and not data.get("DELETE")
        ]
        try:
            exercise_rules_check(exercise=self.instance, choices=kept)
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceFormSet
    fields = ["position", "text", "is_correct", "feedback"]
    extra = 0
    ordering = ["position", "id"]


class HintInline(admin.TabularInline):
    model = Hint
    fields = ["position", "text"]
    extra = 0
    ordering = ["position"]


class ExerciseForm(forms.ModelForm):
    class Meta:
        model = Exercise
        fields = [
            "course",
            "title",
            "prompt_md",
            "kind",
            "skills",
            "numeric_answer",
            "tolerance",
            "accepted_answers",
            "explanation_md",
            "max_attempts",
            "external_id",
        ]

    def clean(self):
        # The kind's rules (answers, choices) run on the whole exercise in ChoiceFormSet.clean,
        # through the authoring service; here only what needs the form's fields.
        cleaned = super().clean()
        course = cleaned.get("course")
        _skills_check(self, course.pk if course else None, cleaned.get("skills"))
        return cleaned


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    form = ExerciseForm
    list_display = ["__str__", "course", "kind", "external_id", "created_at"]
    list_filter = ["kind", "course"]
    search_fields = ["title", "prompt_md", "external_id", "course__title"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    filter_horizontal = ["skills"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [ChoiceInline, HintInline]
    show_full_result_count = False


@admin.register(Choice)
class ChoiceAdmin(admin.ModelAdmin):
    list_display = ["text", "exercise", "is_correct", "position"]
    list_filter = ["is_correct", "exercise__kind"]
    search_fields = ["text", "feedback", "exercise__title"]
    list_select_related = ["exercise"]
    autocomplete_fields = ["exercise"]


@admin.register(Hint)
class HintAdmin(admin.ModelAdmin):
    list_display = ["__str__", "exercise", "position", "text"]
    list_filter = ["exercise__course"]
    search_fields = ["text", "exercise__title"]
    list_select_related = ["exercise"]
    autocomplete_fields = ["exercise"]
