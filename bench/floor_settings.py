"""Aman's settings with one more URL, `GET /bench/floor`: a view that answers `ok` through
Django and every middleware of Aman, and touches neither the database nor the cache —
the floor under any page's cost, for `bench/intake.py`'s `floor` mode. Not for use
outside the benchmark."""

from aman.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
