"""A machine-readable zone's problem (`identity.mrz.MrzError`: a field, a code and its
values) in the user's language. The parser is Django-free and words its problems in English
(`identity.mrz.MESSAGES`); the API and the gate say them with gettext here."""

from __future__ import annotations

from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from aman.registry.identity.mrz import MrzError

# A field's name as a label of its own (in the nominative: sentences begin with it, and
# the gate's message ends with it), under its own context: not a model field's name.
FIELDS: dict[str, Any] = {
    "format": pgettext_lazy("MRZ field", "format of the zone"),
    "length": pgettext_lazy("MRZ field", "length of a line"),
    "characters": pgettext_lazy("MRZ field", "characters"),
    "document_code": pgettext_lazy("MRZ field", "document code"),
    "issuing_state": pgettext_lazy("MRZ field", "issuing state"),
    "nationality": pgettext_lazy("MRZ field", "nationality"),
    "name": pgettext_lazy("MRZ field", "name"),
    "sex": pgettext_lazy("MRZ field", "sex"),
    "document_number": pgettext_lazy("MRZ field", "document number"),
    "birth_date": pgettext_lazy("MRZ field", "birth date"),
    "expiry_date": pgettext_lazy("MRZ field", "expiry date"),
    "optional_data": pgettext_lazy("MRZ field", "personal number"),
    "composite": pgettext_lazy("MRZ field", "whole zone (composite check digit)"),
}


def mrz_field_label(field: str) -> str:
    """The zone's field, named in the user's language."""
    label = FIELDS.get(field)
    return str(label) if label is not None else field.replace("_", " ")


def _quoted(value: Any) -> str:
    return f"“{value}”"


def mrz_error_text(exc: MrzError) -> str:
    """What is wrong with the zone, in the user's language, with the likely cause when the
    parser names one (a letter read for a digit, a keyboard layout)."""
    p = exc.params
    field = capfirst(mrz_field_label(exc.field))
    value = _quoted(p.get("value", ""))
    texts = {
        "empty": lambda: _("No machine-readable zone was given."),
        "line_count": lambda: (
            _("%(n)d lines were given; a zone has 2 lines (passport) or 3 (identity card).")
            % {"n": p["lines"]}
        ),
        "line_length": lambda: (
            _("Line %(line)d has %(length)d characters; it should have %(expected)d.") % p
        ),
        "character": lambda: (
            _(
                "Line %(line)d, position %(position)d: %(char)s is not allowed in a zone (only "
                "A–Z, 0–9 and <)."
            )
            % {**p, "char": _quoted(p["char"])}
        ),
        "character_cyrillic": lambda: (
            _(
                "Line %(line)d, position %(position)d: %(char)s is a Cyrillic letter. Is the "
                "scanner typing with a Russian or Kazakh keyboard layout? Switch it to English."
            )
            % {**p, "char": _quoted(p["char"])}
        ),
        "character_filler": lambda: (
            _(
                "Line %(line)d, position %(position)d: %(char)s is not allowed in a zone; it looks "
                "like the filler < read wrongly."
            )
            % {**p, "char": _quoted(p["char"])}
        ),
        "visa": lambda: _("Visa zones are not supported."),
        "document_code_passport": lambda: (
            _("%(value)s is not a passport's document code: it starts with P.") % {"value": value}
        ),
        "document_code_card": lambda: (
            _("%(value)s is not an identity card's document code: it starts with I, A or C.")
            % {"value": value}
        ),
        "letters": lambda: (
            _("%(field)s: %(value)s holds a digit; it is letters only.")
            % {"field": field, "value": value}
        ),
        "name_letters": lambda: (
            _("The name %(value)s holds a digit; names are letters only.") % {"value": value}
        ),
        "sex": lambda: _("%(value)s is not a sex marker (M, F, X or <).") % {"value": value},
        "date_format": lambda: (
            _("%(field)s: %(value)s is not a date YYMMDD.") % {"field": field, "value": value}
        ),
        "date_invalid": lambda: (
            _("%(field)s: %(value)s is not a calendar date (YYMMDD).")
            % {"field": field, "value": value}
        ),
        "check_not_digit": lambda: (
            _("%(field)s: the check digit is %(found)s, not a digit.")
            % {"field": field, "found": _quoted(p["found"])}
        ),
        "check_mismatch": lambda: (
            _(
                "%(field)s: the check digit is %(found)s, but %(data)s gives %(expected)s; a "
                "character is wrong."
            )
            % {
                "field": field,
                "found": p["found"],
                "expected": p["expected"],
                "data": _quoted(p["data"]),
            }
        ),
    }
    make = texts.get(exc.code)
    if make is None:  # a code this module does not know yet: the parser's English
        return exc.message
    text = make()
    hints = []
    for typed, meant in p.get("confusions") or []:
        hints.append(
            _("%(typed)s may be %(meant)s read wrongly.")
            % {"typed": _quoted(typed), "meant": _quoted(meant)}
        )
    if p.get("meant"):
        hints.append(
            _("%(typed)s may be %(meant)s read wrongly.")
            % {"typed": _quoted(p["found"]), "meant": _quoted(p["meant"])}
        )
    fix = p.get("fix")
    if fix:
        hints.append(
            _(
                "It would agree if %(char)s at position %(position)d were %(digit)s (a letter "
                "read for a digit?)."
            )
            % {
                "char": _quoted(fix["char"]),
                "position": fix["position"],
                "digit": _quoted(fix["digit"]),
            }
        )
    return " ".join([text, *hints])
