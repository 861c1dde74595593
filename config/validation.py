"""The one set of validators for raw request input: ids, short texts, JSON bodies.

Every query parameter, path id and hand-parsed form field goes through these, so hostile input
(unicode digits, NUL, huge numbers, deep JSON, long strings) becomes a 400 with a message
instead of an exception deep in the ORM or the database. They raise Django's ValidationError,
which the API's exception handler answers as the JSON error body and the web views show as a
message.

Why not str.isdigit(): it accepts '²' and other unicode digits, which int() then refuses.
"""

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# PostgreSQL's bigint holds 9,223,372,036,854,775,807 (19 digits); 18 digits always fit.
MAX_ID_DIGITS = 18
# re's [0-9] is ASCII only (unlike \d, which matches every unicode decimal digit).
_ASCII_ID = re.compile(rf"[0-9]{{1,{MAX_ID_DIGITS}}}")
MAX_IDS = 1000
MAX_QUERY_TEXT = 200


def _invalid(name: str | None, message: str) -> ValidationError:
    return ValidationError({name: [message]}) if name else ValidationError(message)


def is_ascii_id(raw: Any) -> bool:
    """True when `raw` is a string of 1 to 18 ASCII digits."""
    return isinstance(raw, str) and _ASCII_ID.fullmatch(raw) is not None


def parse_id(raw: Any, *, name: str | None = None) -> int:
    """A positive database id from its text form; anything else is a ValidationError."""
    if not is_ascii_id(raw) or int(raw) == 0:
        raise _invalid(name, _("Must be a positive integer id (ASCII digits, at most 18)."))
    return int(raw)


def optional_id(raw: Any, *, name: str | None = None) -> int | None:
    """`parse_id`, with an absent or empty value meaning no id."""
    if raw is None or raw == "":
        return None
    return parse_id(raw, name=name)


def parse_ids(values: Iterable[Any], *, name: str | None = None, limit: int = MAX_IDS) -> list[int]:
    """A list of ids (a reorder, a selection); one malformed value refuses the whole list."""
    items = list(values)
    if len(items) > limit:
        raise _invalid(name, _("At most %(limit)d ids at once.") % {"limit": limit})
    return [parse_id(item, name=name) for item in items]


def small_count(raw: Any, *, name: str | None = None, maximum: int = 10_000) -> int:
    """A non-negative counter (hints used, a page) from its text form; an empty value is 0."""
    if raw is None or raw == "":
        return 0
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) > maximum:
        raise _invalid(
            name, _("Must be a whole number from 0 to %(maximum)d.") % {"maximum": maximum}
        )
    return int(raw)


def clean_text(raw: Any, *, name: str | None = None, max_length: int = MAX_QUERY_TEXT) -> str:
    """A short free text (a search): NUL refused (PostgreSQL cannot store it), length bounded."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _invalid(name, _("Must be text."))
    if "\x00" in raw:
        raise _invalid(name, _("Null characters are not allowed."))
    if len(raw) > max_length:
        raise _invalid(name, _("At most %(limit)d characters are allowed.") % {"limit": max_length})
    return raw.strip()


def validation_message(error: ValidationError) -> str:
    """One line for a web message from any ValidationError."""
    return "; ".join(error.messages)
