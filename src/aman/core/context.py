"""Where the current request came from, for the audit log.

Middleware, the API, Celery tasks and management commands set it; services never take an
IP address as an argument.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    via: str = ""


_origin: ContextVar[Origin] = ContextVar("aman_origin", default=Origin())


def current_origin() -> Origin:
    return _origin.get()


@contextlib.contextmanager
def origin(*, ip: str | None = None, via: str) -> Iterator[None]:
    token = _origin.set(Origin(ip=ip, via=via))
    try:
        yield
    finally:
        _origin.reset(token)
