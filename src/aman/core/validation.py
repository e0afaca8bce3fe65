"""Pydantic's validation errors in words for the person who typed the value, in their
language: the schemas' structural checks (lengths, required fields, dates, choices) are
Pydantic's own, whose messages are English literals; each is said again here by its error
type and context. A message a schema's validator raised (already through gettext) is kept
as it is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Pydantic's own date and time errors (a schema's custom error types keep their messages).
DATE_ERRORS = frozenset(
    {
        "date_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "datetime_object_invalid",
    }
)


def pydantic_message(error: Mapping[str, Any]) -> str:
    """One Pydantic error (an item of `ValidationError.errors()`) as a translated sentence."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "missing":
        return _("This field is required.")
    if kind in ("string_too_short", "too_short"):
        n = int(ctx.get("min_length", 1))
        if kind == "too_short":
            return ngettext("At least %(n)d item.", "At least %(n)d items.", n) % {"n": n}
        return ngettext("At least %(n)d character.", "At least %(n)d characters.", n) % {"n": n}
    if kind in ("string_too_long", "too_long"):
        n = int(ctx.get("max_length", 0))
        if kind == "too_long":
            return ngettext("At most %(n)d item.", "At most %(n)d items.", n) % {"n": n}
        return ngettext("At most %(n)d character.", "At most %(n)d characters.", n) % {"n": n}
    if kind in DATE_ERRORS:
        return _("Not a date: use the form 1954-03-02.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Yes or no (true or false).")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("A whole number.")
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return _("A number.")
    if kind in ("literal_error", "enum"):
        return _("One of: %(expected)s.") % {"expected": ctx.get("expected", "")}
    if kind in ("string_type",):
        return _("Text is expected.")
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("A list is expected.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("An object with fields is expected.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("At least %(limit)s.") % {"limit": ctx.get("ge", ctx.get("gt", ""))}
    if kind in ("less_than_equal", "less_than"):
        return _("At most %(limit)s.") % {"limit": ctx.get("le", ctx.get("lt", ""))}
    if kind == "string_pattern_mismatch":
        return _("Not in the expected form.")
    return msg
