"""Text a person or a program sends, checked once for what no text field may hold.

Control characters (U+0000–U+001F) are invisible, come from copy-paste or from a program's
bug, and U+0000 (NUL) cannot be stored at all: PostgreSQL refuses it in text columns and in
JSONB strings (SQLite takes it, so only production would fail). Every text the registry
accepts is checked here — the schemas of every channel (`registry.schemas`) and the form
fields that do not go through them — and refused with the field named. A multi-line text
(a note) may hold line breaks and tabs.

What is kept of a refused submission must itself be storable: `storable` replaces NUL in the
texts stored in plain columns (reasons, references) with U+FFFD, the replacement character.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import AfterValidator

# Allowed in a multi-line text: tab, line feed, carriage return (a browser's text area sends
# line breaks as CR LF).
MULTILINE_ALLOWED = frozenset("\t\n\r")
REPLACEMENT = "\ufffd"


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control character of `value` it may not hold, or None."""
    for ch in value:
        if ch < " " and not (multiline and ch in MULTILINE_ALLOWED):
            return ch
    return None


def control_character_message(ch: str) -> str:
    return _("Remove the invisible control character %(char)s from this text.") % {
        "char": f"U+{ord(ch):04X}"
    }


def check_text(value: str, *, multiline: bool = False) -> str:
    """`value` as it is, or ValueError naming the control character it may not hold (the
    schemas' validators raise it; `form_validator` says it as a form error)."""
    ch = control_character(value, multiline=multiline)
    if ch is not None:
        raise ValueError(control_character_message(ch))
    return value


def single_line(value: str) -> str:
    return check_text(value)


# For a schema's single text field (`registry.schemas.Checked` checks a whole schema's).
PlainText = Annotated[str, AfterValidator(single_line)]


def form_validator(*, multiline: bool = False) -> Any:
    """The same check as a Django form field's validator."""
    from django.core.exceptions import ValidationError

    def validate(value: Any) -> None:
        if isinstance(value, str):
            try:
                check_text(value, multiline=multiline)
            except ValueError as exc:
                raise ValidationError(str(exc), code="control_character") from None

    return validate


def storable(value: Any) -> Any:
    """`value` (text, or a JSON value: dicts, lists) with every NUL replaced by U+FFFD, in
    keys too, so that PostgreSQL takes it. For what is kept of a refused submission in
    plain columns (its reasons, its reference): the reasons may quote the value refused."""
    if isinstance(value, str):
        return value.replace("\x00", REPLACEMENT)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value
