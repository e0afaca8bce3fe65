"""Access-matrix rows (see tests/shelter/access.py)."""

from typing import Any

ROWS: list[dict[str, Any]] = []
