"""Shelter's rows of the access matrix (tests/test_access_matrix.py), as keyword dicts of
its `Route`: pages in access_ui.py and access_documents.py, API operations in
access_api.py."""

from __future__ import annotations

from typing import Any

from aman.core.roles import Role

R = Role
EVERY_ROLE = {*Role.values, "superuser"}
# Hotels, blocks, stays, vouchers, the ledger: logistics and the crisis manager.
SHELTER = {R.CRISIS_MANAGER, R.LOGISTICS, "superuser"}
TOKEN_HOLDERS = EVERY_ROLE - {R.OBSERVER}


def shelter_rows(*, api: bool) -> list[dict[str, Any]]:
    from tests.shelter import access_api, access_documents, access_ui

    if api:
        return list(access_api.ROWS)
    return list(access_ui.ROWS) + list(access_documents.ROWS)
