"""The statuses table of docs/registry.md says what `registry.statuses` allows: every
transition, no more."""

from __future__ import annotations

import re
from pathlib import Path

from aman.registry.statuses import TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "registry.md"
# The table's words for each status (its first column, and the "can go to" column).
NAMES = {
    "registered": "registered",
    "verified": "verified",
    "assigned": "assigned",
    "at the assembly point": "at_assembly_point",
    "boarded": "boarded",
    "accommodated": "accommodated",
    "out of the affected country (safe)": "crossed_border",
    "out of the country": "crossed_border",
    "arrived home": "arrived_home",
    "declined": "declined",
    "staying": "staying",
    "withdrawn": "withdrawn",
}


def _table() -> dict[str, set[str]]:
    section = DOC.read_text(encoding="utf-8").split("## Statuses", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("status", "---"):
            continue
        targets = set()
        if cells[2] != "—":
            # "verified (released)": the words in brackets explain, they are no status.
            for item in re.sub(r"\s*\(.*?\)", "", cells[2]).split(","):
                targets.add(NAMES[item.strip()])
        rows[NAMES[cells[0]]] = targets
    return rows


def test_the_documented_transitions_are_those_allowed() -> None:
    table = _table()
    assert set(table) == set(TRANSITIONS), "every status has its row"
    for status, allowed in TRANSITIONS.items():
        assert table[status] == set(allowed), status
