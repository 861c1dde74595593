"""Security tests reuse the web pages' classroom (a course, its teacher, an enrolled student)."""

from tests.web.conftest import Classroom, classroom  # noqa: F401 - the fixture, re-exported

__all__ = ["Classroom"]
