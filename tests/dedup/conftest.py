from __future__ import annotations

import pytest

from tests.conftest import World
from tests.dedup.test_batch import crowd  # noqa: F401 - the batch tests' crowd of 300
from tests.registry.conftest import family  # noqa: F401 - the registry's family fixture


@pytest.fixture(autouse=True)
def _no_world_pairs(world: World) -> None:
    """The world's two `Сейітов Марат` (one in Iran, one in Iraq) are, rightly, a possible
    duplicate; these tests count only their own pairs."""
    from aman.dedup.models import CandidatePair

    assert CandidatePair.objects.count() == 1
    CandidatePair.objects.all().delete()
