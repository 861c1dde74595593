"""Catalogue and teacher studio pages: they parse input, call one service or selector, render."""

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.validation import clean_text, parse_ids, validation_message
from courses import services
from courses.exceptions import ApplicationError
from courses.forms import (
    BlockForm,
    ChoiceFormSet,
    CourseForm,
    ExerciseForm,
    LessonForm,
    ModuleForm,
    PrerequisiteForm,
    SkillForm,
    choices_from_formset,
)
from courses.graph import topological_layers
from courses.models import Course, Exercise, Lesson, LessonBlock, Module, Skill
from courses.selectors import (
    CatalogueFilters,
    course_catalogue,
    course_instructors_manageable_by,
    course_is_editable_by,
    course_list_editable,
    course_outline_gaps,
    course_syllabus,
    exercise_list_for_course,
    lesson_blocks,
    skill_prerequisite_graph,
    user_can_author,
)

CATALOGUE_PAGE_SIZE = 12


# Catalogue ----------------------------------------------------------------------------------------


def catalogue(request: HttpRequest) -> HttpResponse:
    """Published courses, searchable by words and filtered by language, subject and level."""
    status = 200
    filters = CatalogueFilters.from_query(request.GET)
    try:
        clean_text(request.GET.get("q", ""), name="q")
    except ValidationError as error:
        # A NUL or an overlong query: say so and show the whole catalogue.
        messages.error(request, validation_message(error))
        filters, status = dataclasses.replace(filters, query=""), 400
    courses = course_catalogue(user=request.user, filters=filters)
    page = Paginator(courses, CATALOGUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "courses/catalogue.html",
        {
            "page": page,
            "filters": filters,
            "page_query": filters.as_query(),
            "query": filters.query,
            "language": filters.language,
            "languages": Course._meta.get_field("language").choices,
            "subjects": Course.Subject.choices,
            "levels": Course.Level.choices,
        },
        status=status,
    )


# Studio helpers -----------------------------------------------------------------------------------


def _author_required(request: HttpRequest) -> None:
    if not user_can_author(user=request.user):
        raise PermissionDenied(_("Only teachers can use the studio."))


def _course_for_editor(request: HttpRequest, slug: str) -> Course:
    course = get_object_or_404(Course.objects.select_related("owner"), slug=slug)
    if not course_is_editable_by(course=course, user=request.user):
        raise PermissionDenied(_("You cannot change this course."))
    return course


def _form_errors_from(form: Any, error: ValidationError | ApplicationError) -> None:
    if isinstance(error, ApplicationError):
        form.add_error(None, error.message)
        return
    if hasattr(error, "error_dict"):
        for field_name, field_errors in error.message_dict.items():
            target = field_name if field_name in form.fields else None
            for message in field_errors:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


# Studio: courses ----------------------------------------------------------------------------------


@login_required
def studio_home(request: HttpRequest) -> HttpResponse:
    """The courses a teacher may edit."""
    _author_required(request)
    courses = (
        course_list_editable(user=request.user)
        .annotate(
            lesson_count=Count("modules__lessons", distinct=True),
            skill_count=Count("skills", distinct=True),
            is_co_instructor=Count("instructors", filter=Q(instructors=request.user.pk)),
        )
        .order_by("title")
    )
    return render(request, "courses/studio/home.html", {"courses": courses})


@login_required
def studio_course_create(request: HttpRequest) -> HttpResponse:
    """Create a draft course."""
    _author_required(request)
    form = CourseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(
                owner=request.user,
                title=form.cleaned_data["title"],
                slug=form.cleaned_data["slug"] or "",
                summary=form.cleaned_data["summary"],
                description_md=form.cleaned_data["description_md"],
                language=form.cleaned_data["language"],
                subject=form.cleaned_data["subject"],
                level=form.cleaned_data["level"],
                cover=form.cleaned_data.get("cover") or None,
            )
        except (ValidationError, ApplicationError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Course created as a draft."))
            return redirect("courses:studio_course", slug=course.slug)
    return render(request, "courses/studio/course_form.html", {"form": form})


@login_required
def studio_course(request: HttpRequest, slug: str) -> HttpResponse:
    """A course's outline: details, modules and lessons (reorderable), and where to go next."""
    course = _course_for_editor(request, slug)
    form = CourseForm(request.POST or None, request.FILES or None, instance=course)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if "slug" in fields and not fields["slug"]:
            fields.pop("slug")
        try:
            services.course_update(course=course, **fields)
        except (ValidationError, ApplicationError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Course saved."))
            return redirect("courses:studio_course", slug=course.slug)
    course.refresh_from_db()
    skills = Skill.objects.filter(course=course).order_by("name")
    return render(
        request,
        "courses/studio/course.html",
        {
            "course": course,
            "form": form,
            "modules": course_syllabus(course=course),
            # Its own id prefix: the course form above has title and summary fields too.
            "module_form": ModuleForm(auto_id="id_module_%s"),
            "lesson_form": LessonForm(course=course),
            "skills": skills,
            "gaps": course_outline_gaps(course=course),
            "instructors": course.instructors.order_by("username"),
            "can_manage_instructors": course_instructors_manageable_by(
                course=course, user=request.user
            ),
        },
    )


@login_required
@require_POST
def studio_course_instructors(request: HttpRequest, slug: str) -> HttpResponse:
    """The owner (or staff) adds a co-instructor by username or e-mail, or removes one."""
    course = _course_for_editor(request, slug)
    if not course_instructors_manageable_by(course=course, user=request.user):
        raise PermissionDenied(_("Only the course's owner chooses its instructors."))
    users = get_user_model().objects.all()
    action = request.POST.get("action")
    if action == "add":
        name = request.POST.get("username", "").strip()[:254]
        user = (
            users.filter(Q(username=name) | Q(email__iexact=name)).order_by("pk").first()
            if name
            else None
        )
        if user is None:
            messages.error(request, _("There is no account with this username or e-mail."))
        else:
            try:
                services.course_instructor_add(course=course, user=user)
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _("%(name)s now teaches this course.") % {"name": user.username}
                )
    elif action == "remove":
        user_id = request.POST.get("user", "")
        user = users.filter(pk=int(user_id)).first() if user_id.isdigit() else None
        if user is not None:
            services.course_instructor_remove(course=course, user=user)
            messages.success(
                request,
                _("%(name)s no longer teaches this course.") % {"name": user.username},
            )
    else:
        messages.error(request, _("Unknown action."))
    return redirect("courses:studio_course", slug=course.slug)


@login_required
@require_POST
def studio_course_status(request: HttpRequest, slug: str) -> HttpResponse:
    """Publish, unpublish or archive a course."""
    course = _course_for_editor(request, slug)
    action = request.POST.get("action")
    actions = {
        "publish": (services.course_publish, _("The course is published.")),
        "unpublish": (services.course_unpublish, _("The course is back to draft.")),
        "archive": (services.course_archive, _("The course is archived.")),
    }
    if action not in actions:
        messages.error(request, _("Unknown action."))
        return redirect("courses:studio_course", slug=course.slug)
    service, success = actions[action]
    if (
        action == "publish"
        and request.POST.get("confirm") != "1"
        and course_outline_gaps(course=course)
    ):
        messages.error(
            request,
            _(
                "Some modules or lessons are empty (listed above the Publish button). "
                "Fill them in, or choose Publish anyway."
            ),
        )
        return redirect("courses:studio_course", slug=course.slug)
    try:
        service(course=course)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("courses:studio_course", slug=course.slug)


# Studio: modules, lessons, reordering ------------------------------------------------------------


@login_required
@require_POST
def studio_module_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Append a module to the course."""
    course = _course_for_editor(request, slug)
    form = ModuleForm(request.POST)
    if form.is_valid():
        try:
            services.module_create(course=course, **form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Module added."))
    else:
        messages.error(request, _("A module needs a title."))
    return redirect("courses:studio_course", slug=course.slug)


@login_required
def studio_module_edit(request: HttpRequest, slug: str, module_id: int) -> HttpResponse:
    """Rename a module or change its summary."""
    course = _course_for_editor(request, slug)
    module = get_object_or_404(Module, pk=module_id, course=course)
    form = ModuleForm(
        request.POST or None, initial={"title": module.title, "summary": module.summary}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.module_update(module=module, **form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Module saved."))
            return redirect("courses:studio_course", slug=course.slug)
    return render(
        request,
        "courses/studio/module_form.html",
        {"course": course, "module": module, "form": form},
    )


@login_required
@require_POST
def studio_lesson_create(request: HttpRequest, slug: str, module_id: int) -> HttpResponse:
    """Append a lesson to a module."""
    course = _course_for_editor(request, slug)
    module = get_object_or_404(Module, pk=module_id, course=course)
    form = LessonForm(request.POST, course=course)
    if form.is_valid():
        try:
            lesson = services.lesson_create(
                module=module,
                title=form.cleaned_data["title"],
                estimated_minutes=form.cleaned_data["estimated_minutes"],
                skills=list(form.cleaned_data["skills"]),
            )
        except (ValidationError, ApplicationError) as error:
            messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Lesson added."))
            return redirect("courses:studio_lesson", slug=course.slug, lesson_id=lesson.pk)
    else:
        messages.error(request, _("A lesson needs a title and a number of minutes."))
    return redirect("courses:studio_course", slug=course.slug)


def _reorder_target(course: Course, kind: str, parent_id: int) -> tuple[Any, Any, Any]:
    """(service, parent keyword, rows) for a kind of reorderable item."""
    if kind == "module":
        return services.module_reorder, {"course": course}, Module.objects.filter(course=course)
    if kind == "lesson":
        module = get_object_or_404(Module, pk=parent_id, course=course)
        return services.lesson_reorder, {"module": module}, module.lessons.all()
    if kind == "block":
        lesson = get_object_or_404(Lesson, pk=parent_id, module__course=course)
        return services.lesson_block_reorder, {"lesson": lesson}, lesson.blocks.all()
    raise ApplicationError(_("Unknown kind of item to reorder."))


def _ids(values: list[str]) -> list[int]:
    """Ids posted by the studio; a malformed one is an ApplicationError (a 400 with a message)."""
    try:
        return parse_ids(value for value in values if value != "")
    except ValidationError as error:
        raise ApplicationError(validation_message(error)) from error


@login_required
@require_POST
def studio_reorder(request: HttpRequest, slug: str) -> HttpResponse:
    """Save a new order: the full list of ids (drag and drop) or one item moved up or down."""
    course = _course_for_editor(request, slug)
    kind = request.POST.get("kind", "")
    try:
        parent_id = next(iter(_ids([request.POST.get("parent", "")])), 0)
        service, parent, rows = _reorder_target(course, kind, parent_id)
        current = list(rows.order_by("position").values_list("pk", flat=True))
        if "ids" in request.POST:
            order = _ids(request.POST.getlist("ids"))
        else:
            order = list(current)
            moved = _ids([request.POST.get("move", "")])
            if not moved or moved[0] not in order:
                raise ApplicationError(_("Unknown item to move."))
            index = order.index(moved[0])
            target = index - 1 if request.POST.get("direction") == "up" else index + 1
            if 0 <= target < len(order):
                order[index], order[target] = order[target], order[index]
        keyword = {"module": "module_ids", "lesson": "lesson_ids", "block": "block_ids"}[kind]
        service(**parent, **{keyword: order})
    except ApplicationError as error:
        if request.htmx or request.headers.get("Accept") == "application/json":
            return JsonResponse({"detail": error.message}, status=400)
        messages.error(request, error.message)
    else:
        # The studio script (drag and drop, arrow buttons) shows the answer in place.
        if request.htmx or request.headers.get("Accept") == "application/json":
            return JsonResponse({"detail": _("New order saved."), "ids": order})
        messages.success(request, _("New order saved."))
    back = request.POST.get("next", "")
    if back.startswith("/studio/"):
        return redirect(back)
    return redirect("courses:studio_course", slug=course.slug)


def _block_label(block: LessonBlock) -> str:
    """A block named by its content, not its position (the position changes as it moves)."""
    if block.kind == LessonBlock.Kind.EXERCISE and block.exercise is not None:
        detail = str(block.exercise)
    elif block.kind == LessonBlock.Kind.IMAGE:
        detail = block.alt_text
    elif block.media:
        detail = block.media.name.rsplit("/", 1)[-1]
    else:
        detail = block.body_md
    detail = " ".join(detail.split())
    detail = detail if len(detail) <= 40 else detail[:39] + "…"
    return f"{block.get_kind_display()}: {detail}" if detail else block.get_kind_display()


@login_required
def studio_lesson(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """A lesson's settings and its blocks, with the form that adds a block."""
    course = _course_for_editor(request, slug)
    lesson = get_object_or_404(
        Lesson.objects.select_related("module").prefetch_related("skills"),
        pk=lesson_id,
        module__course=course,
    )
    form = LessonForm(
        request.POST or None,
        course=course,
        initial={
            "title": lesson.title,
            "estimated_minutes": lesson.estimated_minutes,
            "skills": list(lesson.skills.all()),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.lesson_update(
                lesson=lesson,
                title=form.cleaned_data["title"],
                estimated_minutes=form.cleaned_data["estimated_minutes"],
                skills=list(form.cleaned_data["skills"]),
            )
        except (ValidationError, ApplicationError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Lesson saved."))
            return redirect("courses:studio_lesson", slug=course.slug, lesson_id=lesson.pk)
    return render(
        request,
        "courses/studio/lesson.html",
        {
            "course": course,
            "lesson": lesson,
            "form": form,
            "blocks": [(block, _block_label(block)) for block in lesson_blocks(lesson=lesson)],
            "block_form": BlockForm(course=course),
        },
    )


@login_required
def studio_block_create(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """Append a block to a lesson; media files are checked by the upload validators."""
    course = _course_for_editor(request, slug)
    lesson = get_object_or_404(Lesson, pk=lesson_id, module__course=course)
    kind = request.GET.get("kind", "")
    form = BlockForm(
        request.POST or None,
        request.FILES or None,
        course=course,
        initial={"kind": kind} if kind in LessonBlock.Kind.values else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.lesson_block_create(
                lesson=lesson,
                kind=form.cleaned_data["kind"],
                **form.service_fields(editing=False),
            )
        except (ValidationError, ApplicationError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Block added."))
            return redirect("courses:studio_lesson", slug=course.slug, lesson_id=lesson.pk)
    return render(
        request,
        "courses/studio/block_form.html",
        # Not "block": inside {% block %} that name is the template block itself.
        {"course": course, "lesson": lesson, "form": form, "editing_block": None},
    )


@login_required
def studio_block_edit(request: HttpRequest, slug: str, block_id: int) -> HttpResponse:
    """Change a block; an empty file field keeps the stored file."""
    course = _course_for_editor(request, slug)
    block = get_object_or_404(
        LessonBlock.objects.select_related("lesson__module"),
        pk=block_id,
        lesson__module__course=course,
    )
    initial = {
        "kind": block.kind,
        "body_md": block.body_md,
        "transcript": block.transcript,
        "alt_text": block.alt_text,
        "duration_seconds": block.duration_seconds,
        "exercise": block.exercise_id,
    }
    form = BlockForm(request.POST or None, request.FILES or None, course=course, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.lesson_block_update(
                block=block, kind=form.cleaned_data["kind"], **form.service_fields(editing=True)
            )
        except (ValidationError, ApplicationError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Block saved."))
            return redirect("courses:studio_lesson", slug=course.slug, lesson_id=block.lesson_id)
    return render(
        request,
        "courses/studio/block_form.html",
        {"course": course, "lesson": block.lesson, "form": form, "editing_block": block},
    )


# Studio: exercises ------------------------------------------------------------------------------


@login_required
def studio_exercises(request: HttpRequest, slug: str) -> HttpResponse:
    """A course's exercises."""
    course = _course_for_editor(request, slug)
    return render(
        request,
        "courses/studio/exercises.html",
        {"course": course, "exercises": exercise_list_for_course(course=course)},
    )


def _exercise_form_page(
    request: HttpRequest, course: Course, exercise: Exercise | None
) -> HttpResponse:
    if exercise is None:
        initial: dict[str, Any] = {"kind": Exercise.Kind.SINGLE, "tolerance": 0}
        choice_initial: list[dict[str, Any]] = []
    else:
        initial = {
            "title": exercise.title,
            "kind": exercise.kind,
            "prompt_md": exercise.prompt_md,
            "numeric_answer": exercise.numeric_answer,
            "tolerance": exercise.tolerance,
            "accepted_answers": "\n".join(exercise.accepted_answers or []),
            "explanation_md": exercise.explanation_md,
            "max_attempts": exercise.max_attempts,
            "hints": "\n".join(hint.text for hint in exercise.hints.all()),
            "skills": list(exercise.skills.all()),
        }
        choice_initial = [
            {"text": c.text, "is_correct": c.is_correct, "feedback": c.feedback}
            for c in exercise.choices.all()
        ]
    form = ExerciseForm(request.POST or None, course=course, initial=initial)
    formset = ChoiceFormSet(request.POST or None, initial=choice_initial, prefix="choices")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        fields = form.service_fields()
        is_choice = fields["kind"] in (Exercise.Kind.SINGLE, Exercise.Kind.MULTIPLE)
        choices = choices_from_formset(formset) if is_choice else []
        try:
            if exercise is None:
                exercise = services.exercise_create(course=course, choices=choices, **fields)
            else:
                exercise = services.exercise_update(exercise=exercise, choices=choices, **fields)
        except (ValidationError, ApplicationError) as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Exercise saved."))
            return redirect("courses:studio_exercises", slug=course.slug)
    return render(
        request,
        "courses/studio/exercise_form.html",
        {"course": course, "exercise": exercise, "form": form, "formset": formset},
    )


@login_required
def studio_exercise_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Create an exercise of any kind with its choices, hints and skills."""
    return _exercise_form_page(request, _course_for_editor(request, slug), None)


@login_required
def studio_exercise_edit(request: HttpRequest, slug: str, exercise_id: int) -> HttpResponse:
    """Change an exercise."""
    course = _course_for_editor(request, slug)
    exercise = get_object_or_404(
        Exercise.objects.prefetch_related("choices", "hints", "skills"),
        pk=exercise_id,
        course=course,
    )
    return _exercise_form_page(request, course, exercise)


# Studio: skill graph ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphNode:
    id: int
    name: str
    x: int
    y: int


@dataclass(frozen=True)
class GraphEdge:
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class GraphDrawing:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    width: int
    height: int


NODE_WIDTH, NODE_HEIGHT, COLUMN_GAP, ROW_GAP = 170, 36, 60, 18


def skill_graph_layout(*, graph: dict[int, set[int]], names: dict[int, str]) -> GraphDrawing:
    """Columns by topological layer (prerequisites to the left), edges prerequisite -> skill."""
    layer = {
        skill: depth
        for depth, skills in enumerate(
            topological_layers(graph, key=lambda skill: (names.get(skill, ""), skill))
        )
        for skill in skills
    }
    columns: dict[int, list[int]] = {}
    for skill, column in layer.items():
        columns.setdefault(column, []).append(skill)
    positions: dict[int, tuple[int, int]] = {}
    for column, skills in columns.items():
        for row, skill in enumerate(sorted(skills, key=lambda s: names.get(s, ""))):
            positions[skill] = (
                10 + column * (NODE_WIDTH + COLUMN_GAP),
                10 + row * (NODE_HEIGHT + ROW_GAP),
            )
    nodes = [GraphNode(s, names.get(s, ""), x, y) for s, (x, y) in sorted(positions.items())]
    edges = [
        GraphEdge(
            positions[required][0] + NODE_WIDTH,
            positions[required][1] + NODE_HEIGHT // 2,
            positions[skill][0],
            positions[skill][1] + NODE_HEIGHT // 2,
        )
        for skill, requires in sorted(graph.items())
        for required in sorted(requires)
        if required in positions and skill in positions
    ]
    rows = max((len(skills) for skills in columns.values()), default=0)
    return GraphDrawing(
        nodes=nodes,
        edges=edges,
        width=20 + max(len(columns), 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP,
        height=20 + max(rows, 1) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP,
    )


@login_required
def studio_skills(request: HttpRequest, slug: str) -> HttpResponse:
    """Skills and their prerequisite graph: add skills, add and remove prerequisites."""
    course = _course_for_editor(request, slug)
    skill_form = SkillForm()
    prerequisite_form = PrerequisiteForm(course=course)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add_skill":
            skill_form = SkillForm(request.POST)
            if skill_form.is_valid():
                try:
                    services.skill_create(course=course, **skill_form.cleaned_data)
                except (ValidationError, ApplicationError) as error:
                    _form_errors_from(skill_form, error)
                else:
                    messages.success(request, _("Skill added."))
                    return redirect("courses:studio_skills", slug=course.slug)
        elif action in ("add_prerequisite", "remove_prerequisite"):
            prerequisite_form = PrerequisiteForm(request.POST, course=course)
            if prerequisite_form.is_valid():
                skill = prerequisite_form.cleaned_data["skill"]
                requires = prerequisite_form.cleaned_data["requires"]
                try:
                    if action == "add_prerequisite":
                        if skill.prerequisites.filter(pk=requires.pk).exists():
                            raise ApplicationError(
                                _("%(skill)s already requires %(requires)s.")
                                % {"skill": skill.name, "requires": requires.name}
                            )
                        services.skill_prerequisite_add(skill=skill, requires=requires)
                    else:
                        services.skill_prerequisite_remove(skill=skill, requires=requires)
                except (ValidationError, ApplicationError) as error:
                    _form_errors_from(prerequisite_form, error)
                else:
                    messages.success(request, _("Skill graph saved."))
                    return redirect("courses:studio_skills", slug=course.slug)
    skills = list(
        Skill.objects.filter(course=course)
        .order_by("name")
        .prefetch_related(Prefetch("prerequisites", queryset=Skill.objects.order_by("name")))
    )
    names = {skill.pk: skill.name for skill in skills}
    drawing = skill_graph_layout(graph=skill_prerequisite_graph(course=course), names=names)
    return render(
        request,
        "courses/studio/skills.html",
        {
            "course": course,
            "skills": skills,
            "skill_form": skill_form,
            "prerequisite_form": prerequisite_form,
            "drawing": drawing,
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
        },
    )
