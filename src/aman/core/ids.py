"""Ids typed into forms or sent in requests."""

from __future__ import annotations

import re

_ID = re.compile(r"^[0-9]{1,15}$")


def is_id(value: object) -> bool:
    """ASCII digits only (`"²".isdigit()` is true, and `int()` refuses it) and short enough
    for a database id."""
    return isinstance(value, str) and _ID.match(value) is not None
