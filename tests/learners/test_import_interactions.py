"""`manage.py import_interactions`: bulk, idempotent, and all-or-nothing on a malformed row."""

import gzip
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from courses.models import Course, Exercise, Skill
from learners.importers import ORDER_EPOCH
from learners.models import Attempt, Enrollment, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# user 1: problem 11 has two skills (rows 3-4 are one attempt); user 2 answers problem 10 twice.
AKT_ROWS = """\
user_id,seq_idx,problem_id,skill_idx,correct,akt_test_fold
1,0,10,1,1,1
1,1,11,1,0,1
1,2,11,2,0,1
1,3,12,2,1,1
2,0,10,1,0,2
2,1,10,1,1,2
"""


def _write(tmp_path, text: str, name: str = "log.csv", *, compress: bool = False):
    path = tmp_path / name
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _import(path, *args: str, source: str = "assist") -> str:
    out, err = StringIO(), StringIO()
    call_command(
        "import_interactions",
        str(path),
        "--format",
        "assistments",
        "--source",
        source,
        *args,
        stdout=out,
        stderr=err,
    )
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Course.objects.count(),
        Skill.objects.count(),
        Exercise.objects.count(),
        Attempt.objects.count(),
        Enrollment.objects.count(),
    )


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_import_creates_users_skills_exercises_and_merged_attempts(tmp_path, compress):
    path = _write(tmp_path, AKT_ROWS, "log.csv.gz" if compress else "log.csv", compress=compress)
    output = _import(path, "--course", "assist-test", "--batch-size", "2")

    course = Course.objects.get(slug="assist-test")
    assert course.owner.role == User.Role.TEACHER
    students = User.objects.filter(username__startswith="assist-").order_by("username")
    assert [(user.username, user.role) for user in students] == [
        ("assist-1", "student"),
        ("assist-2", "student"),
    ]
    assert not any(user.has_usable_password() for user in students)
    assert sorted(Skill.objects.filter(course=course).values_list("external_id", flat=True)) == [
        "1",
        "2",
    ]
    merged = Exercise.objects.get(course=course, external_id="11")
    assert sorted(merged.skills.values_list("external_id", flat=True)) == ["1", "2"]
    assert Exercise.objects.filter(course=course).count() == 3
    attempts = list(
        Attempt.objects.filter(course=course)
        .order_by("user__username", "created_at")
        .values_list("user__username", "exercise__external_id", "is_correct", "external_id")
    )
    assert attempts == [
        ("assist-1", "10", True, "assist:1:0"),
        ("assist-1", "11", False, "assist:1:1"),
        ("assist-1", "12", True, "assist:1:3"),
        ("assist-2", "10", False, "assist:2:0"),
        ("assist-2", "10", True, "assist:2:1"),
    ]
    assert Enrollment.objects.filter(course=course).count() == 2
    assert "5 attempts" in output
    assert set(students.values_list("import_source", flat=True)) == {"assist"}
    # Problem 11 was seen with skills 1 and 2; the report says how exercises were tagged.
    assert (
        "Each exercise is tagged with every skill its problem was seen with in the file: "
        "1 of 3 problems had more than one skill." in output
    )


def test_reimport_adds_nothing(tmp_path):
    path = _write(tmp_path, AKT_ROWS)
    _import(path)
    before = _counts()
    created_at = list(Attempt.objects.order_by("external_id").values_list("created_at", flat=True))

    output = _import(path)

    assert _counts() == before
    assert "0 attempts" in output
    assert (
        list(Attempt.objects.order_by("external_id").values_list("created_at", flat=True))
        == created_at
    )


def test_import_accepts_assistments_column_names_and_skill_names(tmp_path):
    text = (
        "order_id,user_id,problem_id,skill_id,skill_name,correct\n"
        "100,7,55,3,Addition,1\n"
        "100,7,55,4,Subtraction,1\n"
        "101,7,56,3,Addition,0\n"
    )
    _import(_write(tmp_path, text))
    assert sorted(Skill.objects.values_list("external_id", "name")) == [
        ("3", "Addition"),
        ("4", "Subtraction"),
    ]
    assert Attempt.objects.count() == 2
    assert Exercise.objects.get(external_id="55").skills.count() == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (AKT_ROWS.replace("1,3,12,2,1,1", "1,3,12,2,yes,1"), "line 5: correct must be 0 or 1"),
        (AKT_ROWS.replace("2,1,10,1,1,2", "2,first,10,1,1,2"), "line 7: the order (seq_idx)"),
        (AKT_ROWS.replace("1,1,11,1,0,1", "1,1,11,0,1"), "line 3: expected 6 columns, found 5"),
        (AKT_ROWS.replace("1,2,11,2,0,1", "1,2,,2,0,1"), "line 4: the problem id is empty"),
        (AKT_ROWS.replace("user_id,seq_idx,", "user_id,step,"), "line 1: no order column"),
        (AKT_ROWS.replace("2,1,10,1,1,2", "2,0,13,1,1,2"), "line 7: user 2 already has order 0"),
    ],
    ids=["bad-correct", "non-integer-order", "missing-column", "empty-problem", "no-header", "dup"],
)
def test_malformed_row_fails_with_its_line_and_writes_nothing(tmp_path, text, message):
    before = _counts()
    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path, text))
    assert message in str(error.value)
    assert _counts() == before


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        _import(tmp_path / "absent.csv")


def test_unknown_format_is_a_command_error(tmp_path):
    path = _write(tmp_path, AKT_ROWS)
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_interactions", str(path), "--format", "edx")
    assert _counts() == (0, 0, 0, 0, 0, 0)


def test_two_datasets_never_share_a_learner(tmp_path):
    path = _write(tmp_path, AKT_ROWS)
    _import(path, "--course", "kt", source="assist2009")

    _import(path, "--course", "kt", source="assist2015")

    usernames = sorted(User.objects.exclude(import_source="").values_list("username", flat=True))
    assert usernames == ["assist2009-1", "assist2009-2", "assist2015-1", "assist2015-2"]
    per_user = dict(
        Attempt.objects.values_list("user__username").annotate(n=Count("id")).order_by()
    )
    assert per_user == {"assist2009-1": 3, "assist2009-2": 2, "assist2015-1": 3, "assist2015-2": 2}


def test_an_account_of_another_origin_is_refused_and_nothing_is_written(tmp_path):
    # A person signed up with the name an imported learner would get.
    UserFactory(username="assist2009-2")
    before = _counts()

    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path, AKT_ROWS), source="assist2009")

    assert "1 learner(s) of source 'assist2009'" in str(error.value)
    assert "assist2009-2" in str(error.value)
    assert "Choose another --source" in str(error.value)
    assert _counts() == before


@pytest.mark.parametrize("source", ["", "Assist", "a-b", "x" * 17, "assist 2009"])
def test_a_bad_source_name_is_a_command_error(tmp_path, source):
    with pytest.raises(CommandError, match="lowercase letters or digits"):
        _import(_write(tmp_path, AKT_ROWS), source=source)
    assert _counts() == (0, 0, 0, 0, 0, 0)


def test_the_source_is_required(tmp_path):
    with pytest.raises(CommandError, match="--source"):
        call_command(
            "import_interactions", str(_write(tmp_path, AKT_ROWS)), "--format", "assistments"
        )


# The file is streamed: rows are staged a chunk (--batch-size rows) at a time, so these tests use
# chunks of two rows to put a problem after rows that were already staged.


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("2,2,10,1,maybe,2", "line 8: correct must be 0 or 1"),
        ("2,0,14,1,1,2", "line 8: user 2 already has order 0 (line 6)"),
        ("2,99999999999,10,1,1,2", "line 8: the order must be at most 10,000,000,000"),
    ],
    ids=["bad-correct", "repeated-order", "order-too-large"],
)
def test_a_malformed_last_row_after_staged_chunks_writes_nothing(tmp_path, bad_row, message):
    before = _counts()

    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path, AKT_ROWS + bad_row + "\n"), "--batch-size", "2")

    assert message in str(error.value)
    assert _counts() == before
    assert not Course.objects.filter(slug="assistments").exists()


# Learner 1's rows come in two runs, with learner 2's between them.
INTERLEAVED_ROWS = """\
user_id,order_id,problem_id,skill_id,correct
1,0,10,1,1
1,1,11,1,0
2,0,10,1,0
1,2,12,2,1
2,1,11,1,1
"""


def test_interleaved_learners_are_imported_in_file_order(tmp_path):
    _import(_write(tmp_path, INTERLEAVED_ROWS), "--batch-size", "2")

    attempts = list(
        Attempt.objects.order_by("id").values_list(
            "user__username", "exercise__external_id", "is_correct", "external_id"
        )
    )
    assert attempts == [
        ("assist-1", "10", True, "assist:1:0"),
        ("assist-1", "11", False, "assist:1:1"),
        ("assist-2", "10", False, "assist:2:0"),
        ("assist-1", "12", True, "assist:1:2"),
        ("assist-2", "11", True, "assist:2:1"),
    ]
    # Order n is n seconds after the epoch, as the previous importer placed it.
    assert Attempt.objects.get(external_id="assist:1:2").created_at == ORDER_EPOCH + timedelta(
        seconds=2
    )
    assert Enrollment.objects.count() == 2


def test_a_repeated_order_across_a_learners_runs_writes_nothing(tmp_path):
    # Learner 1's second run repeats order 1 of the first run (line 3), far from it.
    text = INTERLEAVED_ROWS + "1,1,13,2,1\n"
    before = _counts()

    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path, text), "--batch-size", "2")

    assert "line 7: user 1 already has order 1 (line 3)" in str(error.value)
    assert _counts() == before


def test_reimport_in_small_chunks_adds_nothing_and_a_longer_file_adds_its_new_rows(tmp_path):
    _import(_write(tmp_path, AKT_ROWS), "--batch-size", "2")
    before = _counts()
    assert before[4] == 5

    again = _import(_write(tmp_path, AKT_ROWS), "--batch-size", "2")
    longer = _import(
        _write(tmp_path, AKT_ROWS + "2,2,12,2,0,2\n", "longer.csv"), "--batch-size", "3"
    )

    assert "0 attempts" in again
    assert "1 attempts" in longer
    assert _counts()[4] == 6
    assert list(Attempt.objects.order_by("id").values_list("external_id", flat=True)) == [
        "assist:1:0",
        "assist:1:1",
        "assist:1:3",
        "assist:2:0",
        "assist:2:1",
        "assist:2:2",
    ]


def test_ids_with_copy_special_characters_are_stored_as_written(tmp_path):
    # Quoted fields may hold a tab or a backslash, which COPY's text format escapes.
    text = 'user_id,order_id,problem_id,skill_id,correct\n7,1,"p\\1",s 1,1\n7,2,"p\t2",s 1,0\n'

    _import(_write(tmp_path, text))

    assert sorted(Exercise.objects.values_list("external_id", flat=True)) == ["p\t2", "p\\1"]
    assert list(Attempt.objects.order_by("id").values_list("exercise__external_id", flat=True)) == [
        "p\\1",
        "p\t2",
    ]
